"""The typed errors the core raises, one class per thing a caller may want to handle differently.

Every error raised for a response carries the HTTP status, orq's error code, its message, the
host that answered, and the ``x-orq-trace-id`` / ``x-orq-trace-span-id`` that find the request in
orq's traces; when every model of a fallback chain failed, orq's ``failures`` too. No error ever
holds request headers or the API key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

#: How many of orq's ``failures`` an error message spells out (all are kept in the attribute).
_FAILURES_SHOWN = 6


class OrqError(Exception):
    """Base class of every error this package raises on purpose."""


def attach_note(error: BaseException, note: str) -> None:
    """Attach context to an error (shown under its traceback on Python 3.11+; ignored before)."""
    add_note = getattr(error, "add_note", None)
    if add_note is not None:
        add_note(note)


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


class UnsupportedOptionError(ConfigurationError):
    """An option the chosen wire dialect's schema has no place for; refused when the client is made.

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


class EmbeddingSpaceError(OrqError):
    """Vectors of one vector space met another, and the vectors were refused.

    Raised by a client bound to a space when a response comes from another (a fallback or a load
    balancer routed to another model), by a store's guard when the store's stamp names another
    space (or is damaged, or was written by a newer version), and by a bulk job whose batches came
    from two spaces. Vectors of two spaces are not comparable even at equal length: an index that
    mixes them returns wrong neighbours without any error (see :mod:`orq_embeddings.space`).

    Attributes:
        expected: the :class:`~orq_embeddings.space.EmbeddingSpace` the client, store or job
            holds to, when known (typed Any here: the space module imports this one).
        served: the EmbeddingSpace met instead, when known.
    """

    def __init__(self, message: str, *, expected: Any = None, served: Any = None) -> None:
        super().__init__(message)
        self.expected = expected
        self.served = served


class RedirectError(OrqError):
    """The server answered with a redirect, which the client never follows.

    Following it could send the API key to another host; point ``base_url`` at the final address.
    """


class APIStatusError(OrqError):
    """The server answered with a non-success status.

    Attributes:
        status_code: the HTTP status.
        code: orq's (or the provider's) error code, such as ``"invalid_api_key"``, when given.
        message: the human-readable message from the body, or a description of an unreadable body.
        trace_id: the ``x-orq-trace-id`` response header, when present.
        span_id: the ``x-orq-trace-span-id`` response header, when present.
        param: the request field the error is about, when the body names one.
        failures: orq's ``failures`` (each failed attempt of a fallback chain, untyped JSON as
            orq sent it: usually ``{"model", "status"}`` objects), or ``()``.
        host: who answered (``api.orq.ai``, ``127.0.0.1:8123``), as the message names it.
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
        span_id: str | None = None,
        param: str | None = None,
        failures: Sequence[Any] = (),
        host: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.code = code
        self.message = message
        self.trace_id = trace_id
        self.span_id = span_id
        self.param = param
        self.failures = tuple(failures)
        self.host = host
        self.headers: Mapping[str, str] = dict(headers or {})
        label = f"{status_code} {code}" if code else str(status_code)
        ids = [f"x-orq-trace-id {trace_id}"] * bool(trace_id)
        ids += [f"x-orq-trace-span-id {span_id}"] * bool(span_id)
        trace = f" ({', '.join(ids)})" if ids else ""
        super().__init__(
            f"{host or 'the server'} answered {label}: {message}"
            f"{describe_failures(self.failures)}{self._advice}{trace}"
        )

    #: A sentence a subclass adds when the status itself says what to do.
    _advice = ""


def describe_failures(failures: Sequence[Any]) -> str:
    """orq's failed attempts as a clause for an error message: ``; attempts: a 503, b 502``."""
    if not failures:
        return ""
    shown = [_describe_failure(failure) for failure in failures[:_FAILURES_SHOWN]]
    more = len(failures) - _FAILURES_SHOWN
    return f"; failed attempts: {', '.join(shown)}" + (f" and {more} more" if more > 0 else "")


def _describe_failure(failure: Any) -> str:
    if isinstance(failure, Mapping) and "model" in failure and "status" in failure:
        return f"{failure['model']} {failure['status']}"
    return repr(failure)[:80]


class BadRequestError(APIStatusError):
    """400, 413, 422 and other client errors: the request itself must change."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing, wrong or revoked."""


class PermissionDeniedError(APIStatusError):
    """403 (and 402, see QuotaExceededError): the key is valid but may not do this."""


class NotFoundError(APIStatusError):
    """404: usually an unknown model id; orq does not fall back on it."""


class RequestTimeoutError(APIStatusError, OrqTimeoutError):
    """408 after the client's retries were spent: orq gave up waiting (also an OrqTimeoutError)."""


