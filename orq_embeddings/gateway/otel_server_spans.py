"""The local gateway's SERVER spans in OpenTelemetry: the gateway's one importer of it.

Imported by :mod:`.tracing` (which says what the spans hold) only when ``opentelemetry-api`` is
installed. Spans come from the global tracer provider, so they record only when the gateway's
process configured an SDK.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from .._version import __version__

SCOPE = "orq_embeddings.gateway"

HTTP_REQUEST_METHOD = "http.request.method"
URL_PATH = "url.path"
HTTP_RESPONSE_STATUS_CODE = "http.response.status_code"
ERROR_TYPE = "error.type"
#: The local gateway's own: what routing decided for the request.
TRACE_ID = "orq.gateway.trace_id"
MODEL = "orq.gateway.model"
SERVED_MODEL = "orq.gateway.served_model"
CACHE = "orq.gateway.cache"
REFUSED_BY = "orq.gateway.refused_by"
ATTEMPT_EVENT = "orq.gateway.attempt"
ATTEMPT_KIND = "orq.gateway.attempt.kind"


class _Answered:
    """A request's span, told how the request was answered."""

    def __init__(self, span: Span) -> None:
        self._span = span

    def answered(
        self,
        status: int,
        *,
        trace_id: str,
        model: str | None,
        served_model: str | None,
        cache: str | None,
        refused_by: str | None,
    ) -> None:
        if not self._span.is_recording():
            return
        attributes: dict[str, AttributeValue] = {
            HTTP_RESPONSE_STATUS_CODE: status,
            TRACE_ID: trace_id,
        }
        given = {MODEL: model, SERVED_MODEL: served_model, CACHE: cache, REFUSED_BY: refused_by}
        attributes.update({name: value for name, value in given.items() if value is not None})
        self._span.set_attributes(attributes)
        if status >= 500 or status == 0:  # 0: the connection was dropped on purpose
            self._span.set_attribute(ERROR_TYPE, str(status) if status else "dropped")
            self._span.set_status(Status(StatusCode.ERROR))


@contextmanager
def server_span(method: str, path: str, headers: Mapping[str, str]) -> Iterator[_Answered]:
    """A SERVER span continuing the caller's trace from ``headers``, current in the block."""
    tracer = trace.get_tracer(SCOPE, __version__)
    with tracer.start_as_current_span(
        f"{method} {path}",
        context=propagate.extract(headers),
        kind=SpanKind.SERVER,
        attributes={HTTP_REQUEST_METHOD: method, URL_PATH: path},
        record_exception=False,
    ) as span:
        yield _Answered(span)


def attempted(model: str, status: int, kind: str) -> None:
    """An event on the current span: ``model`` answered ``status`` to a ``kind`` of call."""
    span = trace.get_current_span()
    if span.is_recording():
        span.add_event(
            ATTEMPT_EVENT,
            {MODEL: model, HTTP_RESPONSE_STATUS_CODE: status, ATTEMPT_KIND: kind},
        )
