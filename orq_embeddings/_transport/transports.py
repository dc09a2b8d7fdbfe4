"""Moving bytes: post a body, get status, headers and body back, within one attempt's deadline.

Two transports, one per way of waiting: requests (a pooled Session, for threads) and httpx (an
AsyncClient, for one event loop). Each maps its library's exceptions onto OrqConnectionError and
OrqTimeoutError and does nothing else: no retries (the client owns those, so they never stack), no
redirects (a redirect could carry the key to another host), no parsing.

Both hold a response to the same rules (see :mod:`orq_embeddings.config`): one deadline from
connecting to the last byte; header and body limits (:mod:`orq_embeddings._wire.bounded_body`); a
connection that answered anomalously is closed, never pooled; a request that failed on a reused
connection before any response byte is resent at once on a fresh one, costing no retry; no proxy
for this machine unless one is set explicitly; the same certificates trusted (a
:class:`~orq_embeddings._transport.trust.TrustStore`), and a certificate refused is a
TLSVerificationError on both.
"""

from __future__ import annotations

import asyncio
import http.client
import socket
import ssl
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any, cast
from urllib.parse import urlsplit

import httpcore
import httpx
import requests
import urllib3.exceptions
from requests.structures import CaseInsensitiveDict

from .._wire.bounded_body import BoundedBody, check_header_limits, header_limit_error
from .._wire.raw_response import RawResponse
from ..errors import NameResolutionError, OrqConnectionError, OrqTimeoutError, TLSVerificationError
from . import internals as httpcore_access
from .deadlines import WATCH
from .reporting_connections import Attempt, ReportingAdapter, timeout_progress
from .trust import TrustStore

_READ_CHUNK = 1 << 18
#: Pieces of a request body between checks for an early answer (async only).
_UPLOAD_CHUNK = 1 << 16
#: What requests is told instead of the environment's proxies, for a request to this machine.
_NO_PROXIES: dict[str, Any] = {"http": None, "https": None, "all": None}
#: The only header either transport adds of its own (beyond Host and Content-Length), so both
#: send exactly the same headers.
_TRANSPORT_HEADERS = {"Connection": "keep-alive"}


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def timed_out(url: str, timeout: float, progress: str) -> OrqTimeoutError:
    return OrqTimeoutError(
        f"no complete response from {origin(url)} within {timeout:g} s ({progress})"
    )


_GIVEN_SETTINGS = ("http_client", "http_async_client")


def given_trust(setting: str) -> TrustStore:
    """What a refused certificate's message says a given client trusts: its own settings."""
    return TrustStore(f"what the given {setting} is configured with", setting)


def _chain(error: BaseException) -> list[BaseException]:
    """``error`` and every error it was raised from or during, innermost last."""
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not other for other in seen):
        seen.append(current)
        current = current.__cause__ or current.__context__
    for found in list(seen):  # urllib3 keeps the cause of a failed connection in .reason
        reason = getattr(found, "reason", None)
        if isinstance(reason, BaseException):
            seen.extend(_chain(reason))
    return seen


def broken(url: str, error: BaseException, trust: TrustStore) -> OrqConnectionError:
    """The error for a failed exchange, naming a name-resolution or certificate failure as one."""
    chain = _chain(error)
    refused = next((e for e in chain if isinstance(e, ssl.SSLCertVerificationError)), None)
    if refused is not None:
        host = urlsplit(url).hostname or ""
        if trust.source in _GIVEN_SETTINGS:
            advice = (
                f"the given {trust.source} checked it with its own settings. If this network "
                "has its own CA, configure that client to trust it (its verify=)"
            )
        else:
            advice = (
                f"this client trusts {trust.verify} (from {trust.source}). If this network has "
                "its own CA (a corporate proxy, a private gateway), pass verify= the path of its "
                "bundle, or set REQUESTS_CA_BUNDLE or SSL_CERT_FILE to it"
            )
        return TLSVerificationError(
            f"the certificate of {host} failed the TLS check ({refused.verify_message}); {advice}",
            host=host,
        )
    if any(
        isinstance(found, (socket.gaierror, urllib3.exceptions.NameResolutionError))
        for found in chain
    ):
        host = urlsplit(url).hostname or ""
        return NameResolutionError(
            f"could not resolve the host name {host!r} of {origin(url)}: check base_url, "
            "or this machine's network and DNS",
            host=host,
        )
    reason = type(error).__name__
    return OrqConnectionError(
        f"connection to {origin(url)} failed ({reason}): "
        "it was refused, reset or closed before the response was complete"
    )