class RateLimitError(APIStatusError):
    """429 after the client's retries were spent."""


class QuotaExceededError(PermissionDeniedError, RateLimitError):
    """402, or a 429 whose code is ``insufficient_quota`` / ``quota_exceeded``: never retried.

    The quota, budget or plan is spent; it does not clear within a rate-limit window, so waiting
    and trying again only spends the call's time. Both a PermissionDeniedError and a
    RateLimitError, so either ``except`` catches it.
    """

    _advice = (
        " (the quota or budget is spent: waiting will not help; raise the limit or the plan, "
        "or try again when its period resets)"
    )


class RetryAfterTooLongError(RateLimitError):
    """A 429 whose ``Retry-After`` asked for more than the client's ``max_retry_after``.

    The client does not sleep that long inside one call; the wait the server asked for is in
    ``retry_after`` (seconds) and in the message, so the caller can schedule the retry itself.
    """

    def __init__(self, error: APIStatusError, retry_after: float, cap: float) -> None:
        self.retry_after = retry_after
        self.cap = cap
        self._advice = (
            f" (the server asked to wait {retry_after:g} s before trying again, more than "
            f"max_retry_after={cap:g} s, so the client did not wait; try again later or raise "
            "max_retry_after)"
        )
        super().__init__(
            error.status_code,
            error.message,
            code=error.code,
            trace_id=error.trace_id,
            headers=error.headers,
            span_id=error.span_id,
            param=error.param,
            failures=error.failures,
            host=error.host,
        )


class ServerError(APIStatusError):
    """5xx after the client's retries were spent: orq or the provider behind it failed."""


class NotSupportedByServerError(ServerError):
    """501 or 505: the server does not implement what was asked; never retried."""

    _advice = " (the server does not support this request: waiting will not help)"


#: 429 error codes that mean a spent quota, not a busy moment (shared/spec).
QUOTA_ERROR_CODES = frozenset({"insufficient_quota", "quota_exceeded"})


_ERROR_CLASS_BY_STATUS: dict[int, type[APIStatusError]] = {
    401: AuthenticationError,
    402: QuotaExceededError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: RequestTimeoutError,
    429: RateLimitError,
    501: NotSupportedByServerError,
    505: NotSupportedByServerError,
}


def error_class_for_status(status_code: int, code: str | None = None) -> type[APIStatusError]:
    """Pick the error class for a non-success status and, where it decides, orq's error code."""
    if status_code == 429 and code in QUOTA_ERROR_CODES:
        return QuotaExceededError
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


class TLSVerificationError(OrqConnectionError):
    """The server's certificate failed the check (unknown CA, wrong host name, expired).

    Never retried: another attempt meets the same certificate. The fix is on this side (trust
    the network's CA with ``verify=`` a bundle path, ``REQUESTS_CA_BUNDLE`` or
    ``SSL_CERT_FILE``) or on the server's.

    Attributes:
        host: the host whose certificate was refused.
    """

    def __init__(self, message: str, *, host: str) -> None:
        super().__init__(message)
        self.host = host


class ResponseTooLargeError(InvalidResponseError):
    """A response body grew past ``max_response_bytes`` (after decompression); it was abandoned."""


def _status_fields(error: APIStatusError) -> dict[str, Any]:
    """The keyword arguments that make another APIStatusError of the same response."""
    return {
        "code": error.code,
        "trace_id": error.trace_id,
        "headers": error.headers,
        "span_id": error.span_id,
        "param": error.param,
        "failures": error.failures,
        "host": error.host,
    }


class BatchTooLargeError(BadRequestError):
    """A batch of one input still refused for its size (413, or a 400 naming a batch limit).

    The client splits a batch the server refuses for its size, down to single inputs; when even
    one input is refused that way, no split can help.

    Attributes:
        position: the input's position in the caller's list.
    """

    def __init__(self, error: APIStatusError, position: int) -> None:
        self.position = position
        self._advice = (
            f" (input {position} was refused for its size even alone, after the batch was split "
            "down to single inputs; shorten it or lower max_batch_bytes)"
        )
        super().__init__(error.status_code, error.message, **_status_fields(error))


class InputTooLongError(BadRequestError):
    """A 400 saying an input is longer than the model takes (its context length); never split.

    Attributes:
        position: the input's position in the caller's list, when the server named its index in
            the batch; else None, and ``first``/``last`` bound where it is.
        first, last: the caller's positions of the refused batch's first and last input.
    """

    def __init__(self, error: APIStatusError, position: int | None, first: int, last: int) -> None:
        self.position = position
        self.first = first
        self.last = last
        where = f"input {position}" if position is not None else f"one of inputs {first}-{last}"
        self._advice = f" ({where} is too long for the model: shorten or chunk it)"
        super().__init__(error.status_code, error.message, **_status_fields(error))
