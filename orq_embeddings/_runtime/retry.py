"""The client's retry decision: whether to try a request again, and how long to wait first.

A pure policy: it sees the number of the attempt that failed and the error it failed with, and
answers with a delay in seconds or ``None`` (give up). Randomness and the wall clock are injected,
so tests state the exact schedule. The sleeping is done by the client, sync or async.

These are the *client's* retries. orq retries and falls back on its own side too
(:class:`orq_embeddings.options.RetryOptions`); the two multiply, so keep the client's small.

What waiting cannot fix is never retried: 501 and 505 (the server does not implement it), 402
and a 429 whose code says the quota is spent. A ``Retry-After`` beyond ``max_retry_after`` is not
slept either: a 429 becomes a RetryAfterTooLongError naming the wait the server asked for.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

from ..errors import (
    APIStatusError,
    NotSupportedByServerError,
    OrqConnectionError,
    OrqError,
    OrqTimeoutError,
    QuotaExceededError,
    RetryAfterTooLongError,
    TLSVerificationError,
    attach_note,
)

#: Statuses worth another attempt besides every 5xx: timeout, conflict, rate limit.
RETRYABLE_CLIENT_STATUSES = frozenset({408, 409, 429})


def _seconds_from_headers(headers: Mapping[str, str], now: float) -> float | None:
    """The wait a response asks for: ``retry-after-ms``, else ``Retry-After`` (seconds or date)."""
    milliseconds = headers.get("retry-after-ms")
    if milliseconds is not None:
        try:
            return max(0.0, float(milliseconds) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):  # a year beyond a C long: unreadable
        return None
    return max(0.0, float(when.timestamp()) - now)


@dataclass(frozen=True)
class RetryDecision:
    """What to do after a failed attempt: wait ``delay`` seconds and retry, or raise ``error``.

    ``error`` is the one to raise when ``delay`` is None: the attempt's own, or a more specific
    one (a RetryAfterTooLongError for a 429 that asked for too long a wait).
    """

    delay: float | None
    error: OrqError


@dataclass(frozen=True)
class RetryPolicy:
    """Retry connection errors, timeouts, 408, 409, 429 and 5xx; never another 4xx.

    Never retried either, as waiting cannot fix them: 501 and 505, 402, and a 429 whose code is
    ``insufficient_quota`` / ``quota_exceeded``. The wait is what the server asked for
    (``retry-after-ms`` or ``Retry-After``), if that is at most ``max_retry_after``; more than
    that is not waited for at all (the attempt's error is raised; a 429 as RetryAfterTooLongError).
    Without one: exponential backoff from ``initial_delay`` doubling up to ``max_delay``,
    shortened by up to ``jitter`` (a fraction) at random so that clients spread out.

    Attributes:
        max_retries: attempts after the first; 0 disables retrying.
        random: returns a float in [0, 1); injected for exact tests.
        clock: the wall clock in seconds since the epoch, for HTTP-date ``Retry-After`` values.
    """

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    jitter: float = 0.25
    max_retry_after: float = 60.0
    random: Callable[[], float] = field(default=random.random, repr=False, compare=False)
    clock: Callable[[], float] = field(default=time.time, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {self.max_retries}")
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"jitter must be within 0-1, got {self.jitter}")
        if min(self.initial_delay, self.max_delay, self.max_retry_after) < 0:
            raise ValueError("delays must be 0 or more")

    @staticmethod
    def is_retryable(error: BaseException) -> bool:
        """Whether another attempt could succeed where this one failed."""
        if isinstance(error, (QuotaExceededError, NotSupportedByServerError, TLSVerificationError)):
            return False
        if isinstance(error, APIStatusError):
            status = error.status_code
            return status in RETRYABLE_CLIENT_STATUSES or 500 <= status <= 599
        return isinstance(error, (OrqConnectionError, OrqTimeoutError))

    def backoff(self, attempt: int) -> float:
        """The wait after failed attempt number ``attempt`` (1-based) when the server named none."""
        ceiling = min(self.max_delay, self.initial_delay * 2.0 ** (attempt - 1))
        return ceiling * (1 - self.jitter * self.random())

    def decide(self, attempt: int, error: OrqError) -> RetryDecision:
        """Whether to retry after failed attempt number ``attempt`` (1-based), and after how long.

        Args:
            attempt: the number of the attempt that just failed, starting at 1.
            error: what it failed with.
        """
        if attempt > self.max_retries or not self.is_retryable(error):
            return RetryDecision(None, error)
        if isinstance(error, APIStatusError):
            asked = _seconds_from_headers(error.headers, self.clock())
            if asked is not None and asked > self.max_retry_after:
                return RetryDecision(None, self._wait_refused(error, asked))
            if asked is not None:
                return RetryDecision(asked, error)
        return RetryDecision(self.backoff(attempt), error)

    def _wait_refused(self, error: APIStatusError, asked: float) -> OrqError:
        """The error to raise for a response that asked for a wait beyond ``max_retry_after``."""
        if error.status_code == 429:
            return RetryAfterTooLongError(error, asked, self.max_retry_after)
        attach_note(
            error,
            f"not retried: Retry-After asked for {asked:g} s, more than "
            f"max_retry_after={self.max_retry_after:g} s",
        )
        return error

    def delay_for(self, attempt: int, error: OrqError) -> float | None:
        """Seconds to wait before the next attempt, or None to give up (see :meth:`decide`)."""
        return self.decide(attempt, error).delay


class RetryBudget:
    """The seconds one call has spent waiting between retries, against its budget.

    Shared by the call's batches, which may wait at once (threads, or tasks of one loop): a wait
    is taken whole or not at all, under a lock.
    """

    def __init__(self, budget: float) -> None:
        self.budget = budget
        self.spent = 0.0
        self._lock = threading.Lock()

    def take(self, seconds: float) -> bool:
        """Count a wait of ``seconds`` against the budget; False (counting none) past it."""
        with self._lock:
            if self.spent + seconds > self.budget:
                return False
            self.spent += seconds
            return True
