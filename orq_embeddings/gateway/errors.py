"""The local gateway's error responses, in orq's current error body form.

Every error is ``{"error": {"code": ..., "message": ...}}`` with a message that names the field,
the limit or the model involved, so a test failure reads as a diagnosis.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

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


def error_code_for(status: int) -> str:
    """orq's error code for a status; a status without one is a provider's error."""
    return ERROR_CODE_BY_STATUS.get(status, "provider_error")


def error_body(code: str, message: str) -> bytes:
    """An orq-style error body as JSON bytes."""
    return json.dumps({"error": {"code": code, "message": message}}).encode("utf-8")


class GatewayError(Exception):
    """A request the gateway answers with an error status.

    Attributes:
        status: the HTTP status.
        code: orq's error code.
        message: what was wrong and what to change.
        headers: extra response headers, such as ``retry-after``.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or error_code_for(status)
        self.message = message
        self.headers: Mapping[str, str] = dict(headers or {})

    @property
    def body(self) -> bytes:
        return error_body(self.code, self.message)


def invalid_request(message: str) -> GatewayError:
    """A 400 ``invalid_request_body``."""
    return GatewayError(400, message)
