"""The transport seam: what the runtime asks of a transport, and what a transport is made from.

A transport posts one request's bytes and hands back status, headers and body
(:class:`~orq_embeddings._wire.raw_response.RawResponse`), the whole exchange within the
attempt's ``timeout``. It raises the core's typed errors (OrqTimeoutError, OrqConnectionError and
its kinds, InvalidResponseError for headers or a body over the limits) and does nothing else: no
retries, no redirects, no parsing of the body. The runtime knows transports only by these two
protocols; :mod:`.factory` picks the one a client's settings call for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from .._wire.raw_response import RawResponse
from .trust import TrustStore

#: The only header a transport adds of its own (beyond Host and Content-Length), so every
#: transport sends exactly the same headers.
TRANSPORT_HEADERS = {"Connection": "keep-alive"}


class Transport(Protocol):
    """Sends requests from any thread, blocking until each one's response is complete."""

    def post(
        self, url: str, body: bytes, headers: Mapping[str, str], timeout: float
    ) -> RawResponse:
        """Send one request; the whole exchange must finish within ``timeout`` seconds."""
        ...

    def close(self) -> None:
        """Close pooled connections (never those of a client the caller gave)."""
        ...


class AsyncTransport(Protocol):
    """Sends requests on the event loop that made it."""

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str], timeout: float
    ) -> RawResponse:
        """Send one request; the whole exchange must finish within ``timeout`` seconds."""
        ...

    async def aclose(self) -> None:
        """Close pooled connections (never those of a client the caller gave)."""
        ...


@dataclass(frozen=True)
class TransportSettings:
    """What a transport is made from, read off a client's config.

    Attributes:
        pool_size: connections kept for reuse, one per request that may be in flight.
        max_response_bytes: most bytes of one decoded body.
        use_environment_proxy: whether ``HTTP(S)_PROXY`` may carry the requests.
        trust: the certificates https is checked against.
        proxy: the proxy every request goes through, or None.
        http_client: the caller's sync client (a requests.Session or an httpx.Client) to send
            on instead of one of ours, or None.
        http_async_client: the caller's httpx.AsyncClient, or None.
    """

    pool_size: int
    max_response_bytes: int
    use_environment_proxy: bool = True
    trust: TrustStore | None = None
    proxy: str | None = None
    http_client: object | None = None
    http_async_client: object | None = None

    @property
    def trust_store(self) -> TrustStore:
        """The certificates trusted: the settings', or the usual store."""
        return self.trust or TrustStore.resolve(True)
