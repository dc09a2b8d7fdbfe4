"""Which transport a client's settings call for: the only place the runtime gets one from."""

from __future__ import annotations

import httpx
import requests

from .base import AsyncTransport, Transport, TransportSettings
from .httpx_async import HttpxAsyncTransport
from .httpx_given import HttpxClientTransport
from .requests_transport import RequestsTransport


def sync_transport(settings: TransportSettings) -> Transport:
    """The blocking transport: over the caller's httpx.Client or Session if given, else ours."""
    given = settings.http_client
    if isinstance(given, httpx.Client):
        return HttpxClientTransport(given, settings.max_response_bytes)
    session = given if isinstance(given, requests.Session) else None
    return RequestsTransport(settings, session=session)


def async_transport(settings: TransportSettings) -> AsyncTransport:
    """An async transport for the running event loop: over the caller's AsyncClient if given."""
    given = settings.http_async_client
    client = given if isinstance(given, httpx.AsyncClient) else None
    return HttpxAsyncTransport(settings, client=client)
