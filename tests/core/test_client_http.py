"""The client against a scripted server on 127.0.0.1: order, batching, limits, retries, errors.

Each behaviour is checked through the sync and the async call (the ``embed`` fixture), because
they must behave the same.
"""

from __future__ import annotations

import gzip
import json
import logging
import time
import zlib

import pytest

from orq_embeddings import (
    AuthenticationError,
    BadRequestError,
    InvalidInputError,
    InvalidResponseError,
    MixedModelsWarning,
    OrqConnectionError,
    OrqTimeoutError,
    RateLimitError,
    RedirectError,
    ServerError,
)
from tests.support.leaks import FAKE_KEY
from tests.support.scripted_server import (
    after,
    drip,
    drop,
    embedding_payload,
    embedding_reply,
    reply,
    reply_with,
    reset_mid_body,
    vector_for,
)

TEXTS = [f"passage number {i}" for i in range(23)]
EXPECTED = [vector_for(text) for text in TEXTS]


def test_vectors_come_back_in_input_order_across_batches(make_client, server, embed):
    result = embed(make_client(batch_size=4, max_concurrency=3), TEXTS)
    assert result.vectors == EXPECTED
    assert sorted(len(body["input"]) for body in server.bodies()) == [3, 4, 4, 4, 4, 4]
    assert [report.batch.start for report in result.reports] == [0, 4, 8, 12, 16, 20]


def test_batches_are_cut_by_size_budget_too(make_client, server, embed):
    texts = ["x" * 40, "y" * 40, "z" * 40, "w" * 10]
    embed(make_client(batch_size=100, max_batch_bytes=90), texts)
    assert sorted(len(body["input"]) for body in server.bodies()) == [2, 2]


def test_an_empty_list_sends_nothing(make_client, server, embed):
    result = embed(make_client(), [])
    assert result.vectors == []
    assert server.requests == []


def test_bad_inputs_are_refused_before_anything_is_sent(make_client, server, embed):
    with pytest.raises(InvalidInputError, match="positions 1, 3"):
        embed(make_client(batch_size=1), ["ok", "", "ok", None])
    assert server.requests == []


def test_token_ids_are_embedded_like_text(make_client, server, embed):
    result = embed(make_client(), [[1, 2, 3], "text"])
    assert result.vectors == [vector_for([1, 2, 3]), vector_for("text")]
    assert server.bodies()[0]["input"] == [[1, 2, 3], "text"]


def test_never_more_requests_in_flight_than_max_concurrency(make_client, server, embed):
    server.default = after(0.03, embedding_reply())
    result = embed(make_client(batch_size=1, max_concurrency=3), TEXTS)
    assert result.vectors == EXPECTED
    assert server.peak_in_flight == 3


def test_requests_base64_by_default_and_float_when_asked(make_client, server, embed):
    embed(make_client(), ["a"])
    embed(make_client(encoding_format="float"), ["a"])
    assert [body["encoding_format"] for body in server.bodies()] == ["base64", "float"]


def test_sends_the_key_as_a_bearer_token_and_no_header_without_one(make_client, server, embed):
    embed(make_client(api_key="sk-test-123"), ["a"])
    embed(make_client(api_key=None), ["a"])
    assert server.requests[0].headers["authorization"] == "Bearer sk-test-123"
    assert "authorization" not in server.requests[1].headers


def test_default_headers_are_sent(make_client, server, embed):
    embed(make_client(default_headers={"X-ORQ-IDENTITY-ID": "u-9"}), ["a"])
    assert server.requests[0].headers["x-orq-identity-id"] == "u-9"


def test_the_orq_options_reach_the_wire_in_the_dialect_of_the_base_url(make_client, server, embed):
    options = {"name": "ingest", "identity": {"id": "u-1"}, "cache": {"ttl": 60}}
    embed(make_client(orq=options), ["a"])
    embed(make_client(orq=options, base_url=f"{server.origin}/v2/gateway"), ["a"])
    router, gateway = server.requests
    assert router.path == "/v2/router/embeddings"
    assert router.json()["orq"] == {"identity": {"id": "u-1"}}
    assert router.json()["cache"] == {"type": "exact_match", "ttl": 60}
    assert gateway.path == "/v2/gateway/embeddings"
    assert gateway.json()["orq"] == {
        "name": "ingest",
        "contact": {"id": "u-1"},
        "cache": {"type": "exact_match", "ttl": 60},
    }


# -- retries ---------------------------------------------------------------------------------


