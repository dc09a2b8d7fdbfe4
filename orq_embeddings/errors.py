"""The typed errors the core raises, one class per thing a caller may want to handle differently.

Every error raised for a response carries the HTTP status, orq's error code, its message and the
``x-orq-trace-id`` that finds the request in orq's traces. No error ever holds request headers or
the API key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple


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


#: Where a setting sits, from the top: ``("orq", "retry", "count")``; list positions are ints.
SettingPath = tuple[str | int, ...]


class ConfigurationProblem(NamedTuple):
    """One thing wrong with the settings: the setting at fault and what to do about it.

    ``message`` reads after the setting's name (``"must be from 0 to 5, got 9"``); for a problem
    of the settings as a whole, ``path`` is empty and ``message`` stands alone.
    """

    path: SettingPath
    message: str


def dotted_name(path: SettingPath) -> str:
    """A setting's name as Python spells it: ``orq.retry.count``, ``load_balancer.models[0]``."""
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else f".{part}" if name else part
    return name


class ConfigurationError(OrqError, ValueError):
    """Settings that cannot work, refused when the client is made, before anything is sent.

    Attributes:
        problems: each setting at fault and what is wrong with it, so that a surface with its own
            names for the settings (the command line's flags) can say it in those names.
    """

    def __init__(self, problems: Sequence[ConfigurationProblem]) -> None:
        self.problems = tuple(ConfigurationProblem(*problem) for problem in problems)
        super().__init__(self.describe())

    def __reduce__(self) -> tuple[Any, ...]:
        # Made again from its problems, so it crosses to another process (a worker pool) whole.
        return (type(self), (self.problems,))

    def describe(self, name_of: Callable[[SettingPath], str] = dotted_name) -> str:
        """One paragraph naming every problem, each setting named by ``name_of``."""
        return "; ".join(
            f"{name_of(problem.path)}: {problem.message}" if problem.path else problem.message
            for problem in self.problems
        )


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


class NameResolutionError(OrqConnectionError):
    """The base URL's host name could not be resolved (DNS): a typo, or no network.

    Attributes:
        host: the name that did not resolve.
    """

    def __init__(self, message: str, *, host: str) -> None:
        super().__init__(message)
        self.host = host


class ResponseTooLargeError(InvalidResponseError):
    """A response body grew past ``max_response_bytes`` (after decompression); it was abandoned."""
