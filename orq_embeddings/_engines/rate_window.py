"""A whole job's rate budget: rolling windows every worker's client asks before each request.

The workers of a Ray job each pace their own client (``_runtime.pacing``); a :class:`SharedWindow`
is what they ask, through the pacer's :class:`~orq_embeddings._runtime.pacing.SharedBudget` hook,
before each request, so ``requests_per_minute`` and ``tokens_per_minute`` hold for the job and not
per worker. One lives in one place (a Ray actor); it is pure, and reads time only from its clock.

A grant is a time stamp, never a lease:

- it counts in the window from the moment it was granted; when its request comes back it is
  stamped again with that moment, which is never before the server counted it;
- a grant whose end is never reported (its worker died mid-request) leaves the window one window
  after it was granted, as if its request had come back at once. Nothing is ever released, so a
  dead worker leaks no budget, and a slow one holds its slot no longer than its request lasts.

What else holds a grant back, as the pacer of a single client does (see ``_runtime.pacing``):

- the server's ``X-RateLimit-Limit``, once a worker has seen one, when it is below the budget;
- a 429's ``Retry-After`` (or its ``Reset``) holds every worker's new requests, not only the one
  that met it; a retry is not held (it has waited already). So does a ``Remaining`` of 0 that the
  grants cannot explain (someone else uses the key), until ``Reset``. A hold longer than
  ``max_hold`` is not kept: the request goes and its 429 is raised by the client;
- the tokens: estimated tokens in the window plus this request's would pass ``tokens_per_minute``
  (a request above the whole budget goes alone, once the window is empty).

If the holder restarts (its actor died and came back), what it granted is lost;
:meth:`SharedWindow.assume_full` takes the window as spent for one window, so the workers do not
burst into a window the server still counts.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .._runtime.pacing import header_number, reset_seconds, window_margin


@dataclass
class _Grant:
    at: float
    tokens: int


class SharedWindow:
    """The budgets of a whole job, granted request by request (see the module docstring).

    Args:
        requests_per_minute: requests the job may start in any window, or None.
        tokens_per_minute: estimated input tokens the job may send in any window, or None.
        window: the window's length in seconds.
        max_hold: the longest server-asked hold that is kept (the clients' ``max_retry_after``).
        clock: monotonic seconds.
    """

    def __init__(
        self,
        *,
        requests_per_minute: int | None,
        tokens_per_minute: int | None,
        window: float,
        max_hold: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.requests_per_minute = requests_per_minute
        self.tokens_per_minute = tokens_per_minute
        self._window = window
        self._margin = window_margin(window)
        self._max_hold = max_hold
        self._clock = clock
        self._grants: dict[str, _Grant] = {}
        #: (stamp, grant) for every stamp given, oldest first; a restamped grant's older entry
        #: is stale and skipped.
        self._stamps: list[tuple[float, str]] = []
        self._tokens_in_window = 0
        self._server_limit: int | None = None
        self._hold_until = -math.inf

    @property
    def counts_tokens(self) -> bool:
        """Whether requests need a token estimate (only with a ``tokens_per_minute`` budget)."""
        return self.tokens_per_minute is not None

    def try_take(self, grant: str, tokens: int, retry: bool = False) -> float:
        """Count request ``grant`` of ``tokens`` and return 0, or the seconds to wait."""
        now = self._clock()
        self._forget_expired(now)
        if now < self._hold_until and not retry:
            return self._hold_until - now
        limit = self._limit()
        if limit is not None and len(self._grants) >= limit:
            return self._until_a_grant_leaves(now)
        budget = self.tokens_per_minute
        if budget is not None and self._tokens_in_window + tokens > budget and self._grants:
            return self._until_a_grant_leaves(now)
        self._stamp(grant, _Grant(now, tokens))
        self._tokens_in_window += tokens
        return 0.0

    def finish(self, grant: str, status: int | None, headers: Mapping[str, str]) -> None:
        """Stamp ``grant`` again now, and read the server's rate-limit state off its answer."""
        now = self._clock()
        granted = self._grants.get(grant)
        if granted is not None:
            self._stamp(grant, _Grant(now, granted.tokens))
        if status is None:
            return
        limit = header_number(headers, "x-ratelimit-limit")
        if limit is not None and limit >= 1:
            self._server_limit = int(limit)
        if status == 429:
            asked = header_number(headers, "retry-after")
            self._hold(now, asked if asked is not None else reset_seconds(headers))
            return
        remaining = header_number(headers, "x-ratelimit-remaining")
        if remaining is None or remaining >= 1:
            return
        self._forget_expired(now)
        if self._server_limit is None or self._server_limit - remaining > len(self._grants):
            self._hold(now, reset_seconds(headers))

    def assume_full(self) -> None:
        """Hold new requests for one window: what was granted before a restart is unknown."""
        self._hold_until = max(self._hold_until, self._clock() + self._window)

    def _limit(self) -> int | None:
        limits = [x for x in (self.requests_per_minute, self._server_limit) if x is not None]
        return min(limits) if limits else None

    def _stamp(self, name: str, grant: _Grant) -> None:
        self._grants[name] = grant
        heapq.heappush(self._stamps, (grant.at, name))

    def _drop_stale(self) -> None:
        """Pop the oldest stamps that are no grant's current one (it was stamped again since)."""
        stamps = self._stamps
        while stamps:
            at, name = stamps[0]
            current = self._grants.get(name)
            if current is not None and current.at == at:
                return
            heapq.heappop(stamps)

    def _forget_expired(self, now: float) -> None:
        """Let every grant stamped more than a window (and the margin) ago leave the window."""
        while True:
            self._drop_stale()
            if not self._stamps or self._stamps[0][0] + self._window + self._margin > now:
                return
            _, name = heapq.heappop(self._stamps)
            self._tokens_in_window -= self._grants.pop(name).tokens

    def _until_a_grant_leaves(self, now: float) -> float:
        self._drop_stale()
        return max(0.001, self._stamps[0][0] + self._window + self._margin - now)

    def _hold(self, now: float, seconds: float | None) -> None:
        if seconds is not None and seconds <= self._max_hold:
            self._hold_until = max(self._hold_until, now + seconds)
