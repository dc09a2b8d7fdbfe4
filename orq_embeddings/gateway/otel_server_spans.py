"""The local gateway's SERVER spans in OpenTelemetry: the gateway's one importer of it.

Imported by :mod:`.tracing` (which says what the spans hold, and names it all) only when
``opentelemetry-api`` is installed. Spans come from the global tracer provider, so they record
only when the gateway's process configured an SDK.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from .._version import __version__

SCOPE = "orq_embeddings.gateway"
Attributes = Mapping[str, "str | int"]


class _Answered:
    """A request's span, told how the request was answered."""

    def __init__(self, span: Span) -> None:
        self._span = span

    def answered(self, attributes: Attributes, *, failed: bool) -> None:
        if not self._span.is_recording():
            return
        self._span.set_attributes(attributes)
        if failed:
            self._span.set_status(Status(StatusCode.ERROR))


@contextmanager
def server_span(
    name: str, headers: Mapping[str, str], attributes: Attributes
) -> Iterator[_Answered]:
    """A SERVER span continuing the caller's trace from ``headers``, current in the block."""
    tracer = trace.get_tracer(SCOPE, __version__)
    with tracer.start_as_current_span(
        name,
        context=propagate.extract(headers),
        kind=SpanKind.SERVER,
        attributes=attributes,
        record_exception=False,
    ) as span:
        yield _Answered(span)


def add_event(name: str, attributes: Attributes) -> None:
    """An event on the current span, if it records."""
    span = trace.get_current_span()
    if span.is_recording():
        span.add_event(name, attributes)
