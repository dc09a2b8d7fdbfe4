"""The few httpcore internals the async transport must reach, all in one place.

httpx hides the connection a request travels on, and two rules of the client need it: bytes left
in a connection after its response must never be read as the next request's answer, and an
answer that arrives while the body is still going out must be read, not lost (see
:class:`.transports.HttpxTransport`). Everything here walks private attributes of
httpx, httpcore and anyio with ``getattr`` defaults: if a name changes, the functions find
nothing and return None or False, the transport behaves as plain httpx does, and the tests of
both rules fail, which is how a version bump that breaks them is caught.
"""

from __future__ import annotations

import contextlib
import select
import socket
from collections.abc import Callable
from typing import Any

import httpx


def _pools(client: httpx.AsyncClient) -> list[Any]:
    """httpcore's connection pools behind ``client``: the direct one and one per proxy."""
    transports = [client._transport, *client._mounts.values()]
    return [pool for t in transports if (pool := getattr(t, "_pool", None)) is not None]


def connection_of(client: httpx.AsyncClient, trace: Callable[..., Any]) -> Any:
    """The HTTP/1.1 connection carrying the request whose ``trace`` extension is ``trace``.

    Found only while that request is in flight (its response not yet closed); None otherwise.
    """
    for pool in _pools(client):
        for pending in list(getattr(pool, "_requests", ())):
            if pending.request.extensions.get("trace") == trace:
                return getattr(pending.connection, "_connection", None)
    return None


def read_while_sending(connection: Any) -> Any:
    """Make ``connection`` read as it sends, and return its anyio socket stream (or None).

    httpcore reads only once the whole body is sent, and meanwhile anyio stops reading, so an
    early answer waits in the kernel. When the reset that follows it fails a write, asyncio
    closes the socket with the answer unread; so until :func:`stop_reading`, the stream's
    protocol first reads what the kernel still holds whenever its connection is lost.
    """
    stream = getattr(getattr(connection, "_network_stream", None), "_stream", None)
    transport = getattr(stream, "_transport", None)
    protocol = getattr(stream, "_protocol", None)
    if transport is None or protocol is None or not hasattr(protocol, "data_received"):
        return None
    lose_connection = protocol.connection_lost

    def read_what_is_left_then_lose(error: Exception | None) -> None:
        # asyncio calls this just before it closes the socket: the last moment to read it.
        sock: Any = getattr(transport, "_sock", None)
        with contextlib.suppress(OSError, ValueError):  # nothing (more) to read
            while sock is not None and (data := sock.recv(1 << 16)):  # it never blocks
                protocol.data_received(data)
        lose_connection(error)

    protocol.connection_lost = read_what_is_left_then_lose
    transport.resume_reading()
    return stream


def stop_reading(stream: Any) -> None:
    """Leave reading to anyio again (its reads resume and pause the transport themselves)."""
    with contextlib.suppress(AttributeError):
        del stream._protocol.connection_lost  # the class's own again
    with contextlib.suppress(OSError, RuntimeError, AttributeError):  # closed meanwhile
        stream._transport.pause_reading()


def answer_waiting(stream: Any) -> bool:
    """Whether bytes of an answer have arrived on ``stream``: queued, or in the socket."""
    if getattr(stream._protocol, "read_queue", None):
        return True
    sock = stream._transport.get_extra_info("socket")
    try:
        return sock is not None and bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):  # closed under us: the read that follows will say so
        return False


def retire_if_bytes_left_over(connection: Any) -> bool:
    """Shut ``connection``'s socket if bytes beyond its response wait in h11's buffer.

    Called when the response's body is complete but before the response is closed, while
    nothing else can take the connection. A shut socket reads as closed, so the pool drops the
    connection at its next look instead of handing those bytes to another request.
    """
    parser = getattr(connection, "_h11_state", None)
    if parser is None or not parser.trailing_data[0]:
        return False
    stream = getattr(connection, "_network_stream", None)
    sock = None if stream is None else stream.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    return True
