"""Spans, by the GenAI conventions: one per call, one per request, nested under the caller's.

Each test runs on the six surfaces, against the local gateway over real sockets, with a real
OpenTelemetry SDK keeping spans in memory (the ``otel`` fixture). The gateway runs in this
process, so its SERVER spans land in the same SDK: a trace can be followed across the wire.

LlamaIndex cuts a list into ``embed_batch_size`` chunks itself and calls the core once per
chunk, so a LlamaIndex call may be several call spans; the tests count requests, which every
surface sends alike.
"""

from __future__ import annotations

import gc
import re
import time

import pytest

from orq_embeddings import AuthenticationError, ServerError
from orq_embeddings.gateway import GatewayConfig, LocalGateway, ResponseFault
from orq_embeddings.gateway.tokens import count_tokens
from tests.support.surfaces import HASHING_64, KEY, MODEL, Call, Surface, core_client
from tests.telemetry.spans import CALL_SPAN, REQUEST_SPAN, parent_id, sent_by, span_id, trace_id

TEXTS = [f"passage number {i} about tracing" for i in range(5)]


def test_each_request_is_a_client_span_under_its_calls_span_under_the_callers(
    surface: Surface, orq_gateway, otel
):
    with otel.tracer.start_as_current_span("rag.query") as caller:
        surface.embed(Call(base_url=orq_gateway.base_url, batch_size=2), TEXTS)

    calls, requests = otel.spans(CALL_SPAN), otel.spans(REQUEST_SPAN)
    assert len(requests) == 3 == orq_gateway.counters().requests
    assert {span.kind.name for span in calls} == {"INTERNAL"}
    assert {span.kind.name for span in requests} == {"CLIENT"}
    assert {parent_id(call) for call in calls} == {span_id(caller)}
    assert {parent_id(request) for request in requests} <= {span_id(call) for call in calls}
    assert {trace_id(span) for span in calls + requests} == {trace_id(caller)}
    totals = {
        name: sum(call.attributes[name] for call in calls)
        for name in ("orq_embeddings.inputs", "orq_embeddings.batches", "orq_embeddings.requests")
    }
    assert totals == {
        "orq_embeddings.inputs": 5,
        "orq_embeddings.batches": 3,
        "orq_embeddings.requests": 3,
    }
    assert sum(call.attributes["orq_embeddings.attempts"] for call in calls) == 3


def test_the_call_span_names_the_vector_space_that_served_it(surface: Surface, orq_gateway, otel):
    surface.embed(Call(base_url=orq_gateway.base_url), TEXTS)

    [call] = otel.spans(CALL_SPAN)
    space = f"{HASHING_64.served_name}:{HASHING_64.dimensions}:none"
    assert call.attributes["orq_embeddings.embedding_space"] == space


def test_a_request_span_says_what_the_conventions_ask(surface: Surface, orq_gateway, otel):
    texts = ["a passage", "and another passage"]
    surface.embed(Call(base_url=orq_gateway.base_url), texts)

    [span] = otel.spans(REQUEST_SPAN)
    [request] = orq_gateway.requests()
    attributes = dict(span.attributes)
    assert re.fullmatch("[0-9a-f]{16}", attributes.pop("orq.span_id"))
    assert attributes == {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.provider.name": "orq",
        "gen_ai.request.model": MODEL,
        "gen_ai.response.model": HASHING_64.served_name,
        "gen_ai.usage.input_tokens": sum(map(count_tokens, texts)),
        "gen_ai.embeddings.dimension.count": HASHING_64.dimensions,
        "gen_ai.request.encoding_formats": ("base64",),
        "server.address": "127.0.0.1",
        "server.port": orq_gateway.port,
        "http.response.status_code": 200,
        "orq.trace_id": request.trace_id,
        "orq_embeddings.batch.index": 0,
        "orq_embeddings.batch.first_input": 0,
        "orq_embeddings.batch.inputs": 2,
    }
    assert span.status.status_code.name == "UNSET"
    assert span.events == ()


def test_the_gateway_receives_the_callers_trace_with_each_request_span_as_parent(
    surface: Surface, orq_gateway, otel
):
    with otel.tracer.start_as_current_span("rag.query") as caller:
        surface.embed(Call(base_url=orq_gateway.base_url, batch_size=2), TEXTS)

    requests = otel.spans(REQUEST_SPAN)
    received = orq_gateway.requests()
    assert {request.caller_trace_id for request in received} == {trace_id(caller)}
    assert sorted(len(sent_by(span, received)) for span in requests) == [1, 1, 1]
    servers = otel.server_spans(3)
    assert sorted(parent_id(server) for server in servers) == sorted(map(span_id, requests))
    assert {trace_id(server) for server in servers} == {trace_id(caller)}


def test_a_retried_request_is_one_span_with_a_retry_event_giving_status_and_wait(
    surface: Surface, orq_gateway, otel
):
    orq_gateway.inject(ResponseFault(status=503, times=1))

    surface.embed(Call(base_url=orq_gateway.base_url, max_retries=1), ["a passage"])

    [span] = otel.spans(REQUEST_SPAN)
    assert [request.status for request in sent_by(span, orq_gateway.requests())] == [503, 200]
    assert span.attributes["http.request.resend_count"] == 1
    [event] = span.events
    assert event.name == "orq_embeddings.retry"
    wait = event.attributes["orq_embeddings.retry.wait_seconds"]
    assert dict(event.attributes) == {
        "orq_embeddings.retry.attempt": 1,
        "error.type": "ServerError",
        "http.response.status_code": 503,
        "orq_embeddings.retry.wait_seconds": wait,
    }
    if surface.records_waits:
        assert surface.waits == [wait]
    else:  # the wait really passed, inside the span
        assert 0 < wait <= (span.end_time - event.timestamp) / 1e9
    [call] = otel.spans(CALL_SPAN)
    assert (
        call.attributes["orq_embeddings.requests"],
        call.attributes["orq_embeddings.attempts"],
    ) == (
        1,
        2,
    )


