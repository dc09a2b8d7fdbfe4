"""Reading a trace as the tests need it: spans by kind, parents, and what the gateway was sent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from orq_embeddings.gateway import RecordedRequest

CALL_SPAN = "orq_embeddings.embed local/hashing-64"
REQUEST_SPAN = "embeddings local/hashing-64"


def span_id(span: Any) -> str:
    return format(span.context.span_id, "016x")


def trace_id(span: Any) -> str:
    return format(span.context.trace_id, "032x")


def parent_id(span: Any) -> str | None:
    return None if span.parent is None else format(span.parent.span_id, "016x")


def traceparent_of(request: RecordedRequest) -> tuple[str, str] | None:
    """The trace id and parent span id of the traceparent a request carried, if any."""
    value = request.headers.get("traceparent")
    if value is None:
        return None
    _, trace, parent, _ = value.split("-")
    return trace, parent


def sent_by(span: Any, requests: Sequence[RecordedRequest]) -> list[RecordedRequest]:
    """The requests whose traceparent names ``span`` as their parent: its attempts."""
    return [
        request
        for request in requests
        if traceparent_of(request) == (trace_id(span), span_id(span))
    ]
