"""The client's call shapes and lifecycles: numpy and streamed output, copies, threads, loops."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from orq_embeddings import OrqEmbeddingsClient
from tests.support.scripted_server import after, embedding_reply, vector_for

TEXTS = [f"document {i}" for i in range(50)]


def test_embed_numpy_returns_one_float32_array_in_input_order(make_client):
    array = make_client(batch_size=7).embed_numpy(TEXTS)
    assert array.dtype == np.float32
    assert array.shape == (50, 8)
    np.testing.assert_array_equal(array, np.asarray([vector_for(t) for t in TEXTS], np.float32))


async def test_aembed_numpy_matches_embed_numpy(make_client):
    client = make_client(batch_size=7)
    np.testing.assert_array_equal(await client.aembed_numpy(TEXTS), client.embed_numpy(TEXTS))


def test_embed_numpy_of_nothing_is_an_empty_array_of_the_asked_width(make_client, server):
    assert make_client(dimensions=64).embed_numpy([]).shape == (0, 64)
    assert server.requests == []


def test_iter_batches_streams_consecutive_batches(make_client):
    starts = [
        embedded.report.batch.start for embedded in make_client(batch_size=10).iter_batches(TEXTS)
    ]
    assert starts == [0, 10, 20, 30, 40]


def test_iter_batches_keeps_a_bounded_number_of_batches_ahead(make_client, server):
    stream = make_client(batch_size=1, max_concurrency=2).iter_batches(TEXTS)
    next(stream)
    threading.Event().wait(0.3)  # give the pool time to run ahead as far as it would
    # Two slots keep 2 x 2 batches submitted; consuming the first let one more in.
    assert len(server.requests) == 5
    stream.close()


async def test_aiter_batches_streams_in_order(make_client):
    starts = [
        embedded.report.batch.start
        async for embedded in make_client(batch_size=10).aiter_batches(TEXTS)
    ]
    assert starts == [0, 10, 20, 30, 40]


def test_embed_one_returns_a_single_vector(make_client):
    assert make_client().embed_one("query") == vector_for("query")


async def test_aembed_one_returns_a_single_vector(make_client):
    assert await make_client().aembed_one("query") == vector_for("query")


def test_with_options_changes_the_body_and_shares_connections(make_client, server):
    base = make_client(orq={"name": "search", "cache": {"ttl": 60}})
    tenant = base.with_options(orq={"identity": {"id": "tenant-7"}}, user="u-7")
    tenant.embed(["a"])
    base.embed(["a"])
    tenant_body, base_body = server.bodies()
    assert tenant_body["orq"] == {"identity": {"id": "tenant-7"}}
    assert tenant_body["name"] == "search" and tenant_body["user"] == "u-7"
    assert "orq" not in base_body and "user" not in base_body
    assert tenant._resources is base._resources


def test_with_options_validates_what_it_is_given(make_client):
    with pytest.raises(ValueError, match="cache.ttl"):
        make_client().with_options(orq={"cache": {"ttl": 0}})


def test_threads_share_one_in_flight_limit(make_client, server):
    server.default = after(0.01, embedding_reply())
    client = make_client(batch_size=2, max_concurrency=3)
    failures: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(5):
                assert client.embed(TEXTS[:6]).vectors == [vector_for(t) for t in TEXTS[:6]]
        except BaseException as error:  # collected for the main thread to report
            failures.append(error)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert server.peak_in_flight == 3


async def test_concurrent_async_calls_share_one_in_flight_limit(make_client, server):
    server.default = after(0.01, embedding_reply())
    client = make_client(max_concurrency=4)
    vectors = await asyncio.gather(*(client.aembed_one(t) for t in TEXTS))
    assert vectors == [vector_for(t) for t in TEXTS]
    assert server.peak_in_flight == 4


def test_async_calls_work_on_fresh_loops_in_other_threads(make_client):
    client = make_client(batch_size=5)
    results: list[list[list[float]]] = []

    def run_on_a_fresh_loop() -> None:
        results.append(asyncio.run(client.aembed(TEXTS)).vectors)

    for _ in range(2):  # one after the other: each loop gets, and closes, its own connections
        thread = threading.Thread(target=run_on_a_fresh_loop)
        thread.start()
        thread.join()
    threads = [threading.Thread(target=run_on_a_fresh_loop) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [[vector_for(t) for t in TEXTS]] * 5


def test_a_loops_connections_are_closed_when_the_loop_shuts_down(make_client, server):
    client = make_client()
    asyncio.run(client.aembed(["a"]))
    assert server.open_connections() == 0


async def test_aclose_closes_the_running_loops_connections(make_client, server):
    client = make_client()
    await client.aembed(["a"])
    await client.aclose()
    assert server.open_connections() == 0
    assert (await client.aembed(["b"])).vectors == [vector_for("b")]


def test_a_closed_client_can_be_used_again(make_client):
    client = make_client(batch_size=10)
    client.embed(TEXTS)
    client.close()
    assert client.embed(TEXTS[:3]).vectors == [vector_for(t) for t in TEXTS[:3]]


def test_context_managers_close_the_client(server):
    with OrqEmbeddingsClient("m", base_url=server.base_url) as client:
        client.embed(["a"])
        assert server.open_connections(settle=0) == 1
    assert server.open_connections() == 0
