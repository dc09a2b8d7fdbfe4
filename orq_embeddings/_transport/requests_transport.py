"""The sync transport: requests over a pooled Session, every attempt under one deadline.

requests is the sync transport the design card names; under it, urllib3's connections report to
the attempt using them (:mod:`.reporting_connections`) and a watchdog ends an attempt whose
deadline passes however the bytes arrive (:mod:`.deadlines`). No retries (the client owns them,
so they never stack), no redirects (one could carry the key to another host), no parsing.

A given ``requests.Session`` (``http_client``) is sent on as it is, with the limits of
:mod:`.given_clients`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import requests
import urllib3.exceptions
from requests.structures import CaseInsensitiveDict

from .._wire.bounded_body import BoundedBody, check_header_limits, header_limit_error
from .._wire.raw_response import RawResponse
from .base import TRANSPORT_HEADERS, TransportSettings
from .deadlines import WATCH
from .failures import broken, given_trust, lower_headers, origin, timed_out, too_many_headers
from .reporting_connections import Attempt, ReportingAdapter

_READ_CHUNK = 1 << 18
#: What requests is told instead of the environment's proxies, for a request to this machine.
_NO_PROXIES: dict[str, Any] = {"http": None, "https": None, "all": None}


class _NoNetrcAuth(requests.auth.AuthBase):
    """Leaves requests as they are: stops requests replacing our Authorization from ~/.netrc."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


class RequestsTransport:
    """Blocking transport over one requests.Session whose pool holds ``pool_size`` connections.

    Args:
        settings: pool size, response limit, proxies and trust (:class:`.TransportSettings`).
        session: the caller's Session to send on instead of one of ours, used as it is (no
            adapter mounted, no header changed) and never closed here. The watchdog cannot
            reach its sockets, so each read waits at most the time left and the deadline is
            checked between chunks (see :mod:`.given_clients`); a failure on a stale connection
            is not told apart, so it is an OrqConnectionError (retried as one).
    """

    def __init__(
        self, settings: TransportSettings, session: requests.Session | None = None
    ) -> None:
        self._pool_size = settings.pool_size
        self._max_response_bytes = settings.max_response_bytes
        self._given = session
        if session is not None:
            self._session = session
            self._trust = given_trust("http_client")
            self._options: dict[str, Any] = {}  # its own proxies and verify
            return
        self._trust = settings.trust_store
        proxies: dict[str, Any] | None
        if settings.proxy is not None:
            proxies = {"http": settings.proxy, "https": settings.proxy}
        else:
            proxies = None if settings.use_environment_proxy else _NO_PROXIES
        self._options = {"proxies": proxies, "verify": self._trust.verify}
        self._session = requests.Session()
        # Never True: requests would then read REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE itself.
        self._session.verify = self._trust.verify
        self._session.auth = _NoNetrcAuth()
        self._session.headers = CaseInsensitiveDict(TRANSPORT_HEADERS)
        adapter = ReportingAdapter(
            pool_connections=4, pool_maxsize=settings.pool_size, max_retries=0
        )
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
                    if too_many_headers(error):
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
        return RawResponse(
            response.status_code, lower_headers(response.headers.items()), content.finish()
        )

    def close(self) -> None:
        """Close every pooled connection (of our own Session; a given one is the caller's)."""
        if self._given is None:
            self._session.close()
