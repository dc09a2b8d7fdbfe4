"""orq's exact-match response cache, as the local gateway keeps it.

A response is stored under a key made of the exact request as it was sent, in its dialect: the
model, the inputs and every other parameter, spelled as the body spelled them (``"x"`` and
``["x"]`` are two requests; a router body and a gateway body are never one), everything but the
``cache`` option itself, so a new ttl still finds the entry. It is served again for ``ttl``
seconds. The clock is injected, so a test can step past a ttl without waiting for it.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .._wire.dialects import Dialect

_Value = TypeVar("_Value")

#: The ttl orq's documentation gives when ``cache.ttl`` is omitted.
DEFAULT_TTL_SECONDS = 1800


def cache_key(dialect: Dialect, body: bytes) -> str:
    """The exact-match key: a digest of the dialect and the body without its ``cache`` option.

    Args:
        dialect: the dialect the body was posted in.
        body: the request body as received, already validated (a JSON object).
    """
    parameters: dict[str, Any] = json.loads(body)
    parameters.pop("cache", None)
    orq = parameters.get("orq")
    if isinstance(orq, dict):
        parameters["orq"] = {name: value for name, value in orq.items() if name != "cache"}
    canonical = json.dumps(
        [dialect.value, parameters], sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class _Entry(Generic[_Value]):
    value: _Value
    expires_at: float


class ExactMatchCache(Generic[_Value]):
    """Values by key, each until its own expiry; the oldest are dropped beyond ``max_entries``."""

    def __init__(self, clock: Callable[[], float], max_entries: int) -> None:
        self._clock = clock
        self._max_entries = max_entries
        self._entries: OrderedDict[str, _Entry[_Value]] = OrderedDict()

    def get(self, key: str) -> _Value | None:
        """The value stored under ``key``, unless it has expired (then it is forgotten)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self._clock() >= entry.expires_at:
            del self._entries[key]
            return None
        return entry.value

    def put(self, key: str, value: _Value, ttl: float) -> None:
        """Store ``value`` for ``ttl`` seconds from now."""
        self._entries.pop(key, None)
        self._entries[key] = _Entry(value, self._clock() + ttl)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()
