"""The blocking transport over an httpx.Client the caller gives (``http_client``).

The client's own sync transport is requests with a watchdog (:mod:`.requests_transport`);
a caller who already has a configured httpx.Client sends on it instead, as it is: its headers,
event hooks, mounts, TLS and proxies apply, and it is never closed here. What stays the client's:
no redirect is followed, the body is read raw and held to ``max_response_bytes``, and failures
are the same typed errors as on the other transports. Each read waits at most ``timeout`` and the
deadline is checked between chunks (see :mod:`orq_embeddings._transport.given_clients`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import httpx

from .._wire.bounded_body import BoundedBody, check_header_limits
from .._wire.raw_response import RawResponse
from .failures import broken, given_trust, lower_headers, origin, timed_out, timeout_progress


class _Progress:
    """How far an exchange got, for the timeout message; the deadline checked between chunks."""

    def __init__(self) -> None:
        self.headers_complete = False
        self.body_bytes = 0

    def progress(self) -> str:
        return timeout_progress(self.headers_complete, self.body_bytes)

    def check(self, deadline: float) -> None:
        if time.monotonic() > deadline:
            raise TimeoutError("deadline passed between chunks")


class HttpxClientTransport:
    """Sends on a given httpx.Client; nothing pooled or closed of its own.

    Args:
        client: the caller's client.
        max_response_bytes: most bytes of one decoded body.
    """

    def __init__(self, client: httpx.Client, max_response_bytes: int) -> None:
        self._client = client
        self._max_response_bytes = max_response_bytes
        self._trust = given_trust("http_client")

    def post(
        self, url: str, body: bytes, headers: Mapping[str, str], timeout: float
    ) -> RawResponse:
        """Send one request within ``timeout`` as far as a given client allows (module doc).

        Raises: as :meth:`.base.Transport.post`.
        """
        deadline = time.monotonic() + timeout
        progress = _Progress()
        try:
            request = self._client.build_request(
                "POST", url, content=body, headers=dict(headers), timeout=timeout
            )
            response = self._client.send(request, stream=True, follow_redirects=False)
            progress.headers_complete = True
            try:
                check_header_limits(origin(url), response.headers.multi_items())
                content = BoundedBody(
                    response.headers.get("content-encoding"), self._max_response_bytes
                )
                for chunk in response.iter_raw():
                    content.feed(chunk)
                    progress.body_bytes = content.size
                    progress.check(deadline)
            finally:
                response.close()
        except (httpx.TimeoutException, TimeoutError):
            raise timed_out(url, timeout, progress.progress()) from None
        except (httpx.RequestError, OSError) as error:
            raise broken(url, error, self._trust) from None
        return RawResponse(
            response.status_code, lower_headers(response.headers.items()), content.finish()
        )

    def close(self) -> None:
        """Nothing to close: the client is the caller's."""