def test_a_failed_call_has_error_type_on_its_spans(surface: Surface, orq_gateway, otel):
    orq_gateway.inject(ResponseFault(status=401))

    with pytest.raises(AuthenticationError):
        surface.embed(Call(base_url=orq_gateway.base_url, max_retries=0), ["a passage"])

    [request] = otel.spans(REQUEST_SPAN)
    assert request.attributes["error.type"] == "AuthenticationError"
    assert request.attributes["http.response.status_code"] == 401
    assert request.status.status_code.name == "ERROR"
    assert request.status.description == "AuthenticationError: HTTP 401"
    [call] = otel.spans(CALL_SPAN)
    assert call.attributes["error.type"] == "AuthenticationError"
    assert call.status.status_code.name == "ERROR"


def test_token_counts_equal_the_gateways_usage(surface: Surface, orq_gateway, otel):
    surface.embed(Call(base_url=orq_gateway.base_url, batch_size=2), TEXTS)

    usage = sum(map(count_tokens, TEXTS))
    requests, calls = otel.spans(REQUEST_SPAN), otel.spans(CALL_SPAN)
    assert sum(span.attributes["gen_ai.usage.input_tokens"] for span in requests) == usage
    assert sum(span.attributes["orq_embeddings.usage.input_tokens"] for span in calls) == usage


def test_a_batch_split_for_its_size_sends_new_requests_one_span_each(surface: Surface, otel):
    refusing = GatewayConfig(api_key=KEY, models=(HASHING_64,), max_inputs_per_request=2)
    with LocalGateway(refusing) as gateway:
        surface.embed(Call(base_url=gateway.base_url, batch_size=4), TEXTS[:4])
        statuses = [request.status for request in gateway.requests()]

    requests = otel.spans(REQUEST_SPAN)
    assert statuses == [400, 200, 200]
    # The refused request failed as the server said (a 400); the halves are new requests.
    assert [
        (span.attributes.get("error.type"), span.attributes.get("http.response.status_code"))
        for span in requests
    ] == [("BadRequestError", 400), (None, 200), (None, 200)]
    assert [
        (
            span.attributes["orq_embeddings.batch.first_input"],
            span.attributes["orq_embeddings.batch.inputs"],
        )
        for span in requests
    ] == [(0, 4), (0, 2), (2, 2)]


def test_input_sizes_are_on_the_spans_only_when_asked(surface: Surface, orq_gateway, otel):
    texts = ["naïve", "a longer passage"]
    sizes = [len(text.encode()) for text in texts]
    surface.embed(Call(base_url=orq_gateway.base_url), texts)
    surface.embed(
        Call(base_url=orq_gateway.base_url, more={"otel_record_input_sizes": True}), texts
    )

    plain, asked = otel.spans(REQUEST_SPAN)
    assert "orq_embeddings.input_bytes" not in plain.attributes
    assert (
        asked.attributes["orq_embeddings.input_bytes"],
        asked.attributes["orq_embeddings.largest_input_bytes"],
    ) == (sum(sizes), max(sizes))
    _, asked_call = otel.spans(CALL_SPAN)
    assert asked_call.attributes["orq_embeddings.input_bytes"] == sum(sizes)


def test_no_input_text_and_no_vector_is_on_any_span(surface: Surface, orq_gateway, otel):
    secret_text = "the patient's diagnosis is confidential"
    orq_gateway.inject(ResponseFault(status=503, times=1))

    surface.embed(
        Call(base_url=orq_gateway.base_url, max_retries=1, more={"otel_record_input_sizes": True}),
        [secret_text],
    )

    spans = otel.spans()
    assert spans
    assert [span.name for span in spans if "confidential" in span.to_json()] == []


def test_every_request_span_ends_when_the_caller_stops_reading_the_batches(orq_gateway, otel):
    client = core_client(Call(base_url=orq_gateway.base_url, batch_size=1, max_concurrency=2))
    batches = client.iter_batches([f"text {i}" for i in range(6)])

    next(batches)
    deadline = time.monotonic() + 10
    # A second request in flight when the caller stops: under load it may not have been sent yet.
    while orq_gateway.counters().requests < 2:
        assert time.monotonic() < deadline, "the look-ahead never sent a second request"
        time.sleep(0.01)
    batches.close()

    while len(otel.spans(REQUEST_SPAN)) < orq_gateway.counters().requests:
        assert time.monotonic() < deadline, "a request's span was never ended"
        gc.collect()
        time.sleep(0.02)
    [call] = otel.spans(CALL_SPAN)
    assert call.status.status_code.name == "UNSET"
    assert 2 <= len(otel.spans(REQUEST_SPAN)) < 6
    client.close()


def test_a_request_that_fails_after_its_retries_is_one_error_span_with_an_event_per_retry(
    surface: Surface, orq_gateway, otel
):
    orq_gateway.inject(ResponseFault(status=503))

    with pytest.raises(ServerError):
        surface.embed(Call(base_url=orq_gateway.base_url, max_retries=2), ["a passage"])

    [span] = otel.spans(REQUEST_SPAN)
    assert len(sent_by(span, orq_gateway.requests())) == 3
    assert [event.attributes["orq_embeddings.retry.attempt"] for event in span.events] == [1, 2]
    assert (span.attributes["error.type"], span.attributes["http.request.resend_count"]) == (
        "ServerError",
        2,
    )
