"""Batches refused for their size are split in half until they fit, and the size that fit is
remembered; an input too long for the model is a typed error naming it. Over real sockets: the
local gateway playing an Azure deployment (16 inputs a request), and the scripted server."""

from __future__ import annotations

import asyncio
import json
import logging

import numpy as np
import pytest

from orq_embeddings import BatchTooLargeError, InputTooLongError, OrqEmbeddingsClient
from orq_embeddings.errors import BadRequestError
from orq_embeddings.gateway import GatewayConfig
from tests.support.scripted_server import Recorded, embedding_payload, reply_with, vector_for
from tests.support.surfaces import HASHING_64, KEY, MODEL, Call, core_client

LIMIT = 16
TEXTS = [f"passage number {n}" for n in range(100)]


@pytest.fixture
def orq_gateway_config() -> GatewayConfig:
    """An orq gateway whose provider takes at most 16 inputs a request, as Azure does."""
    return GatewayConfig(api_key=KEY, models=(HASHING_64,), max_inputs_per_request=LIMIT)


def _sizes(gateway) -> list[tuple[int, int]]:
    """(inputs, status) of every request the gateway saw, in order."""
    return [(len(json.loads(record.body)["input"]), record.status) for record in gateway.requests()]


def test_a_refused_batch_is_split_until_it_fits_on_every_surface(surface, orq_gateway, reference):
    call = Call(orq_gateway.base_url, batch_size=100, max_concurrency=2)

    vectors = surface.embed(call, TEXTS)

    assert vectors == [reference.vector(text) for text in TEXTS]
    served = [size for size, status in _sizes(orq_gateway) if status == 200]
    assert sum(served) == len(TEXTS)
    assert max(served) <= LIMIT


def test_later_calls_start_at_the_learned_size_shared_by_copies(orq_gateway, reference, caplog):
    caplog.set_level(logging.INFO, logger="orq_embeddings")
    with core_client(Call(orq_gateway.base_url, batch_size=100, max_concurrency=1)) as client:
        first = client.embed(TEXTS)
        learned = {report.batch_limit for report in first.reports}
        refused_before = len(orq_gateway.requests())
        later = client.with_options(user="another-tenant").embed(TEXTS)

    assert first.vectors == later.vectors == [reference.vector(text) for text in TEXTS]
    assert len(learned) == 1 and (limit := learned.pop()) is not None and limit <= LIMIT
    assert all(report.split for report in first.reports)
    assert not any(report.split for report in later.reports)
    assert {report.batch_limit for report in later.reports} == {limit}
    later_requests = _sizes(orq_gateway)[refused_before:]
    assert all(status == 200 and size <= limit for size, status in later_requests)
    assert [report.batch.size for report in later.reports] == [
        min(limit, 100 - start) for start in range(0, 100, limit)
    ]
    assert [report.attempts for report in first.reports] == [1] * len(first.reports)
    learned_lines = [r for r in caplog.records if "learned a batch limit" in r.getMessage()]
    assert [(r.levelno, r.name) for r in learned_lines] == [(logging.INFO, "orq_embeddings")]
    assert f"{limit} inputs per request" in learned_lines[0].getMessage()


def test_a_batch_that_fits_is_not_reported_split(orq_gateway):
    with core_client(Call(orq_gateway.base_url, batch_size=LIMIT)) as client:
        result = client.embed(TEXTS[:LIMIT])

    assert [(r.split, r.batch_limit) for r in result.reports] == [(False, None)]
    assert _sizes(orq_gateway) == [(LIMIT, 200)]


def _refuse_over(limit: int, status: int, message: str, unless_without: str = ""):
    """Refuse each request of more than ``limit`` inputs (and containing ``unless_without``)."""

    def make(request: Recorded):
        inputs = request.json()["input"]
        if len(inputs) > limit and (not unless_without or unless_without in inputs):
            return status, {"error": {"message": message, "code": "invalid_request_body"}}, {}
        return 200, embedding_payload(request), {}

    return reply_with(make)


def _scripted_client(server, **settings) -> OrqEmbeddingsClient:
    return OrqEmbeddingsClient(MODEL, base_url=server.base_url, api_key=KEY, **settings)


def _assert_vectors_in_place(vectors, texts) -> None:
    expected = np.array([vector_for(text) for text in texts], dtype=np.float32)
    np.testing.assert_allclose(np.array(vectors, dtype=np.float32), expected, rtol=1e-6)


def test_a_413_splits_the_batch_sync_and_async(server):
    server.default = _refuse_over(6, 413, "Payload Too Large")
    texts = [f"text {n}" for n in range(20)]

    with _scripted_client(server, batch_size=20, max_concurrency=1) as client:
        result = client.embed(texts)
    with _scripted_client(server, batch_size=20, max_concurrency=3) as fresh:
        array = asyncio.run(fresh.aembed_numpy(texts))

    _assert_vectors_in_place(result.vectors, texts)
    _assert_vectors_in_place(array, texts)
    assert {report.batch_limit for report in result.reports} == {5}
    assert [r.batch.size for r in result.reports] == [5, 5, 5, 5]


def test_a_single_input_refused_for_size_is_a_typed_error(server):
    server.default = _refuse_over(0, 400, "Too many tokens in the request")

    with (
        _scripted_client(server, batch_size=4) as client,
        pytest.raises(BatchTooLargeError) as caught,
    ):
        client.embed(["a", "b", "c", "d"])

    assert isinstance(caught.value, BadRequestError)
    assert caught.value.position == 0
    assert "input 0 was refused for its size even alone" in str(caught.value)
    assert [len(body["input"]) for body in server.bodies()] == [4, 2, 1]


@pytest.mark.parametrize(
    ("message", "position"),
    [
        ("This model's maximum context length is 8192 tokens; input[2] is too long", 5),
        ("Input length exceeds the context length at index 1", 4),
        ("This model's maximum context length is 8192 tokens", None),
    ],
)
def test_a_context_length_400_is_not_split_and_names_the_input(server, message, position):
    server.default = _refuse_over(0, 400, message, unless_without="text 5")
    texts = [f"text {n}" for n in range(6)]

    with (
        _scripted_client(server, batch_size=3) as client,
        pytest.raises(InputTooLongError) as caught,
    ):
        client.embed(texts)

    error = caught.value
    assert isinstance(error, BadRequestError)
    assert (error.position, error.first, error.last) == (position, 3, 5)
    assert (
        f"input {position} is too long" if position is not None else "one of inputs 3-5"
    ) in str(error)
    assert [len(body["input"]) for body in server.bodies()] == [3, 3]


def test_another_400_is_neither_split_nor_retried(server):
    server.default = _refuse_over(1, 400, "dimensions must be at most 64")

    with _scripted_client(server, batch_size=4) as client, pytest.raises(BadRequestError) as caught:
        client.embed(["a", "b", "c", "d"])

    assert type(caught.value) is BadRequestError
    assert len(server.requests) == 1
