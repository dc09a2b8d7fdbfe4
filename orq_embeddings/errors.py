"""The typed errors the core raises, one class per thing a caller may want to handle differently.

Every error raised for a response carries the HTTP status, orq's error code, its message and the
``x-orq-trace-id`` that finds the request in orq's traces. No error ever holds request headers or
the API key.
"""

from __future__ import annotations

from collections.abc import Mapping


class OrqError(Exception):
    """Base class of every error this package raises on purpose."""


class InvalidInputError(OrqError, ValueError):
    """Inputs that cannot be embedded; raised before anything is sent.

    Attributes:
        positions: every offending position in the caller's list, in order.
    """

    def __init__(self, message: str, positions: tuple[int, ...]) -> None:
        super().__init__(message)
        self.positions = positions


class UnsupportedOptionError(OrqError, ValueError):
    """An option the chosen wire dialect's schema has no place for; raised before anything is sent.

    orq's schema refuses unknown keys, so sending it would fail every request with a 400.
    """


class OrqConnectionError(OrqError, ConnectionError):
    """The server could not be reached, or the connection broke before the response was complete."""


class OrqTimeoutError(OrqError, TimeoutError):
    """An attempt did not complete within the client's timeout (see also RequestTimeoutError)."""


class InvalidResponseError(OrqError):
    """A response that cannot be turned into vectors that are certainly aligned with the inputs.

    Attributes:
        batch: which batch of the call it was, as ``"batch 3 of 40 (inputs 512-767)"``.
        trace_id: orq's trace id for the request, when the response carried one.
    """

    def __init__(self, message: str, *, batch: str = "", trace_id: str | None = None) -> None:
        where = f"{batch}: " if batch else ""
        trace = f" (x-orq-trace-id {trace_id})" if trace_id else ""
        super().__init__(f"{where}{message}{trace}")
        self.batch = batch
        self.trace_id = trace_id


class RedirectError(OrqError):
    """The server answered with a redirect, which the client never follows.

    Following it could send the API key to another host; point ``base_url`` at the final address.
    """


class APIStatusError(OrqError):
    """orq answered with a non-success status.

    Attributes:
        status_code: the HTTP status.
        code: orq's (or the provider's) error code, such as ``"invalid_api_key"``, when given.
        message: the human-readable message from the body, or a description of an unreadable body.
        trace_id: the ``x-orq-trace-id`` response header, when present.
        headers: the response headers (the response's, never the request's).
    """

    def __init__(
        self,
        status_code: int,
        message: str,
        *,
        code: str | None = None,
        trace_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status_code = status_code
        self.code = code
        self.message = message
        self.trace_id = trace_id
        self.headers: Mapping[str, str] = dict(headers or {})
        label = f"{status_code} {code}" if code else str(status_code)
        trace = f" (x-orq-trace-id {trace_id})" if trace_id else ""
        super().__init__(f"orq.ai answered {label}: {message}{trace}")


class BadRequestError(APIStatusError):
    """400, 413, 422 and other client errors: the request itself must change."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing, wrong or revoked."""


class PermissionDeniedError(APIStatusError):
    """402 or 403: the key is valid but may not do this (quota exhausted, missing scope)."""


class NotFoundError(APIStatusError):
    """404: usually an unknown model id; orq does not fall back on it."""


class RequestTimeoutError(APIStatusError, OrqTimeoutError):
    """408 after the client's retries were spent: orq gave up waiting (also an OrqTimeoutError)."""


class RateLimitError(APIStatusError):
    """429 after the client's retries were spent."""


class ServerError(APIStatusError):
    """5xx after the client's retries were spent: orq or the provider behind it failed."""


_ERROR_CLASS_BY_STATUS: dict[int, type[APIStatusError]] = {
    401: AuthenticationError,
    402: PermissionDeniedError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: RequestTimeoutError,
    429: RateLimitError,
}


def error_class_for_status(status_code: int) -> type[APIStatusError]:
    """Pick the error class for a non-success status."""
    if status_code in _ERROR_CLASS_BY_STATUS:
        return _ERROR_CLASS_BY_STATUS[status_code]
    if status_code >= 500:
        return ServerError
    if 400 <= status_code < 500:
        return BadRequestError
    return APIStatusError
