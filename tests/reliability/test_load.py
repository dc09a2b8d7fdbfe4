"""Load on loopback, bounded: every result right, concurrency within its limit, nothing leaked.

Two loads, each run once per session by a fixture that measures it, then checked one property
per test: 2,000 concurrent ``aembed_query`` calls on one LangChain ``OrqEmbeddings``, and 8
threads each making 200 ``embed_documents`` calls on another.

The gateway runs in a child process, so that the descriptors and memory measured are the
client's alone and the gateway does not compete with it for the GIL. Every answer takes a few
milliseconds (a latency fault), so requests overlap: the client's concurrency limit is reached,
and the gateway's peak in flight shows it is never passed.
"""

from __future__ import annotations

import asyncio
import gc
import math
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import psutil
import pytest

from langchain_orq import OrqEmbeddings
from orq_embeddings.gateway import GatewayConfig, LocalGateway, ResponseFault
from tests.support.stage import Reference
from tests.support.surfaces import HASHING_64, KEY, Call, langchain_embeddings

LATENCY_MS = 2
#: Distinct texts the calls draw from; every result is checked against its own text's vector.
TEXT_POOL = [f"passage {i}: {'ünïcödé ' * (i % 3)}{'long ' * (i % 50)}end" for i in range(500)]
#: Python objects (pymalloc blocks) a load may leave alive once its client is closed: lazily
#: filled caches of the standard library, httpx and urllib3 (URL parsing, regexes, logging's
#: per-logger levels). A leak worth finding leaves far more: one object kept per call is 2,000;
#: keeping the results is over 100,000. Blocks are counted rather than RSS because the
#: allocator keeps freed pages, so RSS never "returns", and rather than tracemalloc because
#: tracing every allocation makes the loads four times slower.
OBJECT_TOLERANCE = 1_000

Calls = list[tuple[list[str], list[list[float]]]]


@dataclass(frozen=True)
class Footprint:
    """What this process holds: open file descriptors, and live Python objects."""

    descriptors: int
    objects: int

    @classmethod
    def now(cls) -> Footprint:
        gc.collect()
        return cls(psutil.Process().num_fds(), sys.getallocatedblocks())


@dataclass(frozen=True)
class LoadRun:
    """A load, measured: what came back, what the gateway saw, and what stayed behind."""

    calls: int
    misplaced: list[int]
    requests: int
    peak_in_flight: int
    max_concurrency: int
    before: Footprint
    after: Footprint


def measured(
    gateway: LocalGateway,
    reference: Reference,
    make: Callable[[], OrqEmbeddings],
    load: Callable[[OrqEmbeddings, int], Calls],
    size: int,
) -> LoadRun:
    """Warm up, then run ``load`` on a fresh client and close it, measuring around it."""
    reference.vectors(TEXT_POOL)
    warm = make()
    load(warm, 10)  # first use of each code path: lazy imports, module-level caches
    warm.client.close()
    gateway.reset()
    gateway.inject(ResponseFault(latency_ms=LATENCY_MS))
    before = Footprint.now()

    embeddings = make()
    max_concurrency = embeddings.max_concurrency
    calls = load(embeddings, size)
    embeddings.client.close()
    del embeddings

    misplaced = [
        number
        for number, (texts, vectors) in enumerate(calls)
        if vectors != reference.vectors(texts)
    ]
    counters = gateway.counters()
    made = len(calls)
    del calls
    return LoadRun(
        made,
        misplaced,
        counters.requests,
        counters.peak_in_flight,
        max_concurrency,
        before,
        Footprint.now(),
    )


@pytest.fixture(scope="module")
def gateway() -> Iterator[LocalGateway]:
    config = GatewayConfig(api_key=KEY, models=(HASHING_64,), request_log_size=0)
    with LocalGateway(config, separate_process=True) as running:
        yield running


# -- 2,000 concurrent aembed_query calls on one client -------------------------------------------


