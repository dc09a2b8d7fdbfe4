"""One resource per running event loop, closed when that loop shuts down.

An httpx.AsyncClient or an asyncio.Semaphore belongs to the loop that first used it; sharing one
across loops fails in confusing ways. Notebooks and LlamaIndex often run async code on a fresh
loop in another thread (``asyncio.run`` inside a worker), so a client must hand each loop its own.

Closing uses the loop's own shutdown: the first use on a loop starts a tiny async generator that
waits in ``yield``; ``asyncio.run`` (and any runner that calls ``loop.shutdown_asyncgens()``)
closes it before closing the loop, and its ``finally`` closes the resource there, on the right
loop, so no connection outlives its loop.

A loop closed without that shutdown (``loop.close()`` after ``run_until_complete``, common in
notebooks and frameworks) cannot close anything any more. Nothing here keeps such a loop alive:
loops are held weakly, the closer holds no loop, and a closed loop's resource is let go the next
time any loop asks, so its sockets are freed with it instead of accumulating, one per loop.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Generic, TypeVar

Resource = TypeVar("Resource")


class LoopScoped(Generic[Resource]):
    """Hands out one ``Resource`` per event loop, made on first use and closed at loop shutdown."""

    def __init__(
        self, create: Callable[[], Resource], close: Callable[[Resource], Awaitable[None]]
    ) -> None:
        self._create = create
        self._close = close
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Resource] = (
            weakref.WeakKeyDictionary()
        )
        self._closers: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, AsyncGenerator[None, None]
        ] = weakref.WeakKeyDictionary()
        # Loops run in different threads: the maps change under this lock only.
        self._lock = threading.Lock()

    async def get(self) -> Resource:
        """The running loop's resource, made now if this is the loop's first use."""
        loop = asyncio.get_running_loop()
        resource = self._by_loop.get(loop)
        if resource is None:
            self.let_closed_loops_go()
            resource = self._create()
            closer = self._close_at_shutdown(resource)
            with self._lock:
                self._by_loop[loop] = resource
                self._closers[loop] = closer
            await closer.__anext__()
        return resource

    def let_closed_loops_go(self) -> None:
        """Drop the resources of loops closed without shutting down their async generators.

        Such a resource holds its loop (through its sockets' transports), so the weak key alone
        would never let either go; dropped here, both are freed by the garbage collector.
        """
        with self._lock:
            for loop in [loop for loop in self._by_loop if loop.is_closed()]:
                del self._by_loop[loop]
                self._closers.pop(loop, None)

    async def _close_at_shutdown(self, resource: Resource) -> AsyncGenerator[None, None]:
        # Holds the resource, never its loop: a closer that held its loop would keep it alive.
        try:
            yield
        finally:
            await self._discard(asyncio.get_running_loop(), resource)

    async def _discard(self, loop: asyncio.AbstractEventLoop, resource: Resource) -> None:
        with self._lock:
            if self._by_loop.get(loop) is resource:
                del self._by_loop[loop]
            self._closers.pop(loop, None)
        await self._close(resource)

    async def aclose(self) -> None:
        """Close the running loop's resource now, if it has one (others close with their loops)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            closer = self._closers.pop(loop, None)
        if closer is not None:
            await closer.aclose()
        self.let_closed_loops_go()
