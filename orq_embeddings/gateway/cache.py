"""orq's exact-match response cache, as the local gateway keeps it.

A response is stored under a key made of the model, the inputs and every other parameter of the
request (everything but the ``cache`` option itself), and served again for ``ttl`` seconds. The
clock is injected, so a test can step past a ttl without waiting for it.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from .validation import EmbeddingRequest

_Value = TypeVar("_Value")

#: The ttl orq's documentation gives when ``cache.ttl`` is omitted.
DEFAULT_TTL_SECONDS = 1800


def cache_key(request: EmbeddingRequest) -> str:
    """The exact-match key: a digest of every parameter except the cache option."""
    parameters = {
        "model": request.model,
        "input": request.inputs,
        "encoding_format": request.encoding_format,
        "dimensions": request.dimensions,
        "user": request.user,
        "options": request.options.model_dump(mode="json", exclude={"cache"}),
    }
    canonical = json.dumps(parameters, sort_keys=True, ensure_ascii=False)
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
