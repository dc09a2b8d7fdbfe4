"""Running the gateway under uvicorn: in the foreground, in a thread, or in a child process.

uvicorn is imported only here and only when a server starts, so importing the gateway package
(the pytest plugin does, in every test run) stays cheap. The server binds its socket before
uvicorn starts, which is how port 0 becomes a known free port without a race.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import threading
import time
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from .app import GatewayApp
from .asgi import ABORT_EXTENSION
from .config import GatewayConfig

if TYPE_CHECKING:
    import uvicorn

#: How long a stopping server lets requests in flight finish before closing their connections.
_GRACEFUL_SHUTDOWN_SECONDS = 5
_POLL_SECONDS = 0.005


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (port 0: any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # Naming the protocol matters: asyncio sets TCP_NODELAY only on sockets whose proto is TCP,
    # and without it a keep-alive request waits 40 ms on delayed ACKs.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


def _abortable_http_protocol() -> type[Any]:
    """uvicorn's httptools protocol, offering the app a way to drop a connection on purpose.

    ASGI has no message for "close without answering"; the transport can, so each request's scope
    gets an ``orq_local_gateway.abort`` extension holding the transport's ``abort``.
    """
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class AbortableHttpToolsProtocol(HttpToolsProtocol):
        def on_message_begin(self) -> None:
            super().on_message_begin()
            self.scope["extensions"] = {ABORT_EXTENSION: {"abort": self.transport.abort}}

    return AbortableHttpToolsProtocol


def uvicorn_server(app: GatewayApp, *, log_level: str, access_log: bool) -> uvicorn.Server:
    """A uvicorn server for the app (not yet running)."""
    import uvicorn

    config = uvicorn.Config(
        app,
        http=_abortable_http_protocol(),
        lifespan="off",
        ws="none",
        log_level=log_level,
        access_log=access_log,
        timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN_SECONDS,
    )
    return uvicorn.Server(config)


class ThreadServer:
    """The gateway served by a background thread of this process, on a socket bound already.

    ``stop`` ends the server cleanly: open connections are closed, the thread is joined and the
    socket closed.
    """

    def __init__(self, app: GatewayApp, sock: socket.socket) -> None:
        self._socket = sock
        self._server = uvicorn_server(app, log_level="warning", access_log=False)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name=f"orq-local-gateway:{self.port}",
            daemon=True,
        )

    @property
    def port(self) -> int:
        port: int = self._socket.getsockname()[1]
        return port

    @property
    def pid(self) -> int:
        return os.getpid()

    def start(self, timeout: float) -> None:
        """Start serving; return once the server accepts connections.

        Raises:
            RuntimeError: the server did not start within ``timeout`` seconds.
        """
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop(timeout)
                raise RuntimeError(f"the local gateway did not start within {timeout} s")
            time.sleep(_POLL_SECONDS)

    def stop(self, timeout: float) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._socket.close()


def _serve_in_child(config: GatewayConfig, host: str, port: int, ready: Connection) -> None:
    """A child process's whole life: bind, report the port (or the failure), serve until SIGTERM."""
    try:
        sock = bind(host, port)
    except OSError as error:
        ready.send(f"cannot listen on {host}:{port}: {error}")
        return
    ready.send(sock.getsockname()[1])
    ready.close()
    with sock:
        uvicorn_server(GatewayApp(config), log_level="warning", access_log=False).run(
            sockets=[sock]
        )


class ProcessServer:
    """The gateway served by a child process, so it runs on its own core under its own GIL.

    The child is started with ``spawn`` (no fork of a threaded parent), and stopped with SIGTERM,
    which uvicorn answers with a graceful shutdown.
    """

    def __init__(self, config: GatewayConfig, host: str, port: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._ready, child_end = context.Pipe(duplex=False)
        self._child_end = child_end
        self._process = context.Process(
            target=_serve_in_child,
            args=(config, host, port, child_end),
            name="orq-local-gateway",
            daemon=True,
        )
        self._port: int | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the local gateway process has not started")
        return self._port

    @property
    def pid(self) -> int:
        pid = self._process.pid
        if pid is None:
            raise RuntimeError("the local gateway process has not started")
        return pid

    def start(self, timeout: float) -> None:
        """Start the child; return once it listens.

        Raises:
            RuntimeError: it could not listen, or did not within ``timeout`` seconds.
        """
        self._process.start()
        self._child_end.close()
        if not self._ready.poll(timeout):
            self.stop(timeout)
            raise RuntimeError(f"the local gateway process did not start within {timeout} s")
        reported = self._ready.recv()
        self._ready.close()
        if not isinstance(reported, int):
            self.stop(timeout)
            raise RuntimeError(f"the local gateway process failed: {reported}")
        self._port = reported

    def stop(self, timeout: float) -> None:
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(timeout)
        self._process.close()
