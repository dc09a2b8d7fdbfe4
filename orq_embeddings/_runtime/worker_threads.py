"""A thread pool whose threads never keep the interpreter alive.

concurrent.futures' ThreadPoolExecutor joins its threads when the interpreter exits, so after a
Ctrl-C during a multi-batch sync call the process could not exit until every request in flight
had finished (up to ``timeout`` each, minutes with retries). These threads are daemons: an
abandoned call's requests die with the process. Cancelling a future that has not started works
as with ThreadPoolExecutor.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

Result = TypeVar("Result")

_Work = tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]


class DaemonThreadPool:
    """Runs submitted calls on up to ``max_workers`` daemon threads, started as needed."""

    def __init__(self, max_workers: int, thread_name_prefix: str) -> None:
        self._max_workers = max_workers
        self._prefix = thread_name_prefix
        self._queue: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._idle = threading.Semaphore(0)
        self._shut = False

    def submit(self, function: Callable[..., Result], *args: Any) -> Future[Result]:
        """Schedule ``function(*args)``; its Future holds the result or the exception."""
        future: Future[Result] = Future()
        with self._lock:
            if self._shut:
                raise RuntimeError("cannot submit to a thread pool that was shut down")
            self._queue.put((future, function, args))
            if not self._idle.acquire(blocking=False) and len(self._threads) < self._max_workers:
                thread = threading.Thread(
                    target=self._work,
                    name=f"{self._prefix}_{len(self._threads)}",
                    daemon=True,
                )
                thread.start()
                self._threads.append(thread)
        return future

    def _work(self) -> None:
        while (work := self._queue.get()) is not None:
            future, function, args = work
            if future.set_running_or_notify_cancel():
                try:
                    result = function(*args)
                except BaseException as error:  # the caller gets it from the future
                    future.set_exception(error)
                else:
                    future.set_result(result)
                    # An idle thread holds nothing: a result nobody collects (its call was given
                    # up) is freed now, not when this thread runs its next job.
                    del result
            del work, future, function, args
            self._idle.release()

    def shutdown(self, wait: bool = True) -> None:
        """Cancel what has not started and stop the threads (waiting for them if ``wait``)."""
        with self._lock:
            self._shut = True
            threads = list(self._threads)
        while True:
            try:
                work = self._queue.get_nowait()
            except queue.Empty:
                break
            if work is not None:
                work[0].cancel()
        for _ in threads:
            self._queue.put(None)
        if wait:
            for thread in threads:
                if thread is not threading.current_thread():
                    thread.join()
