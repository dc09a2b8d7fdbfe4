"""What a gateway saw, for tests to assert on: a bounded request log and running counters.

Secrets never enter the log: the values of ``Authorization`` and the other credential headers are
replaced before a request is recorded, so a log dumped into a test failure leaks nothing.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .routing import Attempt

REDACTED = "[redacted]"
_CREDENTIAL_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "api-key", "cookie"}
)

CacheOutcome = Literal["hit", "miss"]
#: The setting of the gateway's config that refused a request: a 429 or Azure's batch-size 400.
GatewayLimit = Literal["requests_per_minute", "max_inputs_per_request"]


def redacted(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers with every credential's value replaced by ``[redacted]``."""
    return {
        name: REDACTED if name in _CREDENTIAL_HEADERS else value for name, value in headers.items()
    }


class RecordedRequest(BaseModel):
    """One embeddings request and how the gateway answered it.

    Attributes:
        trace_id: the ``x-orq-trace-id`` it was answered with.
        path: the request path (which dialect).
        headers: the request headers, names lower-cased, credentials redacted.
        body: the body as received (bytes that are not UTF-8 replaced).
        status: the status the client got (0 when the connection was dropped on purpose).
        model: the requested ``model``, when the body was valid.
        served_model: the catalogue id of the model that produced the vectors.
        identity: ``orq.identity`` (or ``orq.contact``) as sent.
        cache: ``"hit"`` or ``"miss"`` when the request asked for the cache.
        attempts: every call of a model, in order, with the status it answered.
        refused_by: the limit that refused the request, when one did.
        caller_trace_id: the trace id of the W3C ``traceparent`` the request carried, when it
            carried a valid one: the caller's OpenTelemetry trace.
        received_at, answered_at: when the request arrived and when its answer was sent (Unix
            time), so a test can see how long a job kept the gateway busy, engine start-up aside.
    """

    model_config = ConfigDict(frozen=True)

    trace_id: str
    path: str
    headers: dict[str, str]
    body: str
    status: int
    model: str | None = None
    served_model: str | None = None
    identity: dict[str, Any] | None = None
    cache: CacheOutcome | None = None
    attempts: tuple[Attempt, ...] = ()
    refused_by: GatewayLimit | None = None
    caller_trace_id: str | None = None
    received_at: float | None = None
    answered_at: float | None = None

    def body_json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


class Counters(BaseModel):
    """Running totals since start (or the last reset).

    ``peak_in_flight`` is the most embeddings requests the gateway was handling at once: the
    number a test of a client's concurrency limit reads. ``refused_by_limit`` counts the requests
    each of the gateway's limits refused (the 429s of ``requests_per_minute`` among them).
    """

    requests: int = 0
    requests_by_model: dict[str, int] = Field(default_factory=dict)
    attempts_by_model: dict[str, int] = Field(default_factory=dict)
    served_by_model: dict[str, int] = Field(default_factory=dict)
    responses_by_status: dict[int, int] = Field(default_factory=dict)
    cache_hits: int = 0
    cache_misses: int = 0
    refused_by_limit: dict[str, int] = Field(default_factory=dict)
    in_flight: int = 0
    peak_in_flight: int = 0

    @contextmanager
    def in_flight_request(self) -> Iterator[None]:
        """Count a request as in flight for the duration of the block."""
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            yield
        finally:
            self.in_flight -= 1

    def reset(self) -> None:
        """Start every total again from zero; requests in flight stay counted."""
        in_flight = self.in_flight
        for name, field in type(self).model_fields.items():
            setattr(self, name, field.get_default(call_default_factory=True))
        self.in_flight = self.peak_in_flight = in_flight

    def count(self, record: RecordedRequest) -> None:
        """Add one answered request to the totals."""
        self.requests += 1
        _bump(self.responses_by_status, record.status)
        if record.model is not None:
            _bump(self.requests_by_model, record.model)
        if record.served_model is not None:
            _bump(self.served_by_model, record.served_model)
        for model, attempts in Counter(attempt.model for attempt in record.attempts).items():
            _bump(self.attempts_by_model, model, attempts)
        if record.cache == "hit":
            self.cache_hits += 1
        elif record.cache == "miss":
            self.cache_misses += 1
        if record.refused_by is not None:
            _bump(self.refused_by_limit, record.refused_by)


def _bump(totals: dict[Any, int], key: Any, amount: int = 1) -> None:
    totals[key] = totals.get(key, 0) + amount
