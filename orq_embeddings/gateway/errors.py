"""The local gateway's error responses, in the shape orq-ai-sdk 4.17 parses.

Every error is ``{"error": {"code", "message", "param", "type"}}`` (shared/spec, generation 2:
the SDK's ``APIError`` requires all four, ``code`` and ``param`` nullable), plus ``failures``, the
model and status of every attempt, when every model of a request's chain failed. The message
names the field, the limit or the model involved, and ``param`` names the field by itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

#: orq's documented error codes by status (shared/spec); statuses orq documents no code for get
#: the local gateway's own, equally plain, names.
ERROR_CODE_BY_STATUS: Mapping[int, str] = {
    400: "invalid_request_body",
    401: "invalid_api_key",
    402: "quota_exceeded",
    403: "insufficient_scope",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "request_too_large",
    422: "provider_credential_invalid",
    429: "rate_limit_exceeded",
    502: "provider_error",
    503: "provider_overloaded",
    504: "provider_timeout",
}


#: The OpenAI-style ``type`` by status. orq publishes no list of types; these are OpenAI's names,
#: which the OpenAI-compatible router speaks, and any string satisfies the SDK.
_ERROR_TYPE_BY_STATUS: Mapping[int, str] = {
    401: "authentication_error",
    402: "permission_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
}


def error_code_for(status: int) -> str:
    """orq's error code for a status; a status without one is a provider's error."""
    return ERROR_CODE_BY_STATUS.get(status, "provider_error")


def error_type_for(status: int) -> str:
    """The error's ``type``: a client error is an invalid request, a server error an API error."""
    default = "api_error" if status >= 500 else "invalid_request_error"
    return _ERROR_TYPE_BY_STATUS.get(status, default)


def error_body(
    status: int,
    code: str,
    message: str,
    *,
    param: str | None = None,
    failures: Sequence[Mapping[str, object]] | None = None,
) -> bytes:
    """An error body as JSON bytes, in the shape SDK 4.17 parses."""
    error: dict[str, object] = {
        "code": code,
        "message": message,
        "param": param,
        "type": error_type_for(status),
    }
    if failures is not None:
        error["failures"] = [dict(failure) for failure in failures]
    return json.dumps({"error": error}).encode("utf-8")


class GatewayError(Exception):
    """A request the gateway answers with an error status.

    Attributes:
        status: the HTTP status.
        code: orq's error code.
        message: what was wrong and what to change.
        headers: extra response headers, such as ``retry-after``.
        param: the request field at fault, dotted (``orq.identity.email``), when there is one.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or error_code_for(status)
        self.message = message
        self.headers: Mapping[str, str] = dict(headers or {})
        self.param = param

    @property
    def failures(self) -> Sequence[Mapping[str, object]] | None:
        """The failed attempts behind this error, when it ends a chain of them."""
        return None

    @property
    def body(self) -> bytes:
        return error_body(
            self.status, self.code, self.message, param=self.param, failures=self.failures
        )


def invalid_request(message: str, param: str | None = None) -> GatewayError:
    """A 400 ``invalid_request_body``, naming the field at fault in ``param``."""
    return GatewayError(400, message, param=param)
