"""The few ASGI primitives the gateway needs, so it runs without a web framework.

Any ASGI server can host the app; dropping a connection on purpose needs the local gateway's own
server (:mod:`orq_embeddings.gateway.server`), which offers the ``abort`` extension used here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from .errors import GatewayError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: The scope extension through which the local server lets the app close a connection at once.
ABORT_EXTENSION = "orq_local_gateway.abort"


def request_headers(scope: Scope) -> dict[str, str]:
    """The request headers, names lower-cased; repeated headers joined with ``", "``."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


async def read_body(receive: Receive, headers: Mapping[str, str], limit: int) -> bytes:
    """The whole request body, refused with a 413 as soon as it is known to exceed ``limit``."""
    too_large = GatewayError(
        413,
        f"the request body is larger than this gateway's max_body_bytes ({limit} bytes): "
        "send fewer inputs per request",
    )
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def send_response(send: Send, status: int, body: bytes, headers: Mapping[str, str]) -> None:
    """Send a complete response with a JSON content type and an exact content length."""
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode("ascii")),
        *((name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


async def drop_connection(scope: Scope, receive: Receive) -> None:
    """Close the client's connection without sending a byte of response.

    Raises:
        RuntimeError: the server hosting the app does not offer the abort extension.
    """
    extension = scope.get("extensions", {}).get(ABORT_EXTENSION)
    if extension is None:
        raise RuntimeError(
            "dropping a connection needs the local gateway's own server "
            "(orq-embeddings gateway or LocalGateway)"
        )
    extension["abort"]()
    # Wait until the server has seen the connection go, so it does not answer for us.
    while (await receive())["type"] != "http.disconnect":
        pass


async def serve_lifespan(receive: Receive, send: Send) -> None:
    """Acknowledge the server's startup and shutdown; the gateway needs no setup of its own."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
