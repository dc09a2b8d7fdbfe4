"""The pooled connections and in-flight limits that a client and its copies share.

Sync calls share one requests.Session, one thread pool and one semaphore, whatever thread they
come from; async calls share, per event loop, one httpx.AsyncClient and one asyncio.Semaphore.
Either way, no more than ``max_concurrency`` requests are in flight at once. Everything is made on
first use, so a client costs nothing until it sends, and nothing here is pickled.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .loop_scoped import LoopScoped
from .transports import HttpxTransport, RequestsTransport


@dataclass(frozen=True)
class LoopConnections:
    """One event loop's transport and its in-flight limit."""

    transport: HttpxTransport
    slots: asyncio.Semaphore


async def _close_loop_connections(connections: LoopConnections) -> None:
    await connections.transport.aclose()


class Connections:
    """Lazily made transports, a thread pool and the semaphores bounding requests in flight."""

    def __init__(self, max_concurrency: int) -> None:
        self.max_concurrency = max_concurrency
        #: Held while a sync request is in flight; shared by every thread using the client.
        self.slots = threading.BoundedSemaphore(max_concurrency)
        self._lock = threading.Lock()
        self._transport: RequestsTransport | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._per_loop: LoopScoped[LoopConnections] = LoopScoped(
            self._new_loop_connections, _close_loop_connections
        )

    def transport(self) -> RequestsTransport:
        """The shared blocking transport."""
        with self._lock:
            if self._transport is None:
                self._transport = RequestsTransport(pool_size=self.max_concurrency)
            return self._transport

    def executor(self) -> ThreadPoolExecutor:
        """The shared pool whose threads send the batches of sync calls."""
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    self.max_concurrency, thread_name_prefix="orq-embeddings"
                )
            return self._executor

    def _new_loop_connections(self) -> LoopConnections:
        return LoopConnections(
            HttpxTransport(pool_size=self.max_concurrency), asyncio.Semaphore(self.max_concurrency)
        )

    async def for_running_loop(self) -> LoopConnections:
        """The running event loop's transport and limit."""
        return await self._per_loop.get()

    def close(self) -> None:
        """Close the blocking transport and stop the thread pool (async ones close with loops)."""
        with self._lock:
            transport, self._transport = self._transport, None
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        if transport is not None:
            transport.close()

    async def aclose(self) -> None:
        """Close the running loop's async transport, and the blocking side too."""
        await self._per_loop.aclose()
        self.close()
