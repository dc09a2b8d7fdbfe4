"""The pooled connections and in-flight limits that a client and its copies share.

Sync calls share one requests.Session, one thread pool and one semaphore, whatever thread they
come from; async calls share, per event loop, one httpx.AsyncClient and one asyncio.Semaphore.
Either way, no more than ``max_concurrency`` requests are in flight at once. One Pacer
(:mod:`.pacing`) decides when each of them may start, whatever thread or loop it is
on. Everything is made on first use, so a client costs nothing until it sends, and nothing here
is pickled.

A forked child (gunicorn ``--preload``, multiprocessing's fork start method, Celery prefork) starts
over: fresh pools, thread pool, semaphores and locks, made on its first call. Sharing the parent's
pooled sockets would let parent and child read each other's answers, and the parent's worker
threads do not exist in the child, so its pool would never run a batch. The child's pacer starts
empty too: the parent's requests in flight never finish in the child, and would be counted forever.
An HTTP client the caller gave (``http_client``, ``http_async_client``) is the exception: it is
the caller's, so it is never closed here, and the child goes on sending on it (replacing it in a
child is the caller's business, see :mod:`orq_embeddings._transport.given_clients`).
"""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
import requests

from .._transport.httpx_given import HttpxSyncTransport
from .._transport.transports import HttpxTransport, RequestsTransport
from .._transport.trust import TrustStore
from .batch_splitting import BatchLimits
from .loop_scoped import LoopScoped
from .pacing import Pacer
from .worker_threads import DaemonThreadPool

if TYPE_CHECKING:
    from ..config import ClientConfig


@dataclass(frozen=True)
class LoopConnections:
    """One event loop's transport and its in-flight limit."""

    transport: HttpxTransport
    slots: asyncio.Semaphore


@dataclass(frozen=True)
class GivenClients:
    """The caller's HTTP clients to send on, if any: used as they are, never closed here."""

    sync: requests.Session | httpx.Client | None = None
    async_: httpx.AsyncClient | None = None


async def _close_loop_connections(connections: LoopConnections) -> None:
    await connections.transport.aclose()


class Connections:
    """Lazily made transports, a thread pool and the semaphores bounding requests in flight."""

    def __init__(
        self,
        max_concurrency: int,
        max_response_bytes: int,
        use_environment_proxy: bool,
        new_pacer: Callable[[], Pacer],
        trust: TrustStore | None = None,
        proxy: str | None = None,
        given: GivenClients | None = None,
    ) -> None:
        self.max_concurrency = max_concurrency
        self._given = given or GivenClients()
        self._new_pacer = new_pacer
        self._max_response_bytes = max_response_bytes
        self._use_environment_proxy = use_environment_proxy
        self._trust = trust
        self._proxy = proxy
        #: The inputs per request each model was found to take (see batch_splitting).
        self.batch_limits = BatchLimits()
        self._start_over()
        _ALL.add(self)

    @classmethod
    def for_config(cls, config: ClientConfig) -> Connections:
        """The connections a client with ``config`` sends on: a transport setting is read here."""
        return cls(
            config.max_concurrency,
            config.max_response_bytes,
            config.uses_environment_proxy,
            lambda: Pacer(
                requests_per_minute=config.requests_per_minute,
                tokens_per_minute=config.tokens_per_minute,
                window=config.rate_limit_window,
                max_concurrency=config.max_concurrency,
                max_hold=config.max_retry_after,
            ),
            config.trust_store,
            config.proxy,
            GivenClients(config.http_client, config.http_async_client),
        )

    def _start_over(self) -> None:
        """Nothing made yet: the state of a new client, and of a forked child's copy of one."""
        #: Held while a sync request is in flight; shared by every thread using the client.
        self.slots = threading.BoundedSemaphore(self.max_concurrency)
        #: When each request may start, for every thread and loop (see pacing).
        self.pacer = self._new_pacer()
        self._lock = threading.Lock()
        self._transport: RequestsTransport | HttpxSyncTransport | None = None
        self._executor: DaemonThreadPool | None = None
        self._per_loop: LoopScoped[LoopConnections] = LoopScoped(
            self._new_loop_connections, _close_loop_connections
        )

    def transport(self) -> RequestsTransport | HttpxSyncTransport:
        """The shared blocking transport: over the given sync client, if there is one."""
        with self._lock:
            if self._transport is None:
                given = self._given.sync
                if isinstance(given, httpx.Client):
                    self._transport = HttpxSyncTransport(given, self._max_response_bytes)
                else:
                    self._transport = RequestsTransport(
                        self.max_concurrency,
                        self._max_response_bytes,
                        self._use_environment_proxy,
                        self._trust,
                        self._proxy,
                        given,
                    )
            return self._transport

    def executor(self) -> DaemonThreadPool:
        """The shared pool whose threads send the batches of sync calls."""
        with self._lock:
            if self._executor is None:
                self._executor = DaemonThreadPool(
                    self.max_concurrency, thread_name_prefix="orq-embeddings"
                )
            return self._executor

    def _new_loop_connections(self) -> LoopConnections:
        return LoopConnections(
            HttpxTransport(
                self.max_concurrency,
                self._max_response_bytes,
                self._use_environment_proxy,
                self._trust,
                self._proxy,
                self._given.async_,
            ),
            asyncio.Semaphore(self.max_concurrency),
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
            executor.shutdown(wait=True)
        if transport is not None:
            transport.close()

    async def aclose(self) -> None:
        """Close the running loop's async transport, and the blocking side too."""
        await self._per_loop.aclose()
        self.close()


#: Every live Connections, so that a forked child can make each start over.
_ALL: weakref.WeakSet[Connections] = weakref.WeakSet()


def _start_over_in_child() -> None:
    # The parent's sockets stay open for the parent: they are dropped here, not closed.
    for connections in list(_ALL):
        connections._start_over()


os.register_at_fork(after_in_child=_start_over_in_child)