def rate_limited(**headers):
    return reply(429, {"error": {"code": "rate_limit_exceeded", "message": "slow down"}}, headers)


def test_retries_429_after_retry_after_seconds(make_client, server, waits, embed):
    server.push(rate_limited(**{"Retry-After": "2"}))
    result = embed(make_client(), ["a"])
    assert result.vectors == [vector_for("a")]
    assert waits == [2.0]
    assert result.reports[0].attempts == 2


def test_retries_429_after_retry_after_ms(make_client, server, waits, embed):
    server.push(rate_limited(**{"retry-after-ms": "150"}))
    embed(make_client(), ["a"])
    assert waits == [0.15]


def test_backs_off_exponentially_when_the_server_names_no_wait(make_client, server, waits, embed):
    server.push(reply(503), reply(502), reply(500))
    result = embed(make_client(max_retries=3), ["a"])
    assert waits == [0.4375, 0.875, 1.75]
    assert result.reports[0].attempts == 4


def test_gives_up_after_max_retries_with_the_last_error(make_client, server, waits, embed):
    server.push(rate_limited(), rate_limited(), rate_limited())
    with pytest.raises(RateLimitError) as caught:
        embed(make_client(max_retries=2), ["a"])
    assert len(server.requests) == 3
    assert waits == [0.4375, 0.875]
    assert caught.value.code == "rate_limit_exceeded"


@pytest.mark.parametrize(
    ("status", "error_class"), [(400, BadRequestError), (401, AuthenticationError)]
)
def test_never_retries_other_client_errors(make_client, server, waits, embed, status, error_class):
    server.push(reply(status, {"error": {"code": "nope", "message": "no"}}))
    with pytest.raises(error_class):
        embed(make_client(), ["a"])
    assert len(server.requests) == 1
    assert waits == []


def test_retries_a_connection_closed_without_an_answer(make_client, server, waits, embed):
    server.push(drop())
    assert embed(make_client(), ["a"]).vectors == [vector_for("a")]
    assert len(waits) == 1


def test_retries_a_connection_reset_mid_body(make_client, server, waits, embed):
    server.push(reset_mid_body())
    assert embed(make_client(), ["a"]).vectors == [vector_for("a")]
    assert len(waits) == 1


def test_a_refused_connection_is_a_connection_error_after_retries(make_client, waits, embed):
    client = make_client(base_url="http://127.0.0.1:9/v2/router")
    with pytest.raises(OrqConnectionError, match=r"127\.0\.0\.1:9 failed"):
        embed(client, ["a"])
    assert len(waits) == 2


def test_a_slow_server_is_a_timeout_within_the_timeout(make_client, server, embed):
    server.push(after(2.0, embedding_reply()))
    started = time.monotonic()
    with pytest.raises(OrqTimeoutError, match="within 0.3 s"):
        embed(make_client(timeout=0.3, max_retries=0), ["a"])
    assert time.monotonic() - started < 1.5


def test_a_dripping_body_is_a_timeout_within_the_timeout(make_client, server, embed):
    server.push(drip(b'{"data": []}' * 20, every=0.02))
    started = time.monotonic()
    with pytest.raises(OrqTimeoutError):
        embed(make_client(timeout=0.5, max_retries=0), ["a"])
    assert time.monotonic() - started < 1.5


def test_a_redirect_is_not_followed(make_client, server, embed):
    server.push(reply(307, b"", {"Location": "https://attacker.example/v2/router/embeddings"}))
    with pytest.raises(RedirectError, match="attacker.example"):
        embed(make_client(api_key="sk-secret"), ["a"])
    assert len(server.requests) == 1


# -- responses that cannot be trusted --------------------------------------------------------


def test_truncated_json_is_an_invalid_response_not_retried(make_client, server, waits, embed):
    server.push(reply(200, b'{"object": "list", "data": [{"index": 0, "embe'))
    with pytest.raises(InvalidResponseError, match=r"batch 1 of 1 \(inputs 0-0\).*not valid JSON"):
        embed(make_client(), ["a"])
    assert waits == []


def test_a_wrong_count_names_the_batch(make_client, server, embed):
    server.push(embedding_reply(), embedding_reply(edit=lambda p: {**p, "data": p["data"][1:]}))
    with pytest.raises(InvalidResponseError, match=r"batch 2 of 2 \(inputs 2-3\).*expected 2"):
        embed(make_client(batch_size=2, max_concurrency=1), ["a", "b", "c", "d"])


