"""Every private name of another library the transports touch, in one place.

Three rules of the client need what the HTTP libraries do not expose:

- An informational response (``102``, ``103 Early Hints``) is not the answer. http.client skips
  ``100 Continue`` only; it would take any other 1xx as final and leave the real answer on a
  pooled connection for the next request. :class:`InformationalSkippingResponse` overrides two
  private methods of ``http.client.HTTPResponse`` and calls its private ``_read_headers``.
- Bytes left on a connection after its response must never be read as the next request's answer.
  The sync side sees them in :class:`InformationalSkippingResponse` as the connection is released;
  the async side finds the request's connection in httpcore's pool and looks in h11's buffer
  (:func:`connection_of`, :func:`retire_if_bytes_left_over`).
- An answer that arrives while a large body is still going out (a 413 from a proxy) must be read,
  not lost. httpcore reads only after sending, and asyncio closes a socket whose write failed
  with the answer unread; :func:`read_while_sending` makes anyio's stream read during the upload
  and read what the kernel holds before the socket is closed.

What was looked for first, and why it does not serve: httpcore's public ``network_stream``
response extension exists only once a response has begun (too late for an upload) and does not
reach h11's buffer; its ``trace`` extension names a connection's stream only when it is new, not
when it is reused; urllib3 and requests release a connection without a hook between the end of
the body and the return to the pool.

Each name is reached through :func:`_reach` (or checked by :func:`_require` where it is
overridden), which raises :class:`InternalsChanged` naming the library, its installed version,
the name and the rule it serves: a dependency that renamed one is never quietly worked around.
``tests/transport/test_internals.py`` exercises every name over real sockets.

The early-answer read is for asyncio's own event loop with anyio's socket streams over plain TCP,
the stack the async transport is built on; on another loop (uvloop) or through TLS it is not
attempted, and an early answer to a large upload may read as a broken connection (retried), as
it does with a given ``httpx.AsyncClient``.
"""

from __future__ import annotations

import contextlib
import http.client
import platform
import select
import socket
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import httpx


class InternalsChanged(RuntimeError):
    """A dependency no longer has a private name the transports rely on (see the module doc)."""


def _installed(library: str) -> str:
    """The library and its installed version: ``httpx 0.28.1``, ``Python 3.11.7 (asyncio)``."""
    if library in ("asyncio", "http.client"):
        return f"Python {platform.python_version()} ({library})"
    try:
        return f"{library} {version(library)}"
    except PackageNotFoundError:
        return library


def _changed(library: str, owner: str, name: str, rule: str) -> InternalsChanged:
    return InternalsChanged(
        f"{_installed(library)} has no {owner}.{name}, which orq-embeddings reads so that {rule}; "
        "install a version of it that orq-embeddings supports, or a newer orq-embeddings"
    )


def _reach(obj: Any, name: str, library: str, rule: str) -> Any:
    """``obj.name``, or an InternalsChanged saying which library dropped it."""
    try:
        return getattr(obj, name)
    except AttributeError:
        raise _changed(library, type(obj).__qualname__, name, rule) from None


def _require(owner: Any, names: tuple[str, ...], library: str, rule: str) -> None:
    """Check at import that ``owner`` still has each name: an override of a name it no longer
    has would silently never be called."""
    for name in names:
        if not hasattr(owner, name):
            raise _changed(library, getattr(owner, "__name__", repr(owner)), name, rule)


# -- sync: http.client, under urllib3 ---------------------------------------------------------

_SKIP_1XX = "an informational response is never taken as the answer"
_require(http.client.HTTPResponse, ("_read_status", "_close_conn"), "http.client", _SKIP_1XX)
_require(http.client, ("_read_headers",), "http.client", _SKIP_1XX)


class InformationalSkippingResponse(http.client.HTTPResponse):
    """http.client's response, skipping every informational (1xx) response but 101.

    Subclasses hear of two moments through public hooks: :meth:`status_line_arriving` before
    each status line is read, :meth:`releasing_connection` before the connection is let go.
    """

    def status_line_arriving(self) -> None:
        """Called before each status line is read (a hook; does nothing here)."""

    def releasing_connection(self) -> None:
        """Called when the body is done and the connection is about to be let go (a hook)."""

    def _read_status(self) -> tuple[str, int, str]:
        while True:
            self.status_line_arriving()
            version, status, reason = super()._read_status()  # type: ignore[misc]
            if status in (100, 101) or not 100 <= status < 200:
                # 100 is skipped by http.client itself; 101 switches protocols.
                return version, status, reason
            http.client._read_headers(self.fp)  # type: ignore[attr-defined]

    def _close_conn(self) -> None:
        self.releasing_connection()
        super()._close_conn()  # type: ignore[misc]


# -- async: httpx -> httpcore -> anyio -> asyncio, and h11 --------------------------------------

_THE_CONNECTION = "bytes left after a response are never read as the next one's answer"
_EARLY_ANSWER = "an answer sent while a large body is still going out is read, not lost"


