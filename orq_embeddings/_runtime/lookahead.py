"""The look-ahead window over one call's batches, shared by the sync and async clients.

Sans-IO: it starts sends through the function it is given and hands back the one whose result
comes next; it never waits. The sync client waits on a Future, the async one awaits a Task, and
that is all that differs, so the two cannot drift apart in how many are in flight or in what
order results come.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from .._wire.batching import Batch

#: Sends started ahead of the one being consumed, per concurrency slot: keeps every slot busy
#: while bounding how many finished batches wait in memory.
PER_SLOT = 2

P = TypeVar("P")


def runs_inline(batches: Sequence[Batch], max_concurrency: int) -> bool:
    """Whether to send the batches one after another: one batch or one slot leaves nothing to
    overlap."""
    return len(batches) <= 1 or max_concurrency == 1


class LookAhead(Generic[P]):
    """Up to ``PER_SLOT * max_concurrency`` sends started, consumed in batch order.

    Args:
        start: starts sending one batch and returns its pending result (a Future or a Task).
    """

    def __init__(
        self, batches: Sequence[Batch], max_concurrency: int, start: Callable[[Batch], P]
    ) -> None:
        self._upcoming = iter(batches)
        self._start = start
        self._window: deque[P] = deque()
        for _ in range(PER_SLOT * max_concurrency):
            if not self._start_next():
                break

    def _start_next(self) -> bool:
        batch = next(self._upcoming, None)
        if batch is None:
            return False
        self._window.append(self._start(batch))
        return True

    def head(self) -> P | None:
        """The send whose result comes next, or None when every batch has been consumed."""
        return self._window[0] if self._window else None

    def advance(self) -> None:
        """Drop the head, its result consumed, and start the next batch in its place."""
        self._window.popleft()
        self._start_next()

    def abandon(self) -> list[P]:
        """The sends started and never consumed, for the caller to cancel; none is started again."""
        pending = list(self._window)
        self._window.clear()
        self._upcoming = iter(())
        return pending
