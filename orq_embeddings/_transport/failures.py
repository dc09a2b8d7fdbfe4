"""A failed exchange in the core's words: the typed error each transport raises, worded alike.

Every transport maps its library's exceptions here, so a timeout, a refused certificate, a name
that does not resolve or a broken connection reads the same whichever transport met it.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Iterable
from urllib.parse import urlsplit

import urllib3.exceptions

from ..errors import NameResolutionError, OrqConnectionError, OrqTimeoutError, TLSVerificationError
from .trust import TrustStore


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def timed_out(url: str, timeout: float, progress: str) -> OrqTimeoutError:
    return OrqTimeoutError(
        f"no complete response from {origin(url)} within {timeout:g} s ({progress})"
    )


def timeout_progress(headers_complete: bool, body_bytes: int) -> str:
    """How far an attempt got before its deadline, in the same words for every transport."""
    if not headers_complete:
        return "the response headers had not all arrived"
    return f"the body was still arriving, {body_bytes} bytes in"


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


def too_many_headers(error: BaseException) -> bool:
    """Whether http.client gave up on the headers (too many fields, or a line too long)."""
    return any(
        isinstance(found, http.client.LineTooLong)
        or (isinstance(found, http.client.HTTPException) and "got more than" in str(found))
        for found in _chain(error)
    )


def lower_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Response headers keyed by their lower-case names, as :class:`RawResponse` holds them."""
    return {name.lower(): value for name, value in headers}
