"""The local gateway's side of a trace: the caller's trace id, and a SERVER span per request.

The caller's W3C ``traceparent`` is read here without OpenTelemetry (its format is fixed), so the
request log names the caller's trace id whether or not OpenTelemetry is installed. With
``opentelemetry-api`` installed and an SDK configured in the gateway's process (in-process in a
test or a notebook, or ``opentelemetry-instrument orq-embeddings gateway`` with
opentelemetry-distro), each embeddings
request is a SERVER span in the caller's trace, continued from the headers by the global
propagator, with what routing decided: cache hit or miss, each model attempt (first, retry or
fallback) as an event, the model that served. Without the API nothing from OpenTelemetry is
imported (:mod:`.otel_server_spans` is its one importer); without an SDK the spans record
nothing.

The attributes are HTTP's server conventions and the local gateway's own ``orq.gateway.*``
(``gen_ai.*`` stays on the client's spans, so a backend adding up GenAI spans counts each
request once).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from types import ModuleType
from typing import Literal, Protocol

from ..extras import is_installed

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

#: ``version-traceid-parentid-flags``, lower-case hex (W3C Trace Context, level 1 and 2).
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_INVALID_VERSION = "ff"

#: Why a model was called: the request's first call, a retry of the same model, or a fallback.
AttemptKind = Literal["first", "retry", "fallback"]
Attributes = Mapping[str, "str | int"]


def caller_trace_id(headers: Mapping[str, str]) -> str | None:
    """The trace id of the request's ``traceparent`` header, when it holds a valid one."""
    value = headers.get("traceparent")
    if value is None:
        return None
    found = _TRACEPARENT.fullmatch(value.strip())
    if found is None:
        return None
    version, trace_id, parent_id, _ = found.groups()
    if version == _INVALID_VERSION or not int(trace_id, 16) or not int(parent_id, 16):
        return None
    return trace_id


class RequestSpan(Protocol):
    """What the app tells a request's span once it has answered (see :func:`answered`)."""

    def answered(self, attributes: Attributes, *, failed: bool) -> None: ...


class _Untraced:
    """A request's span when OpenTelemetry is not installed: records nothing."""

    def answered(self, attributes: Attributes, *, failed: bool) -> None:
        return None


_UNTRACED = _Untraced()


@functools.cache
def _otel_spans() -> ModuleType | None:
    """The OpenTelemetry implementation, or None when the API is not installed (checked once)."""
    if not is_installed("opentelemetry.trace"):
        return None
    from . import otel_server_spans

    return otel_server_spans


def server_span(
    method: str, path: str, headers: Mapping[str, str]
) -> AbstractContextManager[RequestSpan]:
    """The SERVER span of one request, current for as long as the block runs."""
    otel = _otel_spans()
    if otel is None:
        return nullcontext(_UNTRACED)
    attributes = {HTTP_REQUEST_METHOD: method, URL_PATH: path}
    span: AbstractContextManager[RequestSpan] = otel.server_span(
        f"{method} {path}", headers, attributes
    )
    return span


def answered(
    span: RequestSpan,
    status: int,
    *,
    trace_id: str,
    model: str | None,
    served_model: str | None,
    cache: str | None,
    refused_by: str | None,
) -> None:
    """Tell ``span`` how its request was answered: the status, and what routing decided.

    A 5xx (or a connection dropped on purpose, status 0) is an error, by HTTP's server
    conventions; a 4xx is the client's.
    """
    if span is _UNTRACED:
        return
    given = {MODEL: model, SERVED_MODEL: served_model, CACHE: cache, REFUSED_BY: refused_by}
    attributes: dict[str, str | int] = {
        HTTP_RESPONSE_STATUS_CODE: status,
        TRACE_ID: trace_id,
        **{name: value for name, value in given.items() if value is not None},
    }
    failed = status == 0 or status >= 500
    if failed:
        attributes[ERROR_TYPE] = str(status) if status else "dropped"
    span.answered(attributes, failed=failed)


def attempted(model: str, status: int, kind: AttemptKind) -> None:
    """Note one call of a model, and how it answered, on the current request's span."""
    otel = _otel_spans()
    if otel is not None:
        otel.add_event(
            ATTEMPT_EVENT, {MODEL: model, HTTP_RESPONSE_STATUS_CODE: status, ATTEMPT_KIND: kind}
        )
