"""What a client and its copies share: transports, worker threads, in-flight slots and the pacer.

Sync calls share one transport, one thread pool and one semaphore, whatever thread they come
from; async calls share, per event loop, one async transport and one asyncio.Semaphore. Either
way, no more than ``max_concurrency`` requests are in flight at once. One Pacer
(:mod:`.pacing`) decides when each of them may start, whatever thread or loop it is on.
Everything is made on first use, so a client costs nothing until it sends, and nothing here is
pickled.

Nothing here outlives its last user: when no client holds the resources any more (an adapter
rebuilt its client after a field changed, and nothing shares the old one), they are closed as
they are collected, so threads and sockets stay flat however often a client is rebuilt.

A forked child (gunicorn ``--preload``, multiprocessing's fork start method, Celery prefork) starts
over: fresh pools, thread pool, semaphores and locks, made on its first call. Sharing the parent's
pooled sockets would let parent and child read each other's answers, and the parent's worker
threads do not exist in the child, so its pool would never run a batch. The child's pacer starts
empty too: the parent's requests in flight never finish in the child, and would be counted forever.
An HTTP client the caller gave (``http_client``, ``http_async_client``) is the exception: it is
the caller's, so it is never closed here, and the child goes on sending on it (replacing it in a
child is the caller's business, see :mod:`.._transport.given_clients`).
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._transport import factory
from .._transport.base import AsyncTransport, Transport, TransportSettings
from .batch_splitting import BatchLimits
from .loop_scoped import LoopScoped
from .pacing import Pacer, SharedBudget
from .worker_threads import DaemonThreadPool

if TYPE_CHECKING:
    from ..config import ClientConfig


@dataclass(frozen=True)
class LoopResources:
    """One event loop's transport and its in-flight limit."""

    transport: AsyncTransport
    slots: asyncio.Semaphore


def _new_loop_resources(settings: TransportSettings) -> LoopResources:
    return LoopResources(factory.async_transport(settings), asyncio.Semaphore(settings.pool_size))


async def _close_loop_resources(resources: LoopResources) -> None:
    await resources.transport.aclose()


class _Owned:
    """The resources that need closing, apart from their owner so a finalizer can hold them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.transport: Transport | None = None
        self.executor: DaemonThreadPool | None = None

    def close(self, wait: bool = True) -> None:
        """Close the transport and stop the threads, waiting for them only if ``wait``."""
        with self.lock:
            transport, self.transport = self.transport, None
            executor, self.executor = self.executor, None
        if executor is not None:
            executor.shutdown(wait=wait)
        if transport is not None:
            transport.close()


class SharedResources:
    """Lazily made transports, a thread pool and the semaphores bounding requests in flight.

    Args:
        settings: what the transports are made from; ``pool_size`` is ``max_concurrency``.
        new_pacer: makes the pacer (again in a forked child).
    """

    def __init__(self, settings: TransportSettings, new_pacer: Callable[[], Pacer]) -> None:
        self.max_concurrency = settings.pool_size
        self._settings = settings
        self._new_pacer = new_pacer
        #: The inputs per request each model was found to take (see batch_splitting).
        self.batch_limits = BatchLimits()
        self._shared_budget: SharedBudget | None = None
        self._start_over()
        _ALL.add(self)

    @classmethod
    def for_config(cls, config: ClientConfig) -> SharedResources:
        """The resources a client with ``config`` sends on: a transport setting is read here."""
        settings = TransportSettings(
            pool_size=config.max_concurrency,
            max_response_bytes=config.max_response_bytes,
            use_environment_proxy=config.uses_environment_proxy,
            trust=config.trust_store,
            proxy=config.proxy,
            http_client=config.http_client,
            http_async_client=config.http_async_client,
        )
        return cls(
            settings,
            lambda: Pacer(
                requests_per_minute=config.requests_per_minute,
                tokens_per_minute=config.tokens_per_minute,
                window=config.rate_limit_window,
                max_concurrency=config.max_concurrency,
                max_hold=config.max_retry_after,
            ),
        )

    def _start_over(self) -> None:
        """Nothing made yet: the state of a new client, and of a forked child's copy of one."""
        #: Held while a sync request is in flight; shared by every thread using the client.
        self.slots = threading.BoundedSemaphore(self.max_concurrency)
        #: When each request may start, for every thread and loop (see pacing).
        self.pacer = self._new_pacer()
        if self._shared_budget is not None:
            self.pacer.draw_from(self._shared_budget)
        self._owned = _Owned()
        # Closes what is left open once nothing holds these resources any more; never at exit,
        # where joining threads with requests in flight would hold the process up.
        self._finalizer = weakref.finalize(self, self._owned.close, False)
        self._finalizer.atexit = False
        # The factory holds no reference back to this object, so that nothing but a client keeps
        # it alive and it is collected (and closed) as soon as the last client lets it go.
        self._per_loop: LoopScoped[LoopResources] = LoopScoped(
            functools.partial(_new_loop_resources, self._settings), _close_loop_resources
        )

    def draw_from(self, budget: SharedBudget) -> None:
        """Pace every request on ``budget`` too: a job's, shared with other processes' clients."""
        self._shared_budget = budget
        self.pacer.draw_from(budget)

    def transport(self) -> Transport:
        """The shared blocking transport: over the given sync client, if there is one."""
        owned = self._owned
        with owned.lock:
            if owned.transport is None:
                owned.transport = factory.sync_transport(self._settings)
            return owned.transport

    def executor(self) -> DaemonThreadPool:
        """The shared pool whose threads send the batches of sync calls."""
        owned = self._owned
        with owned.lock:
            if owned.executor is None:
                owned.executor = DaemonThreadPool(
                    self.max_concurrency, thread_name_prefix="orq-embeddings"
                )
            return owned.executor

    async def for_running_loop(self) -> LoopResources:
        """The running event loop's transport and limit."""
        return await self._per_loop.get()

    def close(self) -> None:
        """Close the blocking transport, stop the thread pool and let go of closed loops'.

        Async transports close with their loops (or with :meth:`aclose` on theirs); those of
        loops closed without shutting down their async generators are let go here, so their
        sockets and the loops themselves are freed.
        """
        self._owned.close()
        self._per_loop.let_closed_loops_go()

    async def aclose(self) -> None:
        """Close the running loop's async transport, and the blocking side too."""
        await self._per_loop.aclose()
        self.close()


#: Every live SharedResources, so that a forked child can make each start over.
_ALL: weakref.WeakSet[SharedResources] = weakref.WeakSet()


def _start_over_in_child() -> None:
    # The parent's sockets stay open for the parent: they are dropped here, not closed.
    for resources in list(_ALL):
        resources._finalizer.detach()
        resources._start_over()


os.register_at_fork(after_in_child=_start_over_in_child)
