"""Moving bytes: post a body, get status, headers and body back, within one attempt's deadline.

Two transports, one per way of waiting: requests (a pooled Session, for threads) and httpx (an
AsyncClient, for one event loop). Each maps its library's exceptions onto OrqConnectionError and
OrqTimeoutError and does nothing else: no retries (the client owns those, so they never stack), no
redirects (a redirect could carry the key to another host), no parsing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter

from .errors import OrqConnectionError, OrqTimeoutError
from .responses import RawResponse

_READ_CHUNK = 1 << 18


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _timed_out(url: str, timeout: float) -> OrqTimeoutError:
    return OrqTimeoutError(f"no complete response from {_origin(url)} within {timeout:g} s")


def _broken(url: str, error: BaseException) -> OrqConnectionError:
    reason = type(error).__name__
    return OrqConnectionError(
        f"connection to {_origin(url)} failed ({reason}): "
        "it was refused, reset or closed before the response was complete"
    )


class _NoNetrcAuth(requests.auth.AuthBase):
    """Leaves requests as they are: stops requests replacing our Authorization from ~/.netrc."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


class RequestsTransport:
    """Blocking transport over one requests.Session whose pool holds ``pool_size`` connections."""

    def __init__(self, pool_size: int) -> None:
        self._session = requests.Session()
        self._session.auth = _NoNetrcAuth()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)

    def post(
        self, url: str, body: bytes, headers: Mapping[str, str], timeout: float
    ) -> RawResponse:
        """Send one request; the whole exchange must finish within ``timeout`` seconds.

        Raises:
            OrqTimeoutError: connecting, the first byte or the whole body took too long.
            OrqConnectionError: refused, reset, or closed before the body was complete.
        """
        deadline = time.monotonic() + timeout
        try:
            response = self._session.post(
                url,
                data=body,
                headers=dict(headers),
                stream=True,
                timeout=timeout,
                allow_redirects=False,
            )
            try:
                content = _read_body(response.raw, deadline)
            finally:
                response.close()
        except (TimeoutError, requests.Timeout, urllib3.exceptions.TimeoutError):
            raise _timed_out(url, timeout) from None
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
            raise _broken(url, error) from None
        return RawResponse(
            response.status_code,
            {name.lower(): value for name, value in response.headers.items()},
            content,
        )

    def close(self) -> None:
        """Close every pooled connection."""
        self._session.close()


def _read_body(raw: Any, deadline: float) -> bytes:
    """Read a streamed body to its end; give up at ``deadline`` even if bytes keep trickling in."""
    chunks: list[bytes] = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("deadline passed while reading the body")
        sock = getattr(getattr(raw, "connection", None), "sock", None)
        if sock is not None:
            sock.settimeout(remaining)
        chunk = raw.read1(_READ_CHUNK, decode_content=True)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


class HttpxTransport:
    """Async transport over one httpx.AsyncClient; it belongs to the event loop that made it."""

    def __init__(self, pool_size: int) -> None:
        limits = httpx.Limits(max_connections=pool_size, max_keepalive_connections=pool_size)
        self._client = httpx.AsyncClient(limits=limits, follow_redirects=False)

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str], timeout: float
    ) -> RawResponse:
        """Send one request; the whole exchange must finish within ``timeout`` seconds.

        Raises:
            OrqTimeoutError: the exchange did not complete in time.
            OrqConnectionError: refused, reset, or closed before the body was complete.
        """
        try:
            response = await asyncio.wait_for(
                self._client.post(url, content=body, headers=dict(headers), timeout=timeout),
                timeout,
            )
        except (asyncio.TimeoutError, httpx.TimeoutException):
            raise _timed_out(url, timeout) from None
        except (httpx.RequestError, OSError) as error:
            raise _broken(url, error) from None
        return RawResponse(
            response.status_code,
            {name.lower(): value for name, value in response.headers.items()},
            response.content,
        )

    async def aclose(self) -> None:
        """Close every pooled connection."""
        await self._client.aclose()
