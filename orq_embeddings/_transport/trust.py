"""Which certificates a client trusts for https, and how proxy URLs are checked and shown.

``verify`` is True (trust the usual store), False (check nothing: for a test network only) or
the path of a CA bundle file (or a directory of hashed certificates, as OpenSSL reads them). When
it is True, the environment may name a bundle instead, in this order:

1. an explicit ``verify`` other than True;
2. ``REQUESTS_CA_BUNDLE`` (what requests reads);
3. ``SSL_CERT_FILE`` (what OpenSSL, curl and httpx read);
4. certifi's bundle.

Both transports get the one answer, so sync and async calls trust the same certificates (left to
themselves, requests reads only the first variable and httpx only the second, and httpx not at
all for a client that ignores the environment). Every path is checked when the client is made:
a bundle that is not there fails every https call, so it is a configuration error, naming the
setting or the variable it came from.

A proxy URL may carry ``user:password@``; :func:`redacted_url` is the only form of it that
reaches a message or a log.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from requests.utils import DEFAULT_CA_BUNDLE_PATH

#: The environment variables that may name a CA bundle, in the order they are honoured.
CA_BUNDLE_ENV = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")
PROXY_SCHEMES = ("http", "https")


def check_verify(value: bool | str) -> bool | str:
    """Refuse now a ``verify`` path that names nothing, rather than fail every call later."""
    if isinstance(value, str) and not os.path.exists(value):
        raise ValueError(
            f"verify names no file or directory: {value!r}; give the path of a CA bundle "
            "(PEM), True for the usual certificates, or False to check none"
        )
    return value


def check_proxy(value: str | None) -> str | None:
    """Refuse now a proxy URL no request could go through, never echoing its credentials."""
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in PROXY_SCHEMES or not parts.hostname:
        raise ValueError(
            f"proxy must be an http:// or https:// URL such as http://proxy.example:3128, "
            f"got {redacted_url(value)!r}"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(
            f"proxy must be scheme://host:port only, got {redacted_url(value)!r} (with a path, "
            "query or fragment)"
        )
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number in range
    except ValueError:
        raise ValueError(f"proxy has an invalid port: {redacted_url(value)!r}") from None
    return value


def redacted_url(url: str) -> str:
    """``url`` with any ``user:password@`` replaced by ``***@``, for messages and logs."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]).geturl()


@dataclass(frozen=True)
class TrustStore:
    """The certificates https connections are checked against.

    Attributes:
        verify: False to check nothing, else the path of the CA bundle (file or directory).
        source: where that came from (``verify``, a variable's name, or ``certifi``).
    """

    verify: bool | str
    source: str

    @classmethod
    def resolve(cls, verify: bool | str) -> TrustStore:
        """The store for a client's ``verify``, the environment read now (see the module)."""
        if verify is not True:
            return cls(verify, "verify")
        for name in CA_BUNDLE_ENV:
            path = os.environ.get(name)
            if path:
                if not os.path.exists(path):
                    raise ValueError(
                        f"{name} names no file or directory: {path!r}; fix or unset it, or pass "
                        "verify= the path of a CA bundle"
                    )
                return cls(path, name)
        return cls(DEFAULT_CA_BUNDLE_PATH, "certifi")

    def ssl_context(self) -> ssl.SSLContext:
        """A new SSL context for httpx trusting exactly this store.

        Made per transport, never kept here: a client, its config included, must pickle (Ray,
        multiprocessing), and an SSLContext does not.
        """
        if self.verify is False:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        path = str(self.verify)
        if os.path.isdir(path):
            return ssl.create_default_context(capath=path)
        return ssl.create_default_context(cafile=path)