def _pools(client: httpx.AsyncClient) -> list[Any]:
    """httpcore's connection pools behind ``client``: the direct one and one per proxy."""
    mounts = _reach(client, "_mounts", "httpx", _THE_CONNECTION)
    transports = [_reach(client, "_transport", "httpx", _THE_CONNECTION), *mounts.values()]
    return [
        _reach(transport, "_pool", "httpx", _THE_CONNECTION)
        for transport in transports
        if transport is not None  # a mount of None: no proxy for those hosts
    ]


def connection_of(client: httpx.AsyncClient, trace: Callable[..., Any]) -> Any:
    """The HTTP/1.1 connection carrying the request whose ``trace`` extension is ``trace``.

    Found only while that request is in flight (its response not yet closed) and has a
    connection; None otherwise.
    """
    for pool in _pools(client):
        for pending in list(_reach(pool, "_requests", "httpcore", _THE_CONNECTION)):
            if pending.request.extensions.get("trace") != trace:
                continue
            return _http11(pending.connection)
    return None


def _http11(connection: Any) -> Any:
    """The HTTP/1.1 connection inside one of httpcore's pool connections, or None before it is
    made. A direct connection holds it; a forward proxy's or a tunnel's holds a connection to
    the proxy that holds it."""
    for _ in range(3):  # direct, then through a proxy's connection
        if connection is None or type(connection).__name__ == "AsyncHTTP11Connection":
            return connection
        connection = _reach(connection, "_connection", "httpcore", _THE_CONNECTION)
    raise _changed("httpcore", type(connection).__name__, "_connection", _THE_CONNECTION)


def retire_if_bytes_left_over(connection: Any) -> bool:
    """Shut ``connection``'s socket if bytes beyond its response wait in h11's buffer.

    Called when the response's body is complete but before the response is closed, while
    nothing else can take the connection. A shut socket reads as closed, so the pool drops the
    connection at its next look instead of handing those bytes to another request.
    """
    if connection is None:
        return False
    parser = _reach(connection, "_h11_state", "httpcore", _THE_CONNECTION)
    if not parser.trailing_data[0]:
        return False
    stream = _reach(connection, "_network_stream", "httpcore", _THE_CONNECTION)
    sock = stream.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    return True


def _socket_stream(connection: Any) -> Any:
    """anyio's asyncio socket stream under ``connection``, or None on another stack (TLS, a
    loop other than asyncio's own)."""
    network_stream = _reach(connection, "_network_stream", "httpcore", _EARLY_ANSWER)
    if type(network_stream).__name__ != "AnyIOStream":
        return None
    stream = _reach(network_stream, "_stream", "httpcore", _EARLY_ANSWER)
    kind = type(stream)
    if (kind.__module__, kind.__name__) != ("anyio._backends._asyncio", "SocketStream"):
        return None  # TLS (anyio's TLSStream) or another backend
    transport = _reach(stream, "_transport", "anyio", _EARLY_ANSWER)
    if not type(transport).__module__.startswith("asyncio."):
        return None  # another event loop's transport (uvloop)
    return stream


def read_while_sending(connection: Any) -> Any:
    """Make ``connection`` read as it sends, and return its anyio socket stream (or None).

    httpcore reads only once the whole body is sent, and meanwhile anyio stops reading, so an
    early answer waits in the kernel. When the reset that follows it fails a write, asyncio
    closes the socket with the answer unread; so until :func:`stop_reading`, the stream's
    protocol first reads what the kernel still holds whenever its connection is lost.
    """
    if connection is None:
        return None
    stream = _socket_stream(connection)
    if stream is None:
        return None
    transport = _reach(stream, "_transport", "anyio", _EARLY_ANSWER)
    protocol = _reach(stream, "_protocol", "anyio", _EARLY_ANSWER)
    sock = _reach(transport, "_sock", "asyncio", _EARLY_ANSWER)
    lose_connection = protocol.connection_lost

    def read_what_is_left_then_lose(error: Exception | None) -> None:
        # asyncio calls this just before it closes the socket: the last moment to read it.
        with contextlib.suppress(OSError, ValueError):  # nothing (more) to read
            while data := sock.recv(1 << 16):  # it never blocks: asyncio's sockets don't
                protocol.data_received(data)
        lose_connection(error)

    protocol.connection_lost = read_what_is_left_then_lose
    transport.resume_reading()
    return stream


def stop_reading(stream: Any) -> None:
    """Leave reading to anyio again (its reads resume and pause the transport themselves)."""
    protocol = _reach(stream, "_protocol", "anyio", _EARLY_ANSWER)
    with contextlib.suppress(AttributeError):  # the class's own again
        del protocol.connection_lost
    with contextlib.suppress(OSError, RuntimeError):  # closed meanwhile
        _reach(stream, "_transport", "anyio", _EARLY_ANSWER).pause_reading()


def answer_waiting(stream: Any) -> bool:
    """Whether bytes of an answer have arrived on ``stream``: queued, or in the socket."""
    protocol = _reach(stream, "_protocol", "anyio", _EARLY_ANSWER)
    if _reach(protocol, "read_queue", "anyio", _EARLY_ANSWER):
        return True
    sock = _reach(stream, "_transport", "anyio", _EARLY_ANSWER).get_extra_info("socket")
    try:
        return sock is not None and bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):  # closed under us: the read that follows will say so
        return False
