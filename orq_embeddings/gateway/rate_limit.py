"""A requests-per-minute limit per API key on a rolling window, the way orq documents its own.

orq limits requests per minute per workspace on a rolling 60 s window, and answers a request over
the limit with 429, ``Retry-After`` (seconds) and ``X-RateLimit-Limit``/``-Remaining``/``-Reset``
(shared/spec). The local gateway stands in for a workspace with the request's API key.

orq does not say what ``X-RateLimit-Reset`` holds. Here it is **seconds from now until the window
frees its next slot** (the oldest request counted leaves it), rounded up, never an epoch time:
a number a client can sleep on without trusting its clock against the server's. On a 429 it
equals ``Retry-After``.

The limiter is pure: it reads time only from the clock it is given, so a test steps through a
minute without waiting one. Only admitted requests are counted; a refused one leaves the window
as it was, so a client that retries too early does not push its own wait further out.
"""

from __future__ import annotations

import hashlib
import math
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .errors import GatewayError

#: orq's window: requests per minute, counted over the last 60 s rather than per clock minute.
WINDOW_SECONDS = 60.0

LIMIT_HEADER = "X-RateLimit-Limit"
REMAINING_HEADER = "X-RateLimit-Remaining"
RESET_HEADER = "X-RateLimit-Reset"
RETRY_AFTER_HEADER = "Retry-After"

#: The bucket shared by every request that carries no API key.
_NO_KEY = ""


def rate_key(headers: Mapping[str, str]) -> str:
    """The bucket a request counts against: a digest of its API key, or the shared keyless one.

    The key is the bearer token (or the whole ``Authorization`` value under another scheme). Only
    its digest is kept, so the limiter's memory holds no secret.
    """
    given = headers.get("authorization", "")
    scheme, _, token = given.partition(" ")
    key = token.strip() if scheme.lower() == "bearer" else given.strip()
    if not key:
        return _NO_KEY
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(frozen=True)
class RateDecision:
    """Whether one request is served, and the rate-limit headers its answer carries.

    Attributes:
        admitted: the request is within the limit (and now counted against it).
        limit: requests allowed per window.
        remaining: requests the key may still send in the current window.
        reset_seconds: whole seconds until the window frees its next slot, at least 1 (see the
            module's docstring); the wait a refused request is told in ``Retry-After``.
    """

    admitted: bool
    limit: int
    remaining: int
    reset_seconds: int
    window_seconds: float = WINDOW_SECONDS

    def headers(self) -> dict[str, str]:
        """The ``X-RateLimit-*`` headers, on every answer to a request the limiter saw."""
        return {
            LIMIT_HEADER: str(self.limit),
            REMAINING_HEADER: str(self.remaining),
            RESET_HEADER: str(self.reset_seconds),
        }

    def refusal(self) -> GatewayError:
        """The 429 a refused request is answered with, ``Retry-After`` and all."""
        return GatewayError(
            429,
            f"rate limit exceeded: this gateway allows {self.limit} requests per minute per API "
            f"key (rolling {self.window_seconds:g} s window); retry after {self.reset_seconds} s",
            code="rate_limit_exceeded",
            headers={**self.headers(), RETRY_AFTER_HEADER: str(self.reset_seconds)},
        )


class RollingWindowLimiter:
    """At most ``limit`` admitted requests per key in any ``window_seconds`` span.

    Args:
        limit: requests allowed per window, at least 1.
        clock: monotonic seconds.
        window_seconds: the span requests are counted over.

    Raises:
        ValueError: a limit under 1 or a window that is not positive.
    """

    def __init__(
        self,
        limit: int,
        clock: Callable[[], float],
        *,
        window_seconds: float = WINDOW_SECONDS,
    ) -> None:
        if limit < 1:
            raise ValueError(f"a rate limit must allow at least 1 request, not {limit}")
        if window_seconds <= 0:
            raise ValueError(f"a rate-limit window must be positive, not {window_seconds}")
        self.limit = limit
        self._clock = clock
        self._window = window_seconds
        #: Per key, when each request still in the window was admitted, oldest first.
        self._admitted: dict[str, deque[float]] = {}

    def admit(self, key: str) -> RateDecision:
        """Count a request against ``key`` if the window has room; say so either way."""
        now = self._clock()
        times = self._admitted.setdefault(key, deque())
        while times and times[0] + self._window <= now:
            times.popleft()
        admitted = len(times) < self.limit
        if admitted:
            times.append(now)
        reset = math.ceil(times[0] + self._window - now)
        return RateDecision(
            admitted, self.limit, self.limit - len(times), max(reset, 1), self._window
        )

    def clear(self) -> None:
        """Forget every request counted, as a freshly started gateway would."""
        self._admitted.clear()
