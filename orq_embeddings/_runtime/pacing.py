"""Pacing: when the next request may start, from the client's budgets and what the server says.

orq limits requests per minute on a rolling 60 s window and says so on every answer
(``X-RateLimit-Limit``/``-Remaining``/``-Reset``; ``Retry-After`` on a 429). A client that only
retries 429s meets the limit with every request it has in flight, and when the wait ends they all
fire at once into a window that has room for one. The :class:`Pacer` instead decides, before each
attempt, whether it may start now, and how long to wait if not. One pacer serves a client and its
``with_options`` copies, from any thread and any event loop (its state is under a threading lock;
waiters sleep in their own thread or loop and ask again).

What it keeps: every request started in the last window (stamped again with the time its
response came back, which is never before the server counted it), with its estimated tokens.

What holds a start back:

- a hold: after a 429 (its ``Retry-After``; the retry of that request has waited it already and
  is not held again), or an ``X-RateLimit-Remaining: 0`` that the client's
  own record cannot explain (someone else uses the key), until the server's ``Reset``. A hold
  longer than ``max_retry_after`` is not kept: the request goes and its 429 is raised, as before.
- the window: as many requests in the last window as ``requests_per_minute``, or as the server's
  ``X-RateLimit-Limit`` once one was seen. A slot frees a window (plus a small margin for clock
  edges) after the response of the request that took it.
- tokens: the estimated tokens in the window plus this request's would pass ``tokens_per_minute``.
  A batch estimated above the whole budget is sent alone, once the window is empty (it could
  never start otherwise); a warning names it. Lower ``batch_size`` or ``max_batch_bytes`` to
  avoid it.
- a cap on requests in flight, lowered on a 429 (halved) or to a low ``Remaining`` the record
  cannot explain, and raised again by one every ``cap`` successes (AIMD) until it no longer binds.

Tokens are estimated at one per :data:`INITIAL_CHARS_PER_TOKEN` characters (token-id inputs count
exactly) until the server reports ``usage``; from then on at the characters per token it reports.

``X-RateLimit-Reset`` is read as seconds from now (what the local gateway sends; orq does not say);
a value beyond :data:`_EPOCH_THRESHOLD` is taken as a Unix time.

Waiting is not part of an attempt's ``timeout`` (that is connect to last byte), nor of the
``retry_wait_budget`` (that counts retries): a paced wait lasts at most a window, or a hold of at
most ``max_retry_after``. It is interruptible: async waits are cancelled with their task; a sync
call's waits end at once when the call is abandoned (Ctrl-C in the caller's thread, or a broken
``iter_batches``), and no request starts after that.

A :class:`SharedBudget` makes the budgets a whole job's rather than one client's: the clients of
many processes (the workers of a Ray job) draw on one. A pacer given one (:meth:`Pacer.draw_from`)
asks it before each start, after its own checks, and tells it how each request ended; the budget
then owns the windows and the server's ``X-RateLimit`` state, and the pacer keeps only what is its
own process's: holds after its 429s, and the cap on its requests in flight.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from .._wire.inputs import EmbeddingInput

logger = logging.getLogger("orq_embeddings")

#: Characters per token assumed until the server reports usage (English text runs about 4).
INITIAL_CHARS_PER_TOKEN = 3.0
#: How often a waiter asks again when it waits for a request in flight to finish.
POLL_SECONDS = 0.02
#: The longest a waiter sleeps before asking again: what it waits for may change meanwhile (a
#: calibrated token estimate, a slot freed early), and asking is cheap.
RECHECK_SECONDS = 0.25
#: The most time a window slot is kept beyond its window, for clock edges between the two sides.
MAX_MARGIN_SECONDS = 0.25


def window_margin(window: float) -> float:
    """How long a slot is kept beyond a ``window`` of that many seconds: 2% of it, at most
    :data:`MAX_MARGIN_SECONDS` (a shortened test window gets a margin to scale)."""
    return min(MAX_MARGIN_SECONDS, window * 0.02)


#: A ``Reset`` larger than this is a Unix time, not seconds from now.
_EPOCH_THRESHOLD = 1e9


class CallAbandoned(Exception):
    """A sync call was given up while one of its batches waited for its turn to start."""


@dataclass
class Start:
    """One request counted in the window: when it started (then, when it came back), its tokens."""

    at: float
    tokens: int
    done: bool = False
    #: The name a shared budget granted this request under, when the pacer draws on one.
    grant: str | None = None


class SharedBudget(Protocol):
    """A rate budget the clients of many processes draw on: a whole job's windows, not a client's.

    It may live in another process (an actor): asking it is a call there. It must never need to be
    told anything to free what it granted, since a process that dies mid-request tells it nothing:
    a grant is a time stamp that leaves the window by itself.
    """

    @property
    def counts_tokens(self) -> bool:
        """Whether requests need a token estimate (the budget has a ``tokens_per_minute``)."""
        ...

    def try_take(self, tokens: int, *, retry: bool) -> str | float:
        """Count a request of ``tokens`` and return the grant's name, or seconds to wait.

        A ``retry`` has waited what its 429 asked for already, and is not held again.
        """
        ...

    def finish(self, grant: str, status: int | None, headers: Mapping[str, str]) -> None:
        """Say that request ``grant`` came back with ``status`` (None: no response), ``headers``."""
        ...


def header_number(headers: Mapping[str, str], name: str) -> float | None:
    """Header ``name`` as a finite, non-negative number, or None (absent or not a number)."""
    value = headers.get(name)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


class Pacer:
    """Decides when a request may start, for a client and its copies (see the module docstring).

    Args:
        requests_per_minute: the client's request budget per window, or None.
        tokens_per_minute: the client's token budget per window, or None.
        window: the window's length in seconds.
        max_concurrency: the in-flight cap AIMD recovers to, after which it no longer binds.
        max_hold: the longest server-asked hold that is kept (``max_retry_after``).
        clock: monotonic seconds; wall time elsewhere.
    """

    def __init__(
        self,
        *,
        requests_per_minute: int | None,
        tokens_per_minute: int | None,
        window: float,
        max_concurrency: int,
        max_hold: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.requests_per_minute = requests_per_minute
        self.tokens_per_minute = tokens_per_minute
        self._window = window
        self._margin = window_margin(window)
        self._max_concurrency = max_concurrency
        self._max_hold = max_hold
        self._clock = clock
        self._lock = threading.Lock()
        self._starts: deque[Start] = deque()
        self._tokens_in_window = 0
        self._in_flight = 0
        #: The in-flight cap; None when it does not bind.
        self._cap: float | None = None
        self._hold_until = -math.inf
        self._server_limit: int | None = None
        self._chars_reported = 0
        self._tokens_reported = 0
        self._shared: SharedBudget | None = None

    def draw_from(self, shared: SharedBudget) -> None:
        """Ask ``shared`` before each start too, and leave the server's limits to it.

        The server's ``X-RateLimit-Limit`` and ``-Remaining`` describe the key's whole use, which
        only the shared budget sees; this pacer then heeds only its own 429s.
        """
        self._shared = shared

    @property
    def counts_tokens(self) -> bool:
        """Whether requests need a token estimate (only with a ``tokens_per_minute`` budget)."""
        shared = self._shared
        return self.tokens_per_minute is not None or (shared is not None and shared.counts_tokens)

    def estimate(self, inputs: Sequence[EmbeddingInput]) -> int:
        """The tokens ``inputs`` are expected to count for: token ids exactly, text by length."""
        with self._lock:
            chars_per_token = (
                self._chars_reported / self._tokens_reported
                if self._tokens_reported
                else INITIAL_CHARS_PER_TOKEN
            )
        tokens = 0
        for item in inputs:
            if isinstance(item, str):
                tokens += max(1, math.ceil(len(item) / chars_per_token))
            else:
                tokens += len(item)
        return tokens

    def calibrate(self, chars: int, reported_tokens: int) -> None:
        """Learn the characters per token from a batch of ``chars`` the server counted."""
        if chars > 0 and reported_tokens > 0:
            with self._lock:
                self._chars_reported += chars
                self._tokens_reported += reported_tokens

    def try_start(self, tokens: int = 0, *, retry: bool = False) -> Start | float:
        """Count a request as started and return it, or the seconds to wait before asking again.

        A ``retry`` is not held back by a hold: it has just waited what its 429 asked for (with
        the client's retry sleep); the cap and the window still apply to it.
        """
        now = self._clock()
        with self._lock:
            self._forget_expired(now)
            if now < self._hold_until and not retry:
                return self._hold_until - now
            if self._cap is not None and self._in_flight >= int(self._cap):
                return POLL_SECONDS
            limit = self._window_limit()
            if limit is not None and len(self._starts) >= limit:
                return self._until_a_slot_frees(now)
            budget = self.tokens_per_minute
            alone = False
            if budget is not None and self._tokens_in_window + tokens > budget:
                if self._starts:
                    return self._until_a_slot_frees(now)
                alone = tokens > budget
            start = Start(now, tokens)
            self._starts.append(start)
            self._tokens_in_window += tokens
            self._in_flight += 1
        if alone:
            logger.warning(
                "a batch estimated at %d tokens is more than tokens_per_minute=%d: it is sent "
                "alone; lower batch_size or max_batch_bytes to keep batches within the budget",
                tokens,
                budget,
            )
        if self._shared is not None:
            # Asked outside the lock: it may be a call to another process.
            turn = self._shared.try_take(tokens, retry=retry)
            if not isinstance(turn, str):
                self._withdraw(start)
                return turn
            start.grant = turn
        return start

    def _withdraw(self, start: Start) -> None:
        """Uncount ``start``, which the shared budget did not grant: it never went."""
        with self._lock:
            self._starts.remove(start)
            self._tokens_in_window -= start.tokens
            self._in_flight -= 1

    def finish(self, start: Start, status: int | None, headers: Mapping[str, str]) -> None:
        """Record that ``start`` came back with ``status`` (None: no response) and ``headers``."""
        now = self._clock()
        if self._shared is not None and start.grant is not None:
            self._shared.finish(start.grant, status, headers)
        with self._lock:
            start.at = now
            start.done = True
            self._in_flight -= 1
            if status is None:
                return
            limit = header_number(headers, "x-ratelimit-limit")
            if limit is not None and limit >= 1 and self._shared is None:
                self._server_limit = int(limit)
            if status == 429:
                self._slow_down(now, headers)
            elif 200 <= status < 300:
                self._speed_up()
            if status != 429 and self._shared is None:
                self._heed_remaining(now, headers)

    def _window_limit(self) -> int | None:
        limits = [
            limit for limit in (self.requests_per_minute, self._server_limit) if limit is not None
        ]
        return min(limits) if limits else None

    def _forget_expired(self, now: float) -> None:
        """Drop the oldest requests back for longer than a window (and the margin)."""
        starts = self._starts
        while starts and starts[0].done and starts[0].at + self._window + self._margin <= now:
            self._tokens_in_window -= starts.popleft().tokens

    def _until_a_slot_frees(self, now: float) -> float:
        oldest = self._starts[0]
        if not oldest.done:
            return POLL_SECONDS
        return max(POLL_SECONDS, oldest.at + self._window + self._margin - now)

    def _hold(self, now: float, seconds: float | None) -> None:
        if seconds is not None and seconds <= self._max_hold:
            self._hold_until = max(self._hold_until, now + seconds)

    def _slow_down(self, now: float, headers: Mapping[str, str]) -> None:
        """A 429: halve the in-flight cap and hold starts for as long as the server asked."""
        in_flight = self._in_flight + 1
        current = in_flight if self._cap is None else min(self._cap, in_flight)
        self._cap = max(1.0, current / 2)
        asked = header_number(headers, "retry-after")
        self._hold(now, asked if asked is not None else reset_seconds(headers))

    def _speed_up(self) -> None:
        """A success: raise the cap by one every ``cap`` successes, until it no longer binds."""
        if self._cap is not None:
            self._cap += 1 / self._cap
            if self._cap > self._max_concurrency:
                self._cap = None

    def _heed_remaining(self, now: float, headers: Mapping[str, str]) -> None:
        """A low ``Remaining`` the record does not explain lowers the cap; 0 holds until Reset.

        With the server's limit known, the record explains ``limit - remaining`` requests when
        it holds at least that many: then the window already paces them, more exactly than a
        ``Reset`` rounded up to whole seconds would.
        """
        remaining = header_number(headers, "x-ratelimit-remaining")
        if remaining is None:
            return
        limit = self._server_limit
        if limit is not None and limit - remaining <= len(self._starts):
            return
        if remaining < 1:
            self._hold(now, reset_seconds(headers))
        elif remaining < (self._cap if self._cap is not None else self._max_concurrency):
            self._cap = max(1.0, remaining)


def reset_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds until ``X-RateLimit-Reset``: seconds from now, or a Unix time made relative."""
    reset = header_number(headers, "x-ratelimit-reset")
    if reset is not None and reset > _EPOCH_THRESHOLD:
        return max(0.0, reset - time.time())
    return reset


def _tokens_of(pacer: Pacer, inputs: Sequence[EmbeddingInput] | None) -> int:
    # Estimated at each try, so a wait started before the first usage came back is calibrated.
    return 0 if inputs is None else pacer.estimate(inputs)


def wait_to_start(
    pacer: Pacer,
    inputs: Sequence[EmbeddingInput] | None,
    abandoned: threading.Event | None,
    *,
    retry: bool = False,
) -> Start:
    """Block until ``pacer`` lets a request of ``inputs`` start; its :class:`Start`.

    ``inputs`` is None when the pacer counts no tokens.

    Raises:
        CallAbandoned: ``abandoned`` was set while waiting (the call was given up).
    """
    while True:
        turn = pacer.try_start(_tokens_of(pacer, inputs), retry=retry)
        if isinstance(turn, Start):
            return turn
        turn = min(turn, RECHECK_SECONDS)
        if abandoned is None:
            time.sleep(turn)  # the caller's own thread: Ctrl-C interrupts it
        elif abandoned.wait(turn):
            raise CallAbandoned("the call was abandoned while this batch waited to start")


async def await_start(
    pacer: Pacer, inputs: Sequence[EmbeddingInput] | None, *, retry: bool = False
) -> Start:
    """:func:`wait_to_start` for an event loop; cancelling the task ends the wait."""
    while True:
        turn = pacer.try_start(_tokens_of(pacer, inputs), retry=retry)
        if isinstance(turn, Start):
            return turn
        await asyncio.sleep(min(turn, RECHECK_SECONDS))
