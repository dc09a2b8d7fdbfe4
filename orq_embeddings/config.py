"""A client's connection settings: where to send, which key, how hard to push, how long to wait.

Kept apart from :class:`orq_embeddings.options.EmbeddingSettings` (what goes *in* the body), so a
copy of a client with other orq options shares its connections.

The defaults, and why:

- ``timeout`` 60 s per attempt: a batch of long texts on a busy provider can take tens of seconds,
  and orq's own per-provider deadline (``timeout.call_timeout``, in ms) is the place to be strict.
- ``batch_size`` 512 texts: OpenAI allows 2,048 inputs a request; providers with smaller limits
  need a smaller ``batch_size`` (Cohere takes 96).

The settings every surface names alike (retries, their cap and budget, batch bytes, concurrency,
response size, plain http) are declared, with their defaults and the reasons for them, in
:mod:`orq_embeddings.settings`; :class:`ClientConfig` inherits them.

The network, and why (what the most careful HTTP clients do):

- Response headers: at most ``MAX_RESPONSE_HEADERS`` (99) fields and ``MAX_RESPONSE_HEADER_BYTES``
  (64 KiB) in all, on both transports. 99 fields is what Python's http.client accepts (it counts
  the blank line that ends them against its 100), so the sync and async clients refuse exactly
  the same responses; an honest orq response has about 15, a CDN adds a dozen.
- Informational responses (1xx other than 101) are skipped until the final one, as RFC 9110 asks;
  a connection whose response was anomalous in any way (bytes beyond its declared length, a body
  cut short, too large or too slow) is closed, never pooled, so it cannot answer another request.
- A request on a kept-alive connection that the server closed while idle is resent at once on a
  fresh connection, without spending a retry, but only when the connection was reused and failed
  before any byte of a response arrived: then the server provably never processed it (Go's
  net/http and urllib3 make the same distinction).
- Proxies: requests to this machine (``localhost``, 127.0.0.0/8, ``::1``) never go through a proxy
  from ``HTTP(S)_PROXY``, as curl and Go's net/http do: a proxy is another host, and a plain-http
  loopback URL would otherwise hand it the key in clear. Other hosts use the environment's proxy;
  https goes through it in a CONNECT tunnel the proxy cannot read, and plain http to a host that is
  not this machine is refused unless ``allow_insecure_http`` (the proxy would read the key too).
  An explicit ``proxy`` carries every request, this machine's included (it was asked for), and
  the environment's proxies are then not read; plain http through a proxy that is not this
  machine is refused alike unless ``allow_insecure_http``.
- TLS: ``verify`` and the CA-bundle variables are resolved once, at construction, into one
  :class:`~orq_embeddings._transport.trust.TrustStore` both transports use (precedence there). A
  certificate that fails the check raises TLSVerificationError, never retried.
- ``default_headers`` must be visible ASCII (names RFC 9110 tokens, values without CR, LF or other
  control characters), checked at construction: requests would send latin-1 and httpx refuses it,
  and a CR/LF would split the request. Headers that frame the request (``Host``,
  ``Content-Length``, ``Transfer-Encoding``, ``Connection``) are the transport's, not the caller's.
"""

from __future__ import annotations

import ipaddress
import os
import re
from urllib.parse import urlsplit

from pydantic import ConfigDict, Field, PrivateAttr, SecretStr, field_validator, model_validator

from ._transport.given_clients import check_alone
from ._transport.trust import TrustStore
from ._wire.dialects import Dialect, dialect_for_base_url
from .prefixes import Prefixes
from .settings import DEFAULT_MAX_BATCH_BYTES as DEFAULT_MAX_BATCH_BYTES
from .settings import DEFAULT_MAX_CONCURRENCY as DEFAULT_MAX_CONCURRENCY
from .settings import DEFAULT_MAX_RESPONSE_BYTES as DEFAULT_MAX_RESPONSE_BYTES
from .settings import DEFAULT_MAX_RETRIES as DEFAULT_MAX_RETRIES
from .settings import DEFAULT_MAX_RETRY_AFTER as DEFAULT_MAX_RETRY_AFTER
from .settings import DEFAULT_RETRY_WAIT_BUDGET as DEFAULT_RETRY_WAIT_BUDGET
from .settings import ClientSettings

DEFAULT_BASE_URL = "https://api.orq.ai/v2/router"
API_KEY_ENV = "ORQ_API_KEY"
BASE_URL_ENV = "ORQ_BASE_URL"

DEFAULT_TIMEOUT = 60.0
DEFAULT_BATCH_SIZE = 512

#: Headers that frame the request on the wire; the transports set them, never default_headers.
_FRAMING_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
#: RFC 9110 token characters, the only ones a header name may have.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` names this machine (``localhost``, 127.0.0.0/8 or ``::1``)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def env_api_key() -> str | None:
    """The API key from ``ORQ_API_KEY``, or None when it is unset or empty."""
    return os.environ.get(API_KEY_ENV) or None


def env_base_url() -> str | None:
    """The base URL from ``ORQ_BASE_URL``, or None when it is unset or empty."""
    return os.environ.get(BASE_URL_ENV) or None


