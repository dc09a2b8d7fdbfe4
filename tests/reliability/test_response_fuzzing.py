"""Fuzzing how the client reads a response: whatever arrives, the right vectors or an OrqError.

``ResponseReader.read``, what the client runs, turns status, headers and body into vectors or a
typed error, and the retry policy reads the wait from the headers of an error. A server (or a
proxy before it) can send anything: random bytes, random JSON, a payload that is nearly right.
None of it may escape as another exception, and nothing may be taken for a vector that the body
did not declare.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from orq_embeddings import (
    APIStatusError,
    OrqError,
    RedirectError,
    RetryAfterTooLongError,
    RetryPolicy,
)
from orq_embeddings._wire.batching import Batch
from orq_embeddings._wire.decoding import BatchEmbeddings
from orq_embeddings._wire.raw_response import RawResponse
from orq_embeddings._wire.reader import ResponseReader

#: What the client runs on each response: status checked, body decoded, notes attached.
READER = ResponseReader("https://api.orq.ai/v2/router/embeddings", "api.orq.ai")
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- what a server can send --------------------------------------------------------------------

numbers = (
    st.integers()
    | st.integers(min_value=10**300, max_value=10**400)  # beyond any float
    | st.floats()  # NaN and infinities included: Python's json writes and reads them
)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)
header_values = (
    st.text(max_size=40)
    | numbers.map(str)
    | st.datetimes().map(lambda moment: moment.strftime("%a, %d %b %Y %H:%M:%S GMT"))
    | st.integers(min_value=10**18, max_value=10**30).map(
        lambda year: f"Mon, 01 Jan {year} 00:00:00 GMT"
    )
)
headers = st.dictionaries(
    st.sampled_from(
        ["retry-after", "retry-after-ms", "content-type", "x-orq-trace-id", "location", "x-other"]
    ),
    header_values,
    max_size=4,
)
statuses = st.integers(min_value=0, max_value=999)


# -- payloads that are nearly right ------------------------------------------------------------


def _encoded(vector: list[float], as_base64: bool) -> Any:
    if as_base64:
        return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode()
    return vector


@st.composite
def valid_payloads(draw: st.DrawFn) -> tuple[int, dict[str, Any]]:
    """A body that fits a batch of ``size``: items in any order, either encoding per item."""
    size = draw(st.integers(min_value=1, max_value=4))
    width = draw(st.integers(min_value=1, max_value=6))
    finite = st.floats(min_value=-1e3, max_value=1e3, width=32)
    vectors = draw(
        st.lists(st.lists(finite, min_size=width, max_size=width), min_size=size, max_size=size)
    )
    items = [
        {"object": "embedding", "index": index, "embedding": _encoded(vector, draw(st.booleans()))}
        for index, vector in enumerate(vectors)
    ]
    order = draw(st.permutations(range(size)))
    return size, {
        "object": "list",
        "model": "text-embedding-3-small",
        "data": [items[position] for position in order],
        "usage": {"prompt_tokens": size, "total_tokens": size},
    }


def _pick(draw: st.DrawFn, items: list[Any]) -> int:
    return draw(st.integers(min_value=0, max_value=len(items) - 1))


def _drop_item(draw: st.DrawFn, payload: dict[str, Any]) -> None:
    data = payload["data"]
    if isinstance(data, list) and data:
        del data[_pick(draw, data)]


def _repeat_item(draw: st.DrawFn, payload: dict[str, Any]) -> None:
    data = payload["data"]
    if isinstance(data, list) and data:
        data.append(json.loads(json.dumps(data[_pick(draw, data)])))


def _replace_field(draw: st.DrawFn, payload: dict[str, Any]) -> None:
    data = payload["data"]
    if isinstance(data, list) and data and isinstance(item := data[_pick(draw, data)], dict):
        item[draw(st.sampled_from(["index", "embedding"]))] = draw(json_values)


def _delete_field(draw: st.DrawFn, payload: dict[str, Any]) -> None:
    data = payload["data"]
    if isinstance(data, list) and data and isinstance(item := data[_pick(draw, data)], dict):
        item.pop(draw(st.sampled_from(["index", "embedding"])), None)


def _slip_into_vector(draw: st.DrawFn, payload: dict[str, Any]) -> None:
    """Put any JSON value (true, null, a list, NaN, 10**400, ...) among a vector's numbers."""
    data = payload["data"]
    if isinstance(data, list) and data and isinstance(item := data[_pick(draw, data)], dict):
        vector = item.get("embedding")
        if isinstance(vector, list):
            vector.insert(draw(st.integers(min_value=0, max_value=len(vector))), draw(json_values))


def _resize_vector(draw: st.DrawFn, payload: dict[str, Any]) -> None:
    data = payload["data"]
    if isinstance(data, list) and data and isinstance(item := data[_pick(draw, data)], dict):
        vector = item.get("embedding")
        if isinstance(vector, list):
            item["embedding"] = vector[: draw(st.integers(min_value=0, max_value=len(vector)))]


def _replace_data(draw: st.DrawFn, payload: dict[str, Any]) -> None:
    payload["data"] = draw(json_values)


MUTATIONS = [
    _drop_item,
    _repeat_item,
    _replace_field,
    _delete_field,
    _slip_into_vector,
    _resize_vector,
    _replace_data,
]


