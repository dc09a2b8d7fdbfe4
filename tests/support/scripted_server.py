"""A raw-socket HTTP/1.1 server on 127.0.0.1 whose every response a test scripts.

The local gateway answers as orq would; this server answers as a test says, including the ways a
network or a proxy misbehaves that no well-behaved server produces: a reset halfway through a body,
a body dripped a byte at a time, truncated JSON, an HTML error page. Requests it receives are
recorded, and it counts the most it ever had in flight at once.

Unscripted requests get a valid embeddings response (see :func:`embedding_reply`), with the items
in reverse order so that clients must place vectors by ``index``.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import json
import select
import socket
import ssl
import struct
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Recorded:
    """One request as the server read it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


#: What the server does with one request: write to the socket, return whether to keep it open.
Action = Callable[[socket.socket, Recorded], bool]

TEST_DIMENSIONS = 8


def vector_for(item: str | list[int], dimensions: int = TEST_DIMENSIONS) -> list[float]:
    """A deterministic vector for one input: tests can tell which vector belongs to which input."""
    digest = hashlib.sha256(json.dumps(item).encode()).digest()
    values = struct.unpack(f"<{dimensions}h", digest[: 2 * dimensions])
    return [value / 1024 for value in values]


def encode_vector(vector: list[float], encoding_format: str) -> str | list[float]:
    if encoding_format == "base64":
        return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode()
    return vector


def embedding_payload(request: Recorded, dimensions: int = TEST_DIMENSIONS) -> dict[str, Any]:
    """A valid response body for a request, items in reverse order."""
    body = request.json()
    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
    encoding = body.get("encoding_format", "float")
    data = [
        {
            "object": "embedding",
            "index": index,
            "embedding": encode_vector(vector_for(item, dimensions), encoding),
        }
        for index, item in reversed(list(enumerate(inputs)))
    ]
    return {
        "object": "list",
        "model": body["model"].split("/")[-1],
        "data": data,
        "usage": {"prompt_tokens": len(inputs), "total_tokens": len(inputs)},
    }


