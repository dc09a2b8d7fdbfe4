"""A forward HTTP proxy on 127.0.0.1 that records what it was asked to carry.

It takes both forms a client uses: ``CONNECT host:port`` for https (a blind tunnel: it sees the
target, never the bytes inside) and an absolute-form request (``POST http://host/path``) for plain
http, which it forwards to the host and whose headers and body it records. Tests see from
:attr:`RecordingProxy.seen` whether a client went through it, to where, and what it could read.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Carried:
    """One request the proxy was asked to carry: ``CONNECT`` or a forwarded method."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class RecordingProxy:
    """Carries every request it gets and records each in :attr:`seen`; a context manager."""

    seen: list[Carried] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url_with_credentials(self, user: str, password: str) -> str:
        return f"http://{user}:{password}@127.0.0.1:{self.port}"

    def __enter__(self) -> RecordingProxy:
        self._spawn(self._accept_loop)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()
        self._listener.close()
        with self._lock:
            for sock in list(self._sockets):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=5)

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        thread.start()
        self._threads.append(thread)

    def _track(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            self._sockets.add(sock)
        return sock

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            self._spawn(self._serve, self._track(conn))

    def _serve(self, conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        try:
            while head := _read_head(reader):
                method, target, headers = head
                if method == "CONNECT":
                    self._record(Carried(method, target, headers))
                    self._tunnel(conn, reader, target)
                    return
                body = reader.read(int(headers.get("content-length", "0")))
                self._record(Carried(method, target, headers, body))
                conn.sendall(self._forward(method, target, headers, body))
        except OSError:
            pass
        finally:
            reader.close()
            conn.close()

    def _record(self, carried: Carried) -> None:
        with self._lock:
            self.seen.append(carried)

    def _forward(self, method: str, target: str, headers: dict[str, str], body: bytes) -> bytes:
        """One request to its origin, the proxy's own headers dropped; the whole response."""
        parts = urlsplit(target)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        lines = [f"{method} {path} HTTP/1.1"] + [
            f"{name}: {value}" for name, value in headers.items() if not name.startswith("proxy-")
        ]
        upstream = self._track(socket.create_connection((parts.hostname, parts.port or 80), 5))
        with upstream:
            upstream.sendall("\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + body)
            upstream.shutdown(socket.SHUT_WR)  # one request: the origin closes after answering
            answer = b""
            while chunk := upstream.recv(1 << 16):
                answer += chunk
        return answer

    def _tunnel(self, conn: socket.socket, reader: object, target: str) -> None:
        host, _, port = target.rpartition(":")
        upstream = self._track(socket.create_connection((host.strip("[]"), int(port)), 5))
        with upstream:
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            sockets = [conn, upstream]
            while not self._stopping.is_set():
                readable, _, _ = select.select(sockets, [], [], 0.2)
                for source in readable:
                    data = source.recv(1 << 16)
                    if not data:
                        return
                    (upstream if source is conn else conn).sendall(data)


def _read_head(reader: object) -> tuple[str, str, dict[str, str]] | None:
    request_line = reader.readline()  # type: ignore[attr-defined]
    if not request_line:
        return None
    method, target, _ = request_line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while (line := reader.readline()) not in (b"\r\n", b"\n", b""):  # type: ignore[attr-defined]
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return method, target, headers
