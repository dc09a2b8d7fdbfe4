"""The async transport: one httpx.AsyncClient per event loop, every attempt under one deadline.

httpx is the async transport the design card names. Two rules of the client need the connection
a request travels on, which httpx hides; the few internals of httpcore, anyio and h11 this takes
live in :mod:`.internals`, each with a test that fails when a dependency changes it. A given
``httpx.AsyncClient`` (``http_async_client``) is sent on as it is: nothing of it is reached into.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any, cast

import httpcore
import httpx

from .._wire.bounded_body import BoundedBody, check_header_limits
from .._wire.raw_response import RawResponse
from . import internals
from .base import TRANSPORT_HEADERS, TransportSettings
from .failures import broken, given_trust, lower_headers, origin, timed_out, timeout_progress

#: Pieces of a request body between checks for an early answer.
_UPLOAD_CHUNK = 1 << 16


class _Exchange:
    """What one async exchange saw, from httpcore's trace events."""

    def __init__(self) -> None:
        self.connected = False
        self.headers_complete = False
        self.body_bytes = 0

    async def trace(self, event: str, info: Mapping[str, Any]) -> None:
        if event == "connection.connect_tcp.started":
            self.connected = True
        elif event == "http11.receive_response_headers.complete":
            self.headers_complete = True

    def progress(self) -> str:
        return timeout_progress(self.headers_complete, self.body_bytes)

    def failed_on_stale_connection(self, error: BaseException) -> bool:
        """A reused connection that the server had closed before any byte of a response."""
        return (
            not self.connected
            and not self.headers_complete
            and isinstance(error, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError))
            and (
                not isinstance(error, httpx.RemoteProtocolError)
                or "without sending a response" in str(error)
            )
        )


class HttpxAsyncTransport:
    """Async transport over one httpx.AsyncClient; it belongs to the event loop that made it.

    Args:
        settings: pool size, response limit, proxies and trust (:class:`.TransportSettings`).
        client: the caller's AsyncClient to send on instead of one of ours, used as it is and
            never closed here. An httpx.AsyncClient belongs to the event loop it was first used
            on: give one to a client used from that loop only. The deadline still cancels the
            whole exchange; httpx internals are not reached into, so an early answer to a large
            upload may read as a broken connection, and a stale connection is not told apart.
    """

    def __init__(
        self, settings: TransportSettings, client: httpx.AsyncClient | None = None
    ) -> None:
        self._pool_size = settings.pool_size
        self._max_response_bytes = settings.max_response_bytes
        self._given = client
        if client is not None:
            self._client = client
            self._trust = given_trust("http_async_client")
            return
        self._trust = settings.trust_store
        limits = httpx.Limits(
            max_connections=settings.pool_size, max_keepalive_connections=settings.pool_size
        )
        self._client = httpx.AsyncClient(
            limits=limits,
            follow_redirects=False,
            trust_env=settings.use_environment_proxy,
            verify=self._trust.ssl_context(),
            proxy=settings.proxy,
        )
        self._client.headers = httpx.Headers(TRANSPORT_HEADERS)

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str], timeout: float
    ) -> RawResponse:
        """Send one request; the whole exchange must finish within ``timeout`` seconds.

        Raises: as :meth:`.base.Transport.post`.
        """
        deadline = time.monotonic() + timeout
        # A given client's failures are not told apart (its internals are not reached into).
        for _ in range(1 if self._given is not None else self._pool_size + 1):
            exchange = _Exchange()
            try:
                return await asyncio.wait_for(
                    self._exchange(url, body, headers, timeout, exchange),
                    max(deadline - time.monotonic(), 0.001),
                )
            except (asyncio.TimeoutError, httpx.TimeoutException):
                raise timed_out(url, timeout, exchange.progress()) from None
            except (httpx.RequestError, OSError) as error:
                if not exchange.failed_on_stale_connection(error):
                    raise broken(url, error, self._trust) from None
        raise broken(url, ConnectionResetError("every pooled connection was closed"), self._trust)

    async def _exchange(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        timeout: float,
        exchange: _Exchange,
    ) -> RawResponse:
        given = self._given is not None
        request = self._client.build_request(
            "POST",
            url,
            content=body if given else self._upload(body, exchange),
            headers={**headers, "Content-Length": str(len(body))},
            timeout=timeout,
        )
        request.extensions["trace"] = exchange.trace
        response = await self._client.send(request, stream=True, follow_redirects=False)
        try:
            check_header_limits(origin(url), response.headers.multi_items())
            content = BoundedBody(
                response.headers.get("content-encoding"), self._max_response_bytes
            )
            # The stream itself, not aiter_raw(), which closes the response at the end, and
            # with it the moment to look at what is left on the connection.
            async for chunk in cast(httpx.AsyncByteStream, response.stream):
                content.feed(chunk)
                exchange.body_bytes = content.size
            # httpx would keep bytes beyond the response's declared end (a proxy that glues
            # two responses, a Content-Length shorter than the body) for the next request.
            if not given:
                internals.retire_if_bytes_left_over(
                    internals.connection_of(self._client, exchange.trace)
                )
        finally:
            await response.aclose()
        return RawResponse(
            response.status_code, lower_headers(response.headers.items()), content.finish()
        )

    async def _upload(self, body: bytes, exchange: _Exchange) -> AsyncIterator[bytes]:
        """The body in pieces, stopping early if the server answers before it is all sent.

        A server (or proxy) that refuses a large body answers at once and closes; the write
        that follows fails, and asyncio then closes the socket with that answer unread, so the
        client would see only a broken connection and upload the body again. So while the body
        goes out, the connection is read too (httpcore reads only after sending), and the upload
        stops as soon as an answer is waiting: httpcore then reads it (it reads the response
        after a failed write), and an early 413 is a 413, as it is with the sync transport.
        """
        if len(body) <= _UPLOAD_CHUNK:  # one write, which the kernel takes at once
            yield body
            return
        stream = None
        try:
            for start in range(0, len(body), _UPLOAD_CHUNK):
                if stream is None:
                    stream = internals.read_while_sending(
                        internals.connection_of(self._client, exchange.trace)
                    )
                if start and stream is not None and internals.answer_waiting(stream):
                    raise httpcore.WriteError("the server answered before the body was sent")
                yield body[start : start + _UPLOAD_CHUNK]
        finally:
            if stream is not None:
                internals.stop_reading(stream)

    async def aclose(self) -> None:
        """Close every pooled connection (of our own client; a given one is the caller's)."""
        if self._given is None:
            await self._client.aclose()
