"""One deadline per sync attempt, from connecting to the last byte, however the bytes arrive.

A socket timeout bounds each read, not the exchange: headers dripped a byte a second, or a
chunk-size line dripped inside a chunked body, would keep a blocking read alive indefinitely. So
one watchdog thread holds every attempt's deadline and, when one passes, shuts its socket down:
the blocked read returns at once and the transport reports a timeout. The thread is a daemon,
made on first use and made again in a forked child (where it does not exist).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Protocol


class Expirable(Protocol):
    """What the watchdog ends: an attempt that shuts its socket down when told to."""

    def expire(self) -> None: ...


class DeadlineWatch:
    """Calls ``expire()`` on each watched attempt whose deadline passes before it is unwatched."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._condition = threading.Condition()
        self._heap: list[tuple[float, int, Expirable]] = []
        self._watched: set[int] = set()
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    @contextlib.contextmanager
    def watching(self, deadline: float, attempt: Expirable) -> Iterator[None]:
        """Watch ``attempt`` until the block ends; ``deadline`` is on ``time.monotonic()``."""
        key = next(self._order)
        with self._condition:
            self._watched.add(key)
            heapq.heappush(self._heap, (deadline, key, attempt))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="orq-embeddings-deadlines", daemon=True
                )
                self._thread.start()
            self._condition.notify()
        try:
            yield
        finally:
            with self._condition:
                self._watched.discard(key)

    def _run(self) -> None:
        while True:
            with self._condition:
                while self._heap and self._heap[0][1] not in self._watched:
                    heapq.heappop(self._heap)  # finished in time
                if not self._heap:
                    self._condition.wait()
                    continue
                deadline, key, attempt = self._heap[0]
                remaining = deadline - time.monotonic()
                if remaining > 0:
                    self._condition.wait(remaining)
                    continue
                heapq.heappop(self._heap)
                self._watched.discard(key)
            attempt.expire()


def shut_down(sock: socket.socket | None) -> None:
    """End every read and write on ``sock`` now (from any thread); a closed socket is ignored."""
    if sock is None:
        return
    with contextlib.suppress(OSError, ValueError):
        # socket.socket's own shutdown, not SSLSocket's, which would also drop its TLS state
        # under a thread still reading through it.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


#: The process's watchdog; a forked child gets a fresh one (the parent's thread is not there).
WATCH = DeadlineWatch()
os.register_at_fork(after_in_child=WATCH._reset)
