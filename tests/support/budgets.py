"""A shared budget in this process: a SharedWindow behind the pacer's SharedBudget hook.

A Ray job reaches its window through an actor (orq_embeddings.ray.RateBudget); tests of the hook
itself put the same window in this process, so two clients share it without a Ray.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping

from orq_embeddings._engines.rate_window import SharedWindow


class WindowBudget:
    """The pacer's SharedBudget over a SharedWindow held here, asked under a lock."""

    def __init__(self, window: SharedWindow) -> None:
        self.window = window
        self._lock = threading.Lock()
        self._numbers = itertools.count()
        #: How many grants it gave.
        self.granted = 0

    @property
    def counts_tokens(self) -> bool:
        return self.window.counts_tokens

    def try_take(self, tokens: int, *, retry: bool) -> str | float:
        grant = f"grant-{next(self._numbers)}"
        with self._lock:
            wait = self.window.try_take(grant, tokens, retry)
            if wait > 0:
                return wait
            self.granted += 1
        return grant

    def finish(self, grant: str, status: int | None, headers: Mapping[str, str]) -> None:
        with self._lock:
            self.window.finish(grant, status, headers)
