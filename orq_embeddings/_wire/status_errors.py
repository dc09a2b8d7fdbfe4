"""Status to error: a response that is not a 2xx becomes the typed error its status calls for.

Every generation of orq's error bodies (and OpenAI's) is read; the server's text is made
printable before it reaches a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from ..errors import APIStatusError, RedirectError, error_class_for_status
from .json_body import printable, read_json
from .raw_response import RawResponse


@dataclass(frozen=True)
class _ErrorFields:
    """What an error body says, whichever generation of orq's error bodies it is."""

    code: str | None = None
    message: str | None = None
    param: str | None = None
    failures: tuple[Any, ...] = ()


def error_fields(payload: object) -> _ErrorFields:
    """The code, message, param and failures of any of the error body generations in the spec."""
    if not isinstance(payload, dict):
        return _ErrorFields()
    error = payload.get("error")
    if isinstance(error, dict):  # current orq shape, or OpenAI's
        code = error.get("code") or error.get("type")
        message = error.get("message")
        param = error.get("param")
        param = param if isinstance(param, str) and param else None
        if isinstance(message, str) and param:
            message = f"{message} (param: {param})"
        failures = error.get("failures")
        return _ErrorFields(
            code=str(code) if code is not None else None,
            message=message if isinstance(message, str) else None,
            param=param,
            failures=tuple(failures) if isinstance(failures, list) else (),
        )
    if isinstance(error, str):  # legacy {"code": 404, "error": "...", "source": ...}
        source = payload.get("source")
        suffix = f" (source: {source})" if isinstance(source, str) else ""
        return _ErrorFields(message=error + suffix)
    message = payload.get("message")
    return _ErrorFields(message=message if isinstance(message, str) else None)


def error_from_response(response: RawResponse, host: str | None = None) -> APIStatusError:
    """The typed error for a non-success response, whatever shape its body has.

    Args:
        host: who answered (``api.orq.ai``, ``127.0.0.1:8123``), for the message.
    """
    status = response.status_code
    try:
        payload: Any = read_json(response)
    except ValueError as unreadable:
        fields = _ErrorFields(message=str(unreadable))
    else:
        fields = error_fields(payload)
    error_class = error_class_for_status(status, fields.code)
    return error_class(
        status,
        printable(fields.message if fields.message is not None else _status_phrase(status)),
        code=None if fields.code is None else printable(fields.code),
        trace_id=response.trace_id,
        headers=response.headers,
        span_id=response.span_id,
        param=None if fields.param is None else printable(fields.param),
        failures=fields.failures,
        host=host,
    )


def _status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "unrecognised status"


def raise_for_status(response: RawResponse, host: str | None = None) -> None:
    """Return for a 2xx response; otherwise raise the error the status and body call for.

    Args:
        host: who answered, named in the error's message (``127.0.0.1:8123`` is not orq.ai).
    """
    status = response.status_code
    if 200 <= status < 300:
        return
    if 300 <= status < 400:
        location = printable(response.headers.get("location", "an unnamed location"))
        raise RedirectError(
            f"{host or 'the server'} answered {status}, redirecting to {location}. Redirects are "
            "never followed, so the API key is never sent elsewhere; set base_url to the final "
            "address."
        )
    raise error_from_response(response, host)
