"""Misbehaving servers and proxies, through every surface: never a wrong vector, never a hang.

Each case is a server on 127.0.0.1 doing what no well-behaved server does (a 1xx before the
answer, bytes glued after it, headers dripped a byte at a time, an endless body, a gzip bomb, a
kept-alive connection closed under a request) and states how every one of the six surfaces must
end. Many use one-text batches sent one at a time, so that consecutive requests of one call share
one pooled connection, where one request's bytes could be taken as another's answer.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import re
import time
import tracemalloc

import pytest

from orq_embeddings import (
    BadRequestError,
    BatchTooLargeError,
    InvalidResponseError,
    NameResolutionError,
    OrqConnectionError,
    OrqEmbeddingsClient,
    OrqError,
    OrqTimeoutError,
    ResponseTooLargeError,
)
from tests.support.scripted_server import (
    Recorded,
    ScriptedServer,
    drip_chunk_size_line,
    drip_head,
    drop,
    embedding_payload,
    embedding_reply,
    endless_body,
    gzip_bomb,
    informational,
    raw_response,
    refuse_early,
    reply,
    reply_with,
    reset_mid_body,
    vector_for,
    with_bytes_after,
)
from tests.support.surfaces import KEY, MODEL, Call, Surface

TEXTS = ["first passage", "second passage", "third passage"]
EXPECTED = [vector_for(text) for text in TEXTS]
#: Beyond a bound that proves no hang: clients, event loops and loopback round trips.
SLACK_SECONDS = 0.75


def one_at_a_time(server: ScriptedServer, **settings: object) -> Call:
    """One text per request, one request at a time: consecutive requests share a connection."""
    return Call(base_url=server.base_url, batch_size=1, max_concurrency=1, **settings)  # type: ignore[arg-type]


def raises(surface: Surface, call: Call, texts: list[str]) -> tuple[OrqError, float]:
    """The error a call ends in, and how long it took to get there."""
    started = time.monotonic()
    with pytest.raises(OrqError) as caught:
        surface.embed(call, texts)
    return caught.value, time.monotonic() - started


# -- answers that are not the answer -----------------------------------------------------------


def test_informational_responses_before_the_answer_are_skipped(surface, server):
    server.push(
        informational((102,), embedding_reply()),
        informational((103, 103), embedding_reply()),
        informational((102, 103, 100), embedding_reply()),
    )

    vectors = surface.embed(one_at_a_time(server, max_retries=0), TEXTS)

    assert vectors == EXPECTED
    assert len(server.requests) == 3


def _a_stranger_answer(request: Recorded) -> bytes:
    """A complete, valid-looking response carrying a vector that belongs to no input."""
    payload = embedding_payload(request)
    for item in payload["data"]:
        item["embedding"] = [9.0] * len(vector_for("x"))
    return raw_response(200, json.dumps(payload).encode())


def test_bytes_beyond_a_responses_end_never_answer_the_next_request(surface, server):
    server.push(with_bytes_after(_a_stranger_answer, embedding_reply()))

    vectors = surface.embed(one_at_a_time(server, max_retries=0), TEXTS)

    assert vectors == EXPECTED
    assert len(server.requests) == 3


# -- one deadline per attempt ------------------------------------------------------------------


def test_headers_dripped_a_byte_at_a_time_time_out_at_the_timeout(surface, server):
    server.push(drip_head(every=0.05))  # about 5 s of headers

    error, elapsed = raises(surface, one_at_a_time(server, max_retries=0, timeout=0.5), TEXTS[:1])

    assert type(error) is OrqTimeoutError
    assert re.search(r"within 0\.5 s \(the response headers", str(error)), str(error)
    assert elapsed < 0.5 + SLACK_SECONDS


def test_a_chunk_size_line_dripped_inside_a_body_times_out_at_the_timeout(surface, server):
    server.push(drip_chunk_size_line(every=0.05))  # about 3.5 s of one line

    error, elapsed = raises(surface, one_at_a_time(server, max_retries=0, timeout=0.5), TEXTS[:1])

    assert type(error) is OrqTimeoutError
    assert re.search(r"within 0\.5 s \(the body was still arriving", str(error)), str(error)
    assert elapsed < 0.5 + SLACK_SECONDS


# -- bounded bodies ----------------------------------------------------------------------------


def test_an_endless_body_is_abandoned_past_max_response_bytes(surface, server):
    server.push(endless_body())
    call = one_at_a_time(server, max_response_bytes=2_000_000, timeout=10)

    error, elapsed = raises(surface, call, TEXTS[:1])

    assert type(error) is ResponseTooLargeError
    assert "larger than max_response_bytes (2000000 bytes" in str(error)
    assert len(server.requests) == 1  # never retried: the same answer would come again
    assert elapsed < 5


def test_a_gzip_bomb_is_abandoned_past_max_response_bytes(surface, server):
    bomb = gzip_bomb(256 << 20)
    assert len(bomb) < 1 << 20
    server.push(reply(200, bomb, {"content-encoding": "gzip"}))

    error, _ = raises(surface, one_at_a_time(server, max_response_bytes=4_000_000), TEXTS[:1])

    assert type(error) is ResponseTooLargeError
    assert len(server.requests) == 1


def _gzipped(request: Recorded) -> tuple[int, bytes, dict[str, str]]:
    body = gzip.compress(json.dumps(embedding_payload(request)).encode())
    return 200, body, {"content-encoding": "gzip"}


def test_a_gzipped_answer_within_the_limit_is_read(surface, server):
    server.default = reply_with(_gzipped)

    assert surface.embed(one_at_a_time(server), TEXTS) == EXPECTED
    assert server.requests[0].headers["accept-encoding"] == "gzip, deflate"


def test_more_header_fields_than_the_limit_are_refused_alike(surface, server):
    # With content-type and content-length: 99 fields (the limit), then 100.
    server.push(embedding_reply(headers={f"x-filler-{i}": "v" for i in range(97)}))
    server.push(reply(200, b"{}", {f"x-filler-{i}": "v" for i in range(98)}))

    assert surface.embed(one_at_a_time(server, max_retries=0), TEXTS[:1]) == EXPECTED[:1]
    error, _ = raises(surface, one_at_a_time(server, max_retries=0), TEXTS[:1])

    assert type(error) is InvalidResponseError
    assert "more header fields or bytes than this client accepts" in str(error)


def test_more_header_bytes_than_the_limit_are_refused_alike(surface, server):
    server.push(embedding_reply(headers={"x-big": "v" * 60_000}))
    server.push(reply(200, b"{}", {"x-big": "v" * 70_000}))

    assert surface.embed(one_at_a_time(server, max_retries=0), TEXTS[:1]) == EXPECTED[:1]
    error, _ = raises(surface, one_at_a_time(server, max_retries=0), TEXTS[:1])

    assert type(error) is InvalidResponseError
    assert "more header fields or bytes than this client accepts" in str(error)


# -- connections that die under a request ------------------------------------------------------


def test_a_kept_alive_connection_closed_under_a_request_is_resent_without_a_retry(surface, server):
    server.push(embedding_reply(), drop())  # the second request meets an idle-closed connection

    vectors = surface.embed(one_at_a_time(server, max_retries=0), TEXTS)

    assert vectors == EXPECTED
    assert len(server.requests) == 4  # the dropped one, and its resend on a fresh connection
    assert surface.waits == []


def test_a_reused_connection_that_breaks_after_the_answer_began_is_not_resent(surface, server):
    server.push(embedding_reply(), reset_mid_body())

    error, _ = raises(surface, one_at_a_time(server, max_retries=0), TEXTS)

    assert type(error) is OrqConnectionError
    assert len(server.requests) == 2  # a response had started: the server may have done the work


def test_an_early_413_then_a_close_is_a_413_and_the_body_is_not_sent_again(surface, server):
    server.default = refuse_early(
        413, {"error": {"code": "request_too_large", "message": "too big"}}
    )
    texts = [f"{i} " + "x" * 1_600_000 for i in range(5)]  # 8 MB: still uploading when refused
    call = Call(base_url=server.base_url, max_batch_bytes=10_000_000, max_retries=2)

    error, _ = raises(surface, call, texts)

    assert type(error) is BatchTooLargeError  # input 0 refused even alone
    assert isinstance(error, BadRequestError)
    assert "answered 413 request_too_large: too big" in str(error)
    # Never the same body again: a 413 is split (5 inputs, then 2, then input 0 alone), not retried.
    assert len(server.requests) == 3


def test_a_host_name_that_does_not_resolve_is_reported_as_such(surface):
    call = Call(base_url="https://orq-embeddings-test.invalid/v2/router", max_retries=0)

    error, _ = raises(surface, call, TEXTS[:1])

    assert type(error) is NameResolutionError
    assert "could not resolve the host name 'orq-embeddings-test.invalid'" in str(error)
    assert error.host == "orq-embeddings-test.invalid"


# -- what a body says --------------------------------------------------------------------------


def test_a_200_carrying_an_error_object_says_the_servers_message(surface, server):
    server.push(reply(200, {"error": {"code": "provider_error", "message": "upstream exploded"}}))

    error, _ = raises(surface, one_at_a_time(server), TEXTS[:1])

    assert type(error) is InvalidResponseError
    assert "answered 200 with an error provider_error: upstream exploded" in str(error)


def _twice_data(request: Recorded) -> tuple[int, str, dict[str, str]]:
    payload = embedding_payload(request)
    data = json.dumps(payload["data"])
    stranger = json.dumps([{**item, "embedding": [9.0] * 8} for item in payload["data"]])
    return 200, f'{{"object": "list", "data": {data}, "data": {stranger}}}', {}


def test_a_body_repeating_the_data_key_is_refused(surface, server):
    server.push(reply_with(_twice_data))

    error, _ = raises(surface, one_at_a_time(server), TEXTS[:1])

    assert type(error) is InvalidResponseError
    assert "the body repeats the key 'data' in one object" in str(error)
    assert len(server.requests) == 1


def test_server_text_reaches_error_messages_without_control_characters_or_escapes(surface, server):
    message = "line one\r\nX-Injected: yes\x1b[31m red \x1b[0m\x1b]0;owned\x07\x00 end"
    server.push(reply(400, {"error": {"code": "bad\x1b[2J\n", "message": message}}))

    error, _ = raises(surface, one_at_a_time(server), TEXTS[:1])

    said = str(error)
    assert "line one X-Injected: yes red" in said and "end" in said
    assert not re.search(r"[\x00-\x1f\x7f]", said), repr(said)
    assert "answered 400 bad:" in said


# -- proxies -----------------------------------------------------------------------------------


@pytest.fixture
def proxy(monkeypatch):
    """A loopback "proxy" in every proxy variable: it records what it is sent and refuses it."""
    with ScriptedServer(default=reply(502, b"proxy says no")) as recording:
        for variable in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
            monkeypatch.setenv(variable, recording.origin)
            monkeypatch.setenv(variable.lower(), recording.origin)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        yield recording


def test_a_loopback_base_url_never_goes_through_the_environments_proxy(surface, server, proxy):
    assert surface.embed(one_at_a_time(server), TEXTS[:1]) == EXPECTED[:1]

    assert proxy.requests == []
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_an_https_base_url_reaches_a_proxy_only_as_a_tunnel_it_cannot_read(surface, proxy):
    call = Call(base_url="https://embeddings.example.test/v2/router", max_retries=0)

    raises(surface, call, TEXTS[:1])

    assert [request.method for request in proxy.requests] == ["CONNECT"]
    assert proxy.requests[0].path == "embeddings.example.test:443"
    seen = json.dumps([request.headers for request in proxy.requests])
    assert KEY not in seen and "authorization" not in seen


@pytest.mark.parametrize("way", ["sync", "async"])
def test_a_gzip_bomb_costs_memory_near_the_cap_not_near_its_inflated_size(server, way):
    cap = 4_000_000
    server.push(reply(200, gzip_bomb(256 << 20), {"content-encoding": "gzip"}))
    client = OrqEmbeddingsClient(
        MODEL, api_key=KEY, base_url=server.base_url, max_response_bytes=cap, max_retries=0
    )

    def embed() -> object:
        if way == "sync":
            return client.embed(TEXTS[:1])
        return asyncio.run(client.aembed(TEXTS[:1]))

    tracemalloc.start()
    try:
        with pytest.raises(ResponseTooLargeError):
            embed()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        client.close()

    assert peak < 4 * cap  # the bomb inflates to 256 MiB


def test_plain_http_to_another_host_is_refused_even_through_a_proxy(surface, proxy):
    call = Call(base_url="http://embeddings.example.test/v2/router")

    with pytest.raises(ValueError, match="refusing to send the API key over plain http"):
        surface.embed(call, TEXTS[:1])

    assert proxy.requests == []  # the proxy would have read the key