@st.composite
def near_valid_bodies(draw: st.DrawFn) -> tuple[int, bytes]:
    """A valid payload after a few mutations, serialised, perhaps cut short."""
    size, payload = draw(valid_payloads())
    for mutate in draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=3)):
        mutate(draw, payload)
    body = json.dumps(payload).encode()
    if draw(st.booleans()):
        body = body[: draw(st.integers(min_value=0, max_value=len(body)))]
    return size, body


# -- what may come out -------------------------------------------------------------------------


def _declared_vector(declared: Any) -> np.ndarray:
    """The float32 vector a body declares for one item; fails if the item declares none."""
    if isinstance(declared, str):
        return np.frombuffer(base64.b64decode(declared, validate=True), dtype="<f4")
    assert isinstance(declared, list)
    # bool is an int to Python, but JSON's true is not a number.
    assert all(type(value) in (int, float) for value in declared), declared
    return np.asarray(declared, dtype=np.float64).astype(np.float32)


def assert_is_exactly_what_the_body_declares(result: BatchEmbeddings, body: bytes, size: int):
    data = json.loads(body)["data"]
    assert isinstance(data, list)
    assert len(data) == size
    assert sorted(item["index"] for item in data) == list(range(size))
    assert all(type(item["index"]) is int for item in data)
    for item in data:
        assert np.array_equal(result.vectors[item["index"]], _declared_vector(item["embedding"]))
    assert result.vectors.shape[0] == size
    assert np.isfinite(result.vectors).all()


def read(
    status: int, headers: dict[str, str], body: bytes, size: int
) -> BatchEmbeddings | OrqError:
    try:
        return READER.read(RawResponse(status, headers, body), Batch(0, 1, 0, size))
    except OrqError as error:
        return error


# -- the properties ----------------------------------------------------------------------------


@FUZZ
@given(payload=valid_payloads())
def test_a_valid_body_in_any_order_and_encoding_is_read_as_exactly_its_vectors(payload):
    size, declared = payload
    body = json.dumps(declared).encode()

    result = read(200, {}, body, size)

    assert isinstance(result, BatchEmbeddings)
    assert_is_exactly_what_the_body_declares(result, body, size)


@FUZZ
@given(mutated=near_valid_bodies())
@example(mutated=(1, b'{"data": [{"index": 0, "embedding": [1.0, true]}]}'))
@example(mutated=(1, b'{"data": [{"index": 0, "embedding": [[1.0], 2.0]}]}'))
@example(mutated=(1, b'{"data": [{"index": 0, "embedding": [1e999]}]}'))
@example(mutated=(1, b'{"data": [{"index": 0, "embedding": [%s]}]}' % (b"9" * 400)))
def test_a_near_valid_body_is_read_as_exactly_its_vectors_or_refused(mutated):
    size, body = mutated

    result = read(200, {}, body, size)

    if isinstance(result, BatchEmbeddings):
        assert_is_exactly_what_the_body_declares(result, body, size)


@FUZZ
@given(
    status=statuses,
    headers=headers,
    body=st.binary(max_size=300) | json_values.map(lambda value: json.dumps(value).encode()),
    size=st.integers(min_value=1, max_value=4),
)
def test_any_status_headers_and_body_end_in_vectors_or_a_typed_error(status, headers, body, size):
    result = read(status, headers, body, size)

    if isinstance(result, BatchEmbeddings):
        assert 200 <= status < 300
        assert_is_exactly_what_the_body_declares(result, body, size)
    elif 300 <= status < 400:
        assert isinstance(result, RedirectError)
    elif not 200 <= status < 300:
        assert isinstance(result, APIStatusError)
        assert result.status_code == status


@FUZZ
@given(
    status=st.sampled_from([408, 409, 429, 500, 502, 503, 504, 529]),
    headers=headers,
    attempt=st.integers(min_value=1, max_value=3),
)
@example(
    status=429, headers={"retry-after": "Mon, 01 Jan 99999999999999999999 00:00:00 GMT"}, attempt=1
)
def test_any_retryable_error_gets_a_finite_wait_within_the_caps(status, headers, attempt):
    policy = RetryPolicy(max_retries=3, random=lambda: 0.5)
    error = read(status, headers, b"", size=1)
    assert isinstance(error, APIStatusError)

    decision = policy.decide(attempt, error)

    if decision.delay is None:
        # Only a wait asked beyond max_retry_after is refused: raised at once, never slept.
        if status == 429:
            assert isinstance(decision.error, RetryAfterTooLongError)
            assert decision.error.retry_after > policy.max_retry_after
        else:
            assert any("not retried: Retry-After" in note for note in error.__notes__)
        return
    assert math.isfinite(decision.delay)
    assert 0 <= decision.delay <= max(policy.max_retry_after, policy.max_delay)


@pytest.mark.parametrize("status", [200, 502])
def test_a_body_nested_too_deep_to_parse_is_a_typed_error(status):
    depth = 100_000
    body = b'{"data": ' + b"[" * depth + b"]" * depth + b"}"

    result = read(status, {}, body, size=1)

    assert isinstance(result, OrqError)
    assert "nested too deeply" in str(result)