def _response_head(status: int, headers: dict[str, str], length: int | None) -> bytes:
    lines = [f"HTTP/1.1 {status} Scripted"]
    merged = {"content-type": "application/json", **{k.lower(): v for k, v in headers.items()}}
    if length is not None:
        merged["content-length"] = str(length)
    lines += [f"{name}: {value}" for name, value in merged.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def reply(
    status: int = 200,
    body: bytes | str | dict[str, Any] | list[Any] = b"",
    headers: dict[str, str] | None = None,
) -> Action:
    """Answer with exactly this status, body and headers."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    raw = body.encode() if isinstance(body, str) else body

    def act(conn: socket.socket, request: Recorded) -> bool:
        conn.sendall(_response_head(status, headers or {}, len(raw)) + raw)
        return True

    return act


def reply_with(make: Callable[[Recorded], tuple[int, Any, dict[str, str]]]) -> Action:
    """Answer with what ``make`` computes from the request: (status, body, headers)."""

    def act(conn: socket.socket, request: Recorded) -> bool:
        status, body, headers = make(request)
        return reply(status, body, headers)(conn, request)

    return act


def embedding_reply(
    dimensions: int = TEST_DIMENSIONS,
    headers: dict[str, str] | None = None,
    edit: Callable[[dict[str, Any]], Any] | None = None,
) -> Action:
    """A valid embeddings response for the request, optionally edited into an invalid one."""

    def make(request: Recorded) -> tuple[int, Any, dict[str, str]]:
        payload = embedding_payload(request, dimensions)
        edited = edit(payload) if edit else None
        return 200, payload if edited is None else edited, headers or {}

    return reply_with(make)


def drop() -> Action:
    """Close the connection without answering."""

    def act(conn: socket.socket, request: Recorded) -> bool:
        return False

    return act


def reset_mid_body(
    status: int = 200, announced: int = 10_000, sent: bytes = b'{"data": ['
) -> Action:
    """Announce a body of ``announced`` bytes, send the first few, then reset the connection."""

    def act(conn: socket.socket, request: Recorded) -> bool:
        conn.sendall(_response_head(status, {}, announced) + sent)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return False

    return act


def drip(body: bytes, every: float, status: int = 200) -> Action:
    """Send the headers, then the body one byte every ``every`` seconds."""

    def act(conn: socket.socket, request: Recorded) -> bool:
        conn.sendall(_response_head(status, {}, len(body)))
        for byte in body:
            time.sleep(every)
            conn.sendall(bytes([byte]))
        return True

    return act


def before_body(then: Action) -> Action:
    """Act as soon as the request's head is in, without reading its body (an early refusal)."""
    then.before_body = True  # type: ignore[attr-defined]
    return then


def refuse_early(status: int, body: dict[str, Any]) -> Action:
    """Answer ``status`` and close before the request's body has been read (a proxy's 413)."""

    def act(conn: socket.socket, request: Recorded) -> bool:
        raw = json.dumps(body).encode()
        conn.sendall(_response_head(status, {"connection": "close"}, len(raw)) + raw)
        return False

    return before_body(act)


def informational(statuses: tuple[int, ...], then: Action) -> Action:
    """Send these 1xx responses (``102 Processing``, ``103 Early Hints``), then act."""

    def act(conn: socket.socket, request: Recorded) -> bool:
        for status in statuses:
            conn.sendall(f"HTTP/1.1 {status} Informational\r\nLink: </hint>\r\n\r\n".encode())
        return then(conn, request)

    return act


def with_bytes_after(extra: Callable[[Recorded], bytes], then: Action) -> Action:
    """Act, and in the same write send ``extra(request)`` beyond the response's declared end."""

    def act(conn: socket.socket, request: Recorded) -> bool:
        sent: list[bytes] = []

        class Capture:
            def sendall(self, data: bytes) -> None:
                sent.append(data)

        keep_open = then(Capture(), request)  # type: ignore[arg-type]
        conn.sendall(b"".join(sent) + extra(request))
        return keep_open

    return act


def raw_response(status: int, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    """The bytes of a complete response, to glue after another one."""
    return _response_head(status, headers or {}, len(body)) + body


def drip_head(every: float) -> Action:
    """Send the status line and headers one byte every ``every`` seconds."""

    def act(conn: socket.socket, request: Recorded) -> bool:
        for byte in _response_head(200, {"x-padding": "p" * 40}, 2):
            if not _quiet_for(conn, every):
                return False
            conn.sendall(bytes([byte]))
        conn.sendall(b"{}")
        return True

    return act


def drip_chunk_size_line(every: float) -> Action:
    """A chunked body whose second chunk-size line (with a long extension) drips in."""

    def act(conn: socket.socket, request: Recorded) -> bool:
        conn.sendall(_chunked_head(200, {}) + b"1\r\n{\r\n")
        for byte in b"1;" + b"e" * 60 + b"\r\n}\r\n0\r\n\r\n":
            if not _quiet_for(conn, every):
                return False
            conn.sendall(bytes([byte]))
        return True

    return act


def endless_body(chunk: int = 1 << 16) -> Action:
    """A chunked 200 whose body never ends, until the client hangs up."""

    def act(conn: socket.socket, request: Recorded) -> bool:
        conn.sendall(_chunked_head(200, {}))
        piece = f"{chunk:x}\r\n".encode() + b" " * chunk + b"\r\n"
        with contextlib.suppress(OSError):
            while True:
                conn.sendall(piece)
        return False

    return act


@functools.lru_cache(maxsize=2)
def gzip_bomb(inflated: int) -> bytes:
    """``inflated`` bytes of spaces, gzipped (about a thousandth of that)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b" " * (1 << 20)
    parts = [compressor.compress(block) for _ in range(inflated // len(block))]
    return b"".join([*parts, compressor.flush()])


def _chunked_head(status: int, headers: dict[str, str]) -> bytes:
    return _response_head(status, {**headers, "transfer-encoding": "chunked"}, None)


def _quiet_for(conn: socket.socket, seconds: float) -> bool:
    """Wait ``seconds``; False if the client hung up (or the server is stopping) meanwhile."""
    readable, _, _ = select.select([conn], [], [], seconds)
    return not readable


def after(seconds: float, then: Action) -> Action:
    """Wait, then act: a slow server. Stops waiting if the client hangs up or the server stops."""

    def act(conn: socket.socket, request: Recorded) -> bool:
        readable, _, _ = select.select([conn], [], [], seconds)
        if readable:  # the peer closed (or the server is stopping): nobody is waiting any more
            return False
        return then(conn, request)

    return act


@dataclass
class ScriptedServer:
    """Serves scripted actions in order, then ``default`` for every request after them."""

    default: Action = field(default_factory=embedding_reply)
    requests: list[Recorded] = field(default_factory=list)
    peak_in_flight: int = 0
    #: With a server-side context, every connection is TLS (its origin is https).
    tls: ssl.SSLContext | None = None
    #: Connections accepted, TLS handshakes that failed included.
    accepted: int = 0

    def __post_init__(self) -> None:
        self._script: deque[Action] = deque()
        self._lock = threading.Lock()
        self._in_flight = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._connections: set[socket.socket] = set()

    @property
    def origin(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The router base URL on this server."""
        return f"{self.origin}/v2/router"

    def push(self, *actions: Action) -> None:
        """Queue actions for the next requests, in order."""
        with self._lock:
            self._script.extend(actions)

    def open_connections(self, settle: float = 1.0) -> int:
        """Connections the clients still hold open, once closes in progress have landed."""
        deadline = time.monotonic() + settle
        while time.monotonic() < deadline:
            with self._lock:
                if not self._connections:
                    return 0
            time.sleep(0.01)
        with self._lock:
            return len(self._connections)

    def bodies(self) -> list[Any]:
        """The JSON bodies of every request so far."""
        return [request.json() for request in self.requests]

    def inputs(self) -> list[Any]:
        """Every input of every request so far, in the order the requests arrived."""
        return [item for body in self.bodies() for item in body["input"]]

    def __enter__(self) -> ScriptedServer:
        accept = threading.Thread(target=self._accept_loop, daemon=True)
        accept.start()
        self._threads.append(accept)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept loop at once
        self._listener.close()
        with self._lock:
            for conn in list(self._connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=5)

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            with self._lock:
                self.accepted += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        if self.tls is not None:
            try:
                conn.settimeout(5)
                conn = self.tls.wrap_socket(conn, server_side=True)
                conn.settimeout(None)
            except OSError:  # the client refused the certificate, or went away
                conn.close()
                return
        with self._lock:
            self._connections.add(conn)
        reader = conn.makefile("rb")
        try:
            for request in self._read_requests(reader, self._next_reads_body):
                with self._lock:
                    self.requests.append(request)
                    action = self._script.popleft() if self._script else self.default
                    self._in_flight += 1
                    self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
                try:
                    keep_open = action(conn, request)
                finally:
                    with self._lock:
                        self._in_flight -= 1
                if not keep_open:
                    break
        except OSError:
            pass
        finally:
            with self._lock:
                self._connections.discard(conn)
            reader.close()
            conn.close()

    def _next_reads_body(self) -> bool:
        with self._lock:
            action = self._script[0] if self._script else self.default
        return not getattr(action, "before_body", False)

    @staticmethod
    def _read_requests(reader: Any, reads_body: Callable[[], bool]) -> Iterator[Recorded]:
        while True:
            request_line = reader.readline()
            if not request_line:
                return
            method, path, _ = request_line.decode("latin-1").split(" ", 2)
            headers: dict[str, str] = {}
            while (line := reader.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            if not reads_body():
                yield Recorded(method, path, headers, b"")
                return
            body = reader.read(int(headers.get("content-length", "0")))
            yield Recorded(method, path, headers, body)
