"""HTTP clients the caller makes and owns, given to the client to send on: what is accepted.

Corporate code often has one configured ``requests.Session`` or ``httpx.Client`` already (an
mTLS certificate, a proxy with its own auth, instrumentation hooks, a mounted adapter). Given as
``http_client`` (sync) or ``http_async_client`` (async), it carries every request as it is: its
headers, hooks, TLS and proxy settings are its own, so the client's ``verify`` and ``proxy`` are
refused beside it (they would be silently ignored). What stays the client's: redirects are never
followed, the key never goes over plain http to another host, retries, pacing, response limits
and the typed errors.

A given client is never closed here (not by ``close()``, garbage collection or a fork); after a
fork it is the caller's to replace, as with any pooled client shared with a parent. Nor is it
pickled: a client holding one refuses to pickle, since a socket pool cannot travel.

The deadline: the client's own sync pool has a watchdog that shuts a socket when the attempt's
deadline passes; it cannot reach a given client's sockets. So with a given sync client each
read waits at most ``timeout`` (the given client's read timeout is set to it) and the deadline is
checked between body chunks: a stalled server, or a body dripped in pieces, ends the attempt
within ``timeout`` plus one read's wait, so within twice ``timeout``. Response headers dripped a
byte at a time, each within the read timeout, are not cut short: that needs the watchdog, which
only the client's own pool has. Async attempts are cancelled at the deadline either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import httpx
import requests
from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic_core import core_schema


@dataclass(frozen=True)
class _Given:
    """Validates a given client by its class only: it is used as it is, never copied or parsed."""

    kinds: tuple[type, ...]
    said: str
    instead: str

    def check(self, value: Any) -> Any:
        if not isinstance(value, self.kinds):
            raise ValueError(
                f"must be {self.said}, got {type(value).__module__}.{type(value).__qualname__}"
                f"{self.instead}"
            )
        if getattr(value, "is_closed", False):
            raise ValueError("is closed: give an open client (it is never closed here)")
        return value

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(self.check)

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        return {"description": f"{self.said} (an object, not serialized)"}


SyncHttpClient = Annotated[
    requests.Session | httpx.Client,
    _Given(
        (requests.Session, httpx.Client),
        "a requests.Session or an httpx.Client",
        " (an httpx.AsyncClient goes in http_async_client, async_http_client in LlamaIndex)",
    ),
]
AsyncHttpClient = Annotated[
    httpx.AsyncClient,
    _Given(
        (httpx.AsyncClient,),
        "an httpx.AsyncClient",
        " (a sync client goes in http_client)",
    ),
]


def check_alone(
    http_client: object, http_async_client: object, verify: object, proxy: object
) -> None:
    """Refuse ``verify`` or ``proxy`` beside a given client, which would silently ignore them."""
    if http_client is None and http_async_client is None:
        return
    given = "http_client" if http_client is not None else "http_async_client"
    for name, value, default in (("verify", verify, True), ("proxy", proxy, None)):
        if value != default:
            raise ValueError(
                f"{name} cannot be set together with {given}: a given client uses its own TLS "
                f"and proxy settings and would ignore it; configure them on that client"
            )


def refuse_pickling(owner: object, http_client: object, http_async_client: object) -> None:
    """Raise a TypeError saying why ``owner``, holding a given client, cannot be pickled."""
    if http_client is not None or http_async_client is not None:
        raise TypeError(
            f"{type(owner).__name__} cannot be pickled with a given http_client or "
            "http_async_client: a pool of open sockets cannot travel; make it where it runs"
        )