def _concurrent_queries(embeddings: OrqEmbeddings, count: int) -> Calls:
    texts = [TEXT_POOL[number % len(TEXT_POOL)] for number in range(count)]

    async def query_all() -> list[list[float]]:
        return await asyncio.gather(*(embeddings.aembed_query(text) for text in texts))

    vectors = asyncio.run(query_all())
    return [([text], [vector]) for text, vector in zip(texts, vectors, strict=True)]


@pytest.fixture(scope="module")
def queries(gateway, reference) -> LoadRun:
    def make() -> OrqEmbeddings:
        return langchain_embeddings(Call(base_url=gateway.base_url, max_concurrency=8))

    return measured(gateway, reference, make, _concurrent_queries, 2_000)


def test_2000_concurrent_queries_each_get_their_own_texts_vector(queries):
    assert queries.calls == 2_000
    assert queries.misplaced == []
    assert queries.requests == 2_000


def test_2000_concurrent_queries_never_have_more_than_max_concurrency_in_flight(queries):
    assert queries.peak_in_flight == queries.max_concurrency


def test_2000_concurrent_queries_leave_no_descriptor_open_once_closed(queries):
    assert queries.after.descriptors <= queries.before.descriptors


def test_2000_concurrent_queries_leave_no_objects_alive_once_closed(queries):
    assert queries.after.objects - queries.before.objects < OBJECT_TOLERANCE


# -- 8 threads, each making 200 embed_documents calls on one client ------------------------------

THREADS = 8
CALLS_PER_THREAD = 200
BATCH_SIZE = 2
#: Texts per call, in turn: one batch (sent from the calling thread) or two (sent from the
#: client's thread pool), so that both paths share the one limit on requests in flight.
TEXTS_PER_CALL = (1, 2, 3)
REQUESTS = THREADS * sum(
    math.ceil(TEXTS_PER_CALL[call % len(TEXTS_PER_CALL)] / BATCH_SIZE)
    for call in range(CALLS_PER_THREAD)
)


def _threads_embedding_documents(embeddings: OrqEmbeddings, calls_per_thread: int) -> Calls:
    done: list[Calls] = [[] for _ in range(THREADS)]
    start_together = threading.Barrier(THREADS)

    def work(thread: int) -> None:
        start_together.wait()
        for call in range(calls_per_thread):
            first = (thread * calls_per_thread + call) * max(TEXTS_PER_CALL)
            size = TEXTS_PER_CALL[call % len(TEXTS_PER_CALL)]
            texts = [TEXT_POOL[(first + k) % len(TEXT_POOL)] for k in range(size)]
            done[thread].append((texts, embeddings.embed_documents(texts)))

    workers = [threading.Thread(target=work, args=(thread,)) for thread in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return [call for calls in done for call in calls]


@pytest.fixture(scope="module")
def documents(gateway, reference) -> LoadRun:
    def make() -> OrqEmbeddings:
        return langchain_embeddings(
            Call(base_url=gateway.base_url, max_concurrency=4, batch_size=BATCH_SIZE)
        )

    return measured(gateway, reference, make, _threads_embedding_documents, CALLS_PER_THREAD)


def test_8_threads_of_200_calls_each_get_every_texts_own_vector_in_order(documents):
    assert documents.calls == THREADS * CALLS_PER_THREAD
    assert documents.misplaced == []
    assert documents.requests == REQUESTS


def test_8_threads_of_200_calls_never_have_more_than_max_concurrency_in_flight(documents):
    assert documents.peak_in_flight == documents.max_concurrency


def test_8_threads_of_200_calls_leave_no_descriptor_open_once_closed(documents):
    assert documents.after.descriptors <= documents.before.descriptors


def test_8_threads_of_200_calls_leave_no_objects_alive_once_closed(documents):
    assert documents.after.objects - documents.before.objects < OBJECT_TOLERANCE