def test_a_batch_of_another_length_than_the_first_fails_the_call(make_client, server, embed):
    server.push(embedding_reply(dimensions=8), embedding_reply(dimensions=4))
    with pytest.raises(InvalidResponseError, match="vectors of 4 dimensions, but earlier .* 8"):
        embed(make_client(batch_size=1, max_concurrency=1), ["a", "b"])


def test_vectors_of_another_length_than_asked_fail_the_call(make_client, server, embed):
    with pytest.raises(InvalidResponseError, match="asked for 16 dimensions.*vectors of 8"):
        embed(make_client(dimensions=16), ["a"])


def test_batches_served_by_different_models_raise_a_warning(make_client, server, embed):
    def served_by(model):
        return embedding_reply(edit=lambda payload: {**payload, "model": model})

    server.push(served_by("text-embedding-3-small"), served_by("embed-english-v3.0"))
    with pytest.warns(MixedModelsWarning, match="2 models"):
        result = embed(make_client(batch_size=1, max_concurrency=1), ["a", "b"])
    assert result.models == ("text-embedding-3-small", "embed-english-v3.0")


def test_a_server_error_carries_status_code_and_trace_id(make_client, server, embed):
    server.push(
        *[
            reply(
                502,
                {"error": {"code": "provider_error", "message": "upstream"}},
                {"x-orq-trace-id": "tr-9"},
            )
        ]
        * 3
    )
    with pytest.raises(ServerError) as caught:
        embed(make_client(), ["a"])
    assert (caught.value.status_code, caught.value.code, caught.value.trace_id) == (
        502,
        "provider_error",
        "tr-9",
    )


# -- reports ---------------------------------------------------------------------------------


def test_reports_usage_and_serving_model(make_client, embed):
    result = embed(make_client(batch_size=10), TEXTS)
    assert result.usage.total_tokens == len(TEXTS)
    assert result.models == ("text-embedding-3-small",)


def test_on_batch_is_called_once_per_batch_in_order(make_client, embed):
    seen = []
    embed(make_client(batch_size=5, max_concurrency=4), TEXTS, on_batch=seen.append)
    assert [(report.batch.start, report.batch.stop) for report in seen] == [
        (0, 5),
        (5, 10),
        (10, 15),
        (15, 20),
        (20, 23),
    ]


def test_request_body_is_what_the_options_say(make_client, server):
    make_client(dimensions=8, user="u1", orq={"retry": {"count": 1}}).embed(["a"])
    assert json.loads(server.requests[0].body) == {
        "input": ["a"],
        "model": "openai/text-embedding-3-small",
        "encoding_format": "base64",
        "dimensions": 8,
        "user": "u1",
        "retry": {"count": 1},
    }


# -- content codings -------------------------------------------------------------------------


def _encoded(coding, compress):
    def make(request):
        payload = json.dumps(embedding_payload(request)).encode()
        return 200, compress(payload), {"content-encoding": coding}

    return reply_with(make)


@pytest.mark.parametrize(
    ("coding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),  # zlib-wrapped, as RFC 9110 says
        ("deflate", lambda data: zlib.compress(data, wbits=-zlib.MAX_WBITS)),  # raw, as some send
        ("identity", lambda data: data),
    ],
    ids=["gzip", "deflate-zlib", "deflate-raw", "identity"],
)
def test_bodies_in_every_coding_it_asks_for_are_decoded(
    make_client, server, embed, coding, compress
):
    server.push(_encoded(coding, compress))
    assert embed(make_client(), ["a", "b"]).vectors == [vector_for("a"), vector_for("b")]


def test_a_body_in_a_coding_it_did_not_ask_for_is_refused_naming_it(make_client, server, embed):
    server.push(reply(200, b"\x00" * 32, {"content-encoding": "br"}))
    with pytest.raises(InvalidResponseError, match="encoded as 'br', which this client did not"):
        embed(make_client(max_retries=0), ["a"])


def test_a_corrupt_gzip_body_is_refused_as_such(make_client, server, embed):
    server.push(reply(200, b"\x1f\x8b\x08\x00not gzip at all", {"content-encoding": "gzip"}))
    with pytest.raises(InvalidResponseError, match="not valid gzip data"):
        embed(make_client(max_retries=0), ["a"])


def test_debug_logging_names_batches_and_trace_ids(make_client, server, caplog):
    server.default = embedding_reply(headers={"x-orq-trace-id": "trace-42"})
    with caplog.at_level(logging.DEBUG, logger="orq_embeddings"):
        make_client(api_key=FAKE_KEY).embed(["a"])
    assert any("trace-42" in record.getMessage() for record in caplog.records)