class ClientConfig(ClientSettings):
    """How a client connects. Validated on construction; the key never appears in its repr.

    Attributes:
        api_key: orq API key, sent as a bearer token. Optional only for a loopback base URL
            (the local gateway).
        base_url: the router (``.../v2/router``, the default) or the legacy gateway
            (``.../v2/gateway``).
        default_headers: extra headers on every request; kept out of the repr and dumps, as they
            may carry credentials.
        timeout: seconds one attempt may take, from connecting to the last byte of the response.
            Distinct from orq's ``timeout.call_timeout`` (milliseconds, per provider attempt).
        batch_size: most inputs in one request.
        dialect: the wire dialect; by default inferred from ``base_url``.

    The other fields, inherited from :class:`~orq_embeddings.settings.ClientSettings`, are
    described there. ``max_retries`` and ``max_retry_after`` are what the client's retries do.
    """

    # An error never echoes the value it was given: that value could be the key.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    api_key: SecretStr | None = None
    base_url: str = DEFAULT_BASE_URL
    default_headers: dict[str, str] = Field(default_factory=dict, repr=False, exclude=True)
    timeout: float = Field(default=DEFAULT_TIMEOUT, gt=0)
    batch_size: int = Field(default=DEFAULT_BATCH_SIZE, ge=1)
    dialect: Dialect | None = None
    _trust: TrustStore = PrivateAttr()

    @field_validator("api_key", mode="before")
    @classmethod
    def _blank_key_is_no_key(cls, value: object) -> object:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        return value or None

    @field_validator("api_key")
    @classmethod
    def _key_fits_a_header(cls, value: SecretStr | None) -> SecretStr | None:
        """Refuse now a key no request could carry, which would otherwise fail every call."""
        key = "" if value is None else value.get_secret_value()
        for position, character in enumerate(key):
            if not "!" <= character <= "~":
                raise ValueError(
                    f"api_key has a character an HTTP header cannot carry at position "
                    f"{position} of {len(key)} (whitespace, a control character or non-ASCII; "
                    "a newline read with the key from a file?)"
                )
        return value

    @field_validator("default_headers")
    @classmethod
    def _headers_fit_the_wire(cls, value: dict[str, str]) -> dict[str, str]:
        """Refuse now a header no request could carry, naming it (never echoing its value)."""
        for name, header_value in value.items():
            if not _TOKEN.fullmatch(name):
                raise ValueError(
                    f"invalid header name {name!r}: a name is letters, "
                    "digits and !#$%&'*+-.^_`|~ only (no spaces, colons or non-ASCII)"
                )
            if name.lower() in _FRAMING_HEADERS:
                raise ValueError(
                    f"header {name!r} must not be set here: the transport sets it to frame "
                    "the request"
                )
            for position, character in enumerate(header_value):
                if not (" " <= character <= "~" or character == "\t"):
                    raise ValueError(
                        f"header {name!r} has a character an HTTP header cannot carry "
                        f"at position {position} of {len(header_value)} (CR, LF, another control "
                        "character or non-ASCII)"
                    )
        return value

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"base_url must be an http(s) URL such as {DEFAULT_BASE_URL}, got {value!r}"
            )
        if parts.query or parts.fragment:
            raise ValueError(f"base_url must not carry a query or fragment, got {value!r}")
        if parts.username is not None or parts.password is not None:
            # Credentials in a URL end up in error messages and logs; keys belong in api_key.
            raise ValueError(
                "base_url must not carry credentials (user:password@); pass the key as api_key"
            )
        return value.rstrip("/")

    @model_validator(mode="after")
    def _check_key_and_transport(self) -> ClientConfig:
        check_alone(self.http_client, self.http_async_client, self.verify, self.proxy)
        host = urlsplit(self.base_url).hostname or ""
        local = is_loopback_host(host)
        if self.api_key is None and not local:
            raise ValueError(
                f"no orq.ai API key for {self.base_url}: pass api_key or set {API_KEY_ENV}. "
                "To work offline without a key, run the local gateway (`orq-embeddings gateway`) "
                f"and point base_url (or {BASE_URL_ENV}) at it."
            )
        if (
            self.api_key is not None
            and urlsplit(self.base_url).scheme == "http"
            and not local
            and not self.allow_insecure_http
        ):
            raise ValueError(
                f"refusing to send the API key over plain http to {host}: use https, "
                "or pass allow_insecure_http=True if this network is trusted"
            )
        proxy_host = urlsplit(self.proxy).hostname or "" if self.proxy else ""
        if (
            self.api_key is not None
            and urlsplit(self.base_url).scheme == "http"
            and self.proxy is not None
            and not is_loopback_host(proxy_host)
            and not self.allow_insecure_http
        ):
            raise ValueError(
                f"refusing to send the API key over plain http through the proxy {proxy_host}: "
                "it would read the key; use https (tunnelled through the proxy), or pass "
                "allow_insecure_http=True if this network is trusted"
            )
        self._trust = TrustStore.resolve(self.verify)
        return self

    @property
    def trust_store(self) -> TrustStore:
        """The certificates https is checked against, the environment read at construction."""
        return self._trust

    @property
    def uses_environment_proxy(self) -> bool:
        """Whether ``HTTP(S)_PROXY`` may carry requests: never to this machine (see above), and
        never when an explicit ``proxy`` carries them all."""
        return self.proxy is None and not is_loopback_host(urlsplit(self.base_url).hostname or "")

    @property
    def text_prefixes(self) -> Prefixes:
        """The query and document prefixes in effect: explicit ones over the preset's."""
        return Prefixes.resolve(self.prefixes, self.query_prefix, self.document_prefix)

    @property
    def embeddings_url(self) -> str:
        """The full URL requests are posted to."""
        return f"{self.base_url}/embeddings"

    @property
    def wire_dialect(self) -> Dialect:
        """The dialect in use: the one set explicitly, else the one ``base_url`` implies."""
        return self.dialect or dialect_for_base_url(self.base_url)
