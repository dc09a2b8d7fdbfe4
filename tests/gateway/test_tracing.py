"""The gateway's side of a trace: the caller's trace id logged; SERVER spans, given an SDK.

Plain HTTP with a ``traceparent`` header, as any instrumented client sends it; the SDK is the
``otel`` fixture's, in this process, where the gateway runs too.
"""

from __future__ import annotations

import pytest

from orq_embeddings.gateway import ProviderFault
from orq_embeddings.gateway.tracing import caller_trace_id
from tests.support.gateway_http import COHERE, SMALL, embed

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"
TRACEPARENT = {"traceparent": f"00-{TRACE}-{PARENT}-01"}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (f"00-{TRACE}-{PARENT}-01", TRACE),
        (f"00-{TRACE}-{PARENT}-00", TRACE),  # not sampled: still the caller's trace
        (f" 01-{TRACE}-{PARENT}-03 ", TRACE),  # a later version, surrounding blanks
        (f"ff-{TRACE}-{PARENT}-01", None),  # version ff is invalid
        (f"00-{'0' * 32}-{PARENT}-01", None),  # the all-zero trace id is invalid
        (f"00-{TRACE}-{'0' * 16}-01", None),  # so is the all-zero parent id
        (f"00-{TRACE.upper()}-{PARENT}-01", None),  # hex is lower-case
        ("00-abc-def-01", None),
        ("", None),
    ],
)
def test_reads_the_callers_trace_id_from_a_valid_traceparent_only(header, expected):
    assert caller_trace_id({"traceparent": header}) == expected


def test_no_traceparent_is_no_caller_trace():
    assert caller_trace_id({}) is None


def test_the_request_log_names_the_callers_trace_id(gateway):
    embed(gateway, {"input": "x", "model": SMALL}, headers=TRACEPARENT)
    embed(gateway, {"input": "x", "model": SMALL})

    assert [request.caller_trace_id for request in gateway.requests()] == [TRACE, None]


def server_span(otel):
    [span] = otel.server_spans(1)
    return span


def test_a_request_is_a_server_span_continuing_the_callers_trace(gateway, otel):
    response = embed(gateway, {"input": "x", "model": SMALL}, headers=TRACEPARENT)

    span = server_span(otel)
    assert span.name == "POST /v2/router/embeddings"
    assert (format(span.context.trace_id, "032x"), format(span.parent.span_id, "016x")) == (
        TRACE,
        PARENT,
    )
    assert span.parent.is_remote
    attributes = dict(span.attributes)
    assert attributes == {
        "http.request.method": "POST",
        "url.path": "/v2/router/embeddings",
        "http.response.status_code": 200,
        "orq.gateway.trace_id": response.headers["x-orq-trace-id"],
        "orq.gateway.model": SMALL,
        "orq.gateway.served_model": SMALL,
    }
    assert [(event.name, dict(event.attributes)) for event in span.events] == [
        (
            "orq.gateway.attempt",
            {
                "orq.gateway.model": SMALL,
                "http.response.status_code": 200,
                "orq.gateway.attempt.kind": "first",
            },
        )
    ]


def attempts_on(span) -> list[tuple[str, int, str]]:
    return [
        (
            event.attributes["orq.gateway.model"],
            event.attributes["http.response.status_code"],
            event.attributes["orq.gateway.attempt.kind"],
        )
        for event in span.events
    ]


def test_retries_and_fallbacks_are_events_and_the_model_that_served_an_attribute(gateway, otel):
    gateway.inject(ProviderFault(model=SMALL, status=503))
    body = {
        "input": "x",
        "model": SMALL,
        "retry": {"count": 1},
        "fallbacks": [{"model": COHERE}],
    }

    embed(gateway, body, headers=TRACEPARENT)

    span = server_span(otel)
    assert attempts_on(span) == [
        (SMALL, 503, "first"),
        (SMALL, 503, "retry"),
        (COHERE, 200, "fallback"),
    ]
    assert span.attributes["orq.gateway.served_model"] == COHERE


def test_a_cache_hit_is_an_attribute_and_calls_no_model(gateway, otel):
    body = {"input": "x", "model": SMALL, "cache": {"type": "exact_match", "ttl": 60}}

    embed(gateway, body)
    embed(gateway, body)

    miss, hit = otel.server_spans(2)
    assert (miss.attributes["orq.gateway.cache"], hit.attributes["orq.gateway.cache"]) == (
        "miss",
        "hit",
    )
    assert (len(miss.events), len(hit.events)) == (1, 0)


def test_a_failure_of_every_model_is_an_error_span(gateway, otel):
    gateway.inject(ProviderFault(model=SMALL, status=503))

    embed(gateway, {"input": "x", "model": SMALL, "retry": {"count": 0}})

    span = server_span(otel)
    assert span.status.status_code.name == "ERROR"
    assert span.attributes["error.type"] == "503"
    assert "orq.gateway.served_model" not in span.attributes