def _too_many_headers(error: BaseException) -> bool:
    """Whether http.client gave up on the headers (too many fields, or a line too long)."""
    return any(
        isinstance(found, http.client.LineTooLong)
        or (isinstance(found, http.client.HTTPException) and "got more than" in str(found))
        for found in _chain(error)
    )


class _NoNetrcAuth(requests.auth.AuthBase):
    """Leaves requests as they are: stops requests replacing our Authorization from ~/.netrc."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


class RequestsTransport:
    """Blocking transport over one requests.Session whose pool holds ``pool_size`` connections.

    Args:
        pool_size: connections kept for reuse, one per request that may be in flight.
        max_response_bytes: most bytes of one decoded body.
        use_environment_proxy: whether ``HTTP(S)_PROXY`` may carry the requests.
        trust: the certificates https is checked against.
        proxy: the proxy every request goes through, or None.
        session: the caller's Session to send on instead of one of ours, used as it is (no
            adapter mounted, no header changed) and never closed here. The watchdog cannot
            reach its sockets, so each read waits at most the time left and the deadline is
            checked between chunks (see :mod:`.given_clients`); a failure on a
            stale connection is not told apart, so it is an OrqConnectionError (retried as one).
    """

    def __init__(
        self,
        pool_size: int,
        max_response_bytes: int,
        use_environment_proxy: bool = True,
        trust: TrustStore | None = None,
        proxy: str | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self._pool_size = pool_size
        self._max_response_bytes = max_response_bytes
        self._trust = trust or TrustStore.resolve(True)
        self._given = session
        if session is not None:
            self._session = session
            self._trust = given_trust("http_client")
            self._options: dict[str, Any] = {}  # its own proxies and verify
            return
        if proxy is not None:
            proxies: dict[str, Any] | None = {"http": proxy, "https": proxy}
        else:
            proxies = None if use_environment_proxy else _NO_PROXIES
        self._options = {"proxies": proxies, "verify": self._trust.verify}
        self._session = requests.Session()
        # Never True: requests would then read REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE itself.
        self._session.verify = self._trust.verify
        self._session.auth = _NoNetrcAuth()
        self._session.headers = CaseInsensitiveDict(_TRANSPORT_HEADERS)
        adapter = ReportingAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)

    def post(
        self, url: str, body: bytes, headers: Mapping[str, str], timeout: float
    ) -> RawResponse:
        """Send one request; the whole exchange must finish within ``timeout`` seconds.

        Raises:
            OrqTimeoutError: the exchange did not complete in time.
            NameResolutionError: the host name does not resolve.
            OrqConnectionError: refused, reset, or closed before the body was complete.
            InvalidResponseError: the headers or the body are over the limits.
        """
        deadline = time.monotonic() + timeout
        # Each failure on a stale pooled connection closes it; one more than the pool holds
        # reaches a fresh connection. (A given Session's connections do not report to the
        # attempt, so a failure there is never known to be stale.)
        for _ in range(1 if self._given is not None else self._pool_size + 1):
            attempt = Attempt()
            with WATCH.watching(deadline, attempt), attempt.current():
                try:
                    return self._exchange(url, body, headers, deadline, attempt)
                except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
                    if attempt.expired or isinstance(
                        error, (TimeoutError, requests.Timeout, urllib3.exceptions.TimeoutError)
                    ):
                        raise timed_out(url, timeout, attempt.progress()) from None
                    if _too_many_headers(error):
                        raise header_limit_error(origin(url)) from None
                    if not attempt.stale_connection:
                        raise broken(url, error, self._trust) from None
        raise broken(url, ConnectionResetError("every pooled connection was closed"), self._trust)

    def _exchange(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        deadline: float,
        attempt: Attempt,
    ) -> RawResponse:
        remaining = max(deadline - time.monotonic(), 0.001)
        response = self._session.post(
            url,
            data=body,
            headers=dict(headers),
            stream=True,
            timeout=remaining,
            allow_redirects=False,
            auth=_NoNetrcAuth(),  # the key is ours: neither ~/.netrc's nor a given session.auth
            **self._options,
        )
        attempt.headers_complete = True
        try:
            check_header_limits(origin(url), response.raw.headers.items())
            content = BoundedBody(
                response.headers.get("content-encoding"), self._max_response_bytes
            )
            while chunk := response.raw.read1(_READ_CHUNK, decode_content=False):
                content.feed(chunk)
                attempt.body_bytes = content.size
                # The watchdog cannot reach a given Session's sockets: this is what ends a
                # body dripped within each read's timeout there.
                if time.monotonic() > deadline:
                    raise TimeoutError("deadline passed")
        finally:
            response.close()
        if attempt.expired:  # the body may have looked complete because its socket was shut
            raise TimeoutError("deadline passed")
        return RawResponse(response.status_code, lower_headers(response.headers), content.finish())

    def close(self) -> None:
        """Close every pooled connection (of our own Session; a given one is the caller's)."""
        if self._given is None:
            self._session.close()


def lower_headers(headers: CaseInsensitiveDict[str] | httpx.Headers) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


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


class HttpxTransport:
    """Async transport over one httpx.AsyncClient; it belongs to the event loop that made it.

    Args: as for :class:`RequestsTransport`, and
        client: the caller's AsyncClient to send on instead of one of ours, used as it is and
            never closed here. An httpx.AsyncClient belongs to the event loop it was first used
            on: give one to a client used from that loop only. The deadline still cancels the
            whole exchange; httpx internals are not reached into, so an early answer to a large
            upload may read as a broken connection, and a stale connection is not told apart.
    """

    def __init__(
        self,
        pool_size: int,
        max_response_bytes: int,
        use_environment_proxy: bool = True,
        trust: TrustStore | None = None,
        proxy: str | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._pool_size = pool_size
        self._max_response_bytes = max_response_bytes
        self._trust = trust or TrustStore.resolve(True)
        self._given = client
        if client is not None:
            self._client = client
            self._trust = given_trust("http_async_client")
            return
        limits = httpx.Limits(max_connections=pool_size, max_keepalive_connections=pool_size)
        self._client = httpx.AsyncClient(
            limits=limits,
            follow_redirects=False,
            trust_env=use_environment_proxy,
            verify=self._trust.ssl_context(),
            proxy=proxy,
        )
        self._client.headers = httpx.Headers(_TRANSPORT_HEADERS)

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str], timeout: float
    ) -> RawResponse:
        """Send one request; the whole exchange must finish within ``timeout`` seconds.

        Raises: as :meth:`RequestsTransport.post`.
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
                httpcore_access.retire_if_bytes_left_over(
                    httpcore_access.connection_of(self._client, exchange.trace)
                )
        finally:
            await response.aclose()
        return RawResponse(response.status_code, lower_headers(response.headers), content.finish())

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
                    stream = httpcore_access.read_while_sending(
                        httpcore_access.connection_of(self._client, exchange.trace)
                    )
                if start and stream is not None and httpcore_access.answer_waiting(stream):
                    raise httpcore.WriteError("the server answered before the body was sent")
                yield body[start : start + _UPLOAD_CHUNK]
        finally:
            if stream is not None:
                httpcore_access.stop_reading(stream)

    async def aclose(self) -> None:
        """Close every pooled connection (of our own client; a given one is the caller's)."""
        if self._given is None:
            await self._client.aclose()
