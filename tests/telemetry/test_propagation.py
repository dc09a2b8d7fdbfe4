"""Trace context on the wire: the global propagator's headers on every request; orq=1 if asked.

With no SDK configured the client starts no trace of its own: a caller's context passes on as it
came (W3C: tracestate unchanged when the traceparent is), and with none, no header is sent.
"""

from __future__ import annotations

from opentelemetry import baggage, context, trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, TraceState

from tests.support.surfaces import Call, Surface, core_client
from tests.telemetry.spans import REQUEST_SPAN, span_id, trace_id

TEXTS = ["a passage", "another passage"]
TRACE_HEADERS = {"traceparent", "tracestate", "baggage"}
UPSTREAM_TRACE = 0x4BF92F3577B34DA6A3CE929D0E0E4736
UPSTREAM_SPAN = 0x00F067AA0BA902B7
UPSTREAM = f"00-{UPSTREAM_TRACE:032x}-{UPSTREAM_SPAN:016x}-01"


def upstream(state: str = "congo=t61") -> NonRecordingSpan:
    """The span context an upstream service sent this one: remote, sampled, with a tracestate."""
    return NonRecordingSpan(
        SpanContext(
            UPSTREAM_TRACE,
            UPSTREAM_SPAN,
            is_remote=True,
            trace_flags=TraceFlags(TraceFlags.SAMPLED),
            trace_state=TraceState.from_header([state]),
        )
    )


def test_without_an_sdk_or_a_callers_context_no_trace_header_is_sent(surface: Surface, orq_gateway):
    surface.embed(Call(base_url=orq_gateway.base_url), TEXTS)

    [request] = orq_gateway.requests()
    assert TRACE_HEADERS & request.headers.keys() == set()
    assert request.caller_trace_id is None


def test_without_an_sdk_the_callers_context_goes_on_unchanged_even_with_orq_asked(
    surface: Surface, orq_gateway
):
    asked = Call(base_url=orq_gateway.base_url, more={"otel_continue_trace_in_orq": True})

    with trace.use_span(upstream()):
        surface.embed(asked, TEXTS)

    [request] = orq_gateway.requests()
    assert (request.headers["traceparent"], request.headers["tracestate"]) == (
        UPSTREAM,
        "congo=t61",
    )


def test_with_an_sdk_each_request_carries_its_own_span_in_the_callers_trace(
    surface: Surface, orq_gateway, otel
):
    with trace.use_span(upstream()):
        surface.embed(Call(base_url=orq_gateway.base_url), TEXTS)

    [span] = otel.spans(REQUEST_SPAN)
    [request] = orq_gateway.requests()
    assert request.headers["traceparent"].split("-")[1:3] == [trace_id(span), span_id(span)]
    assert trace_id(span) == f"{UPSTREAM_TRACE:032x}"
    assert request.headers["tracestate"] == "congo=t61"


def test_orq_1_goes_first_in_the_tracestate_only_when_asked(surface: Surface, orq_gateway, otel):
    plain = Call(base_url=orq_gateway.base_url)
    asked = Call(base_url=orq_gateway.base_url, more={"otel_continue_trace_in_orq": True})

    surface.embed(plain, TEXTS)
    surface.embed(asked, TEXTS)
    with trace.use_span(upstream()):
        surface.embed(asked, TEXTS)
    with trace.use_span(upstream("orq=0,congo=t61")):
        surface.embed(asked, TEXTS)

    tracestates = [request.headers.get("tracestate") for request in orq_gateway.requests()]
    assert tracestates == [None, "orq=1", "orq=1,congo=t61", "orq=1,congo=t61"]


def test_baggage_goes_out_through_the_global_propagator(orq_gateway, otel):
    token = context.attach(baggage.set_baggage("tenant", "acme"))
    try:
        with core_client(Call(base_url=orq_gateway.base_url)) as client:
            client.embed(TEXTS)
    finally:
        context.detach(token)

    [request] = orq_gateway.requests()
    assert request.headers["baggage"] == "tenant=acme"


def test_a_default_traceparent_header_gives_way_to_the_current_context(orq_gateway, otel):
    stale = {"Traceparent": f"00-{'1' * 32}-{'2' * 16}-01"}

    with core_client(Call(base_url=orq_gateway.base_url, default_headers=stale)) as client:
        client.embed(TEXTS)

    [span] = otel.spans(REQUEST_SPAN)
    [request] = orq_gateway.requests()
    assert request.headers["traceparent"].split("-")[2] == span_id(span)
