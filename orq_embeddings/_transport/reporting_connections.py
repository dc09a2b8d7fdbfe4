"""urllib3 connections that report to the attempt using them, and never take a 1xx as the answer.

requests sends through urllib3, which reads responses with http.client. Three things the client
needs are missing there, and are added here by subclassing, at the only places they can be seen:

- http.client skips ``100 Continue`` only; any other informational response (``102``, ``103
  Early Hints``) would be taken as the final answer, leaving the real one unread on a pooled
  connection for the next request to read. :class:`FinalResponse` skips every 1xx but ``101``.
- Whether the connection was reused, and whether any byte of a response arrived: together they
  say when a failed request provably never reached the server (see :class:`Attempt`).
- Bytes left in the connection after a complete response: the connection is shut down, so the
  pool drops it instead of handing those bytes to the next request as its answer.

The attempt in progress is found through a thread-local: urllib3 runs in the caller's thread.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .deadlines import shut_down
from .failures import timeout_progress
from .internals import InformationalSkippingResponse

_current = threading.local()


class Attempt:
    """What one sync attempt saw of its connection, and the means to cut it short.

    Attributes:
        reused: the request went out on a connection an earlier response had used.
        response_started: at least one byte of a response arrived.
        expired: the deadline passed and the socket was shut down.
        body_bytes: body bytes read so far (for the timeout message).
    """

    def __init__(self) -> None:
        self.reused = False
        self.response_started = False
        self.headers_complete = False
        self.expired = False
        self.body_bytes = 0
        self._connection: HTTPConnection | None = None
        self._finished = False
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def current(self) -> Iterator[Attempt]:
        """Make this the attempt the connections of this thread report to."""
        _current.attempt = self
        try:
            yield self
        finally:
            _current.attempt = None
            with self._lock:
                # The watchdog keeps finished attempts until their deadline: not their sockets.
                self._finished, self._connection = True, None

    def use(self, connection: HTTPConnection, reused: bool) -> None:
        with self._lock:
            self._connection, self.reused = connection, reused

    def expire(self) -> None:
        """Shut the attempt's socket down, unless it already finished."""
        with self._lock:
            if self._finished:
                return
            self.expired = True
            sock = None if self._connection is None else self._connection.sock
        shut_down(sock)

    @property
    def stale_connection(self) -> bool:
        """A reused connection that failed before any response byte: the server never had it."""
        return self.reused and not self.response_started

    def progress(self) -> str:
        """Where the attempt was, for a timeout message."""
        return timeout_progress(self.headers_complete, self.body_bytes)


def current_attempt() -> Attempt | None:
    return getattr(_current, "attempt", None)


class FinalResponse(InformationalSkippingResponse):
    """The response of a reporting connection: 1xx skipped (see :mod:`.internals`), the first
    response byte and complete headers reported to the attempt, and a connection that holds
    bytes beyond its response shut down rather than pooled."""

    def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        self._orq_sock = sock

    def status_line_arriving(self) -> None:
        attempt = current_attempt()
        if attempt is not None and not attempt.response_started and self.fp.peek(1):
            attempt.response_started = True

    def begin(self) -> None:
        super().begin()
        attempt = current_attempt()
        if attempt is not None:
            attempt.headers_complete = True

    def releasing_connection(self) -> None:
        if self.fp is not None and _bytes_waiting(self.fp, self._orq_sock):
            # More than the response said it had: never let the next request read it.
            shut_down(self._orq_sock)


def _bytes_waiting(fp: Any, sock: socket.socket) -> bool:
    """Whether bytes are buffered or readable right now, without waiting for any."""
    timeout = sock.gettimeout()
    try:
        sock.settimeout(0)
        return bool(fp.peek(1))
    except (OSError, ValueError):  # nothing to read now (or TLS wants more): nothing left over
        return False
    finally:
        with contextlib.suppress(OSError):
            sock.settimeout(timeout)


class _ReportingConnection(HTTPConnection):
    """An HTTP connection that tells the current attempt whether it was reused."""

    response_class = FinalResponse
    _socket_used: object = None

    def request(self, *args: Any, **kwargs: Any) -> None:
        attempt = current_attempt()
        if attempt is not None:
            attempt.use(self, reused=self.sock is not None and self.sock is self._socket_used)
        try:
            super().request(*args, **kwargs)
        finally:
            self._socket_used = self.sock


class _ReportingTlsConnection(_ReportingConnection, HTTPSConnection):
    """The https twin of :class:`_ReportingConnection`."""


class _Pool(HTTPConnectionPool):
    ConnectionCls = _ReportingConnection


class _TlsPool(HTTPSConnectionPool):
    ConnectionCls = _ReportingTlsConnection


_POOLS_BY_SCHEME = {"http": _Pool, "https": _TlsPool}


class ReportingAdapter(HTTPAdapter):
    """A requests adapter whose pools, direct or through a proxy, use the reporting connections."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS_BY_SCHEME

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = _POOLS_BY_SCHEME
        return manager
