"""Fault injection: making the local gateway misbehave on purpose, per model, a set number of times.

There are two places a fault can strike, and they test different things:

- :class:`ProviderFault` strikes *inside* the gateway, when it calls a model: the model answers
  with an error status, or answers late. The gateway's own routing reacts as orq's does: it retries
  the model on ``retry.on_codes``, falls back on fallback codes, and counts latency beyond
  ``timeout.call_timeout`` as a timeout. The client sees only the outcome. This is how retries,
  fallbacks and timeouts of orq become visible in a test.
- :class:`ResponseFault` strikes the *response to the client*, whatever routing would have done:
  an error status (429 with ``Retry-After``, 503, ...), a delay, a dropped connection, or a 200
  whose body is not valid JSON. This is how a client's own retries and error handling are tested.

A fault with ``model`` set strikes only requests (response faults) or attempts (provider faults)
for that model; ``times`` limits how often it strikes before it is spent (unset: every time).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: A 429 tells the client when to come back, as orq's do; this is the wait when none is given.
DEFAULT_RATE_LIMIT_RETRY_AFTER = 1.0


class _Fault(BaseModel):
    """What both kinds of fault share: where they strike, how often, and how they fail."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str | None = Field(default=None, min_length=1)
    times: int | None = Field(default=None, ge=1)
    status: int | None = Field(default=None, ge=400, le=599)
    retry_after: float | None = Field(default=None, ge=0)
    latency_ms: int = Field(default=0, ge=0)

    def error_headers(self) -> dict[str, str]:
        """The headers an error response from this fault carries."""
        wait = self.retry_after
        if wait is None and self.status == 429:
            wait = DEFAULT_RATE_LIMIT_RETRY_AFTER
        return {} if wait is None else {"retry-after": f"{wait:g}"}


class ProviderFault(_Fault):
    """A model's misbehaviour when the gateway calls it; the gateway's routing reacts to it.

    Attributes:
        model: the model id it strikes, or every model when unset.
        times: how many attempts it strikes before it is spent; every attempt when unset.
        status: the error status the model answers with (500, 503, 429, ...).
        retry_after: seconds for ``Retry-After`` if this failure is the one the client gets.
        latency_ms: how long the model takes to answer; beyond ``timeout.call_timeout`` the
            attempt is a timeout.
    """

    @model_validator(mode="after")
    def _does_something(self) -> ProviderFault:
        if self.status is None and not self.latency_ms:
            raise ValueError("a provider fault needs a `status`, a `latency_ms`, or both")
        return self


class ResponseFault(_Fault):
    """A misbehaviour of the response to the client, whatever routing would have answered.

    Applies to requests that passed validation (a bad request is still a 400).

    Attributes:
        model: the requested model it strikes, or every request when unset.
        times: how many requests it strikes before it is spent; every request when unset.
        status: answer with this error status and an orq-style body (or ``body``).
        retry_after: seconds for ``Retry-After`` (a 429 always carries one).
        latency_ms: wait this long before answering (alone: delay, then answer normally).
        body: the exact body to send with ``status``: an HTML page, a legacy error, nothing.
        drop_connection: close the connection without sending a byte.
        malformed_json: answer 200 with a body that is not valid JSON (a truncated response).
    """

    body: str | None = None
    drop_connection: bool = False
    malformed_json: bool = False

    @model_validator(mode="after")
    def _one_effect(self) -> ResponseFault:
        effects = [self.status is not None, self.drop_connection, self.malformed_json]
        if sum(effects) > 1:
            raise ValueError(
                "a response fault has at most one of `status`, `drop_connection`, "
                "`malformed_json`; use two faults for two effects"
            )
        if not any(effects) and not self.latency_ms:
            raise ValueError(
                "a response fault needs `status`, `drop_connection`, `malformed_json` or "
                "`latency_ms`"
            )
        if self.body is not None and self.status is None:
            raise ValueError("`body` is sent with a `status`; give one")
        return self


class FaultSet(BaseModel):
    """Faults to arm, as a config file and the control endpoint spell them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: tuple[ProviderFault, ...] = ()
    response: tuple[ResponseFault, ...] = ()


Fault = ProviderFault | ResponseFault
_FaultT = TypeVar("_FaultT", ProviderFault, ResponseFault)


@dataclass
class _Armed:
    fault: Fault
    remaining: int | None


class FaultBook:
    """The armed faults of one gateway, in the order they were added; spent ones are dropped."""

    def __init__(self) -> None:
        self._armed: list[_Armed] = []

    def arm(self, faults: FaultSet) -> None:
        """Add faults after those already armed (the first matching fault strikes first)."""
        new: list[Fault] = [*faults.provider, *faults.response]
        self._armed.extend(_Armed(fault, fault.times) for fault in new)

    def clear(self) -> None:
        self._armed.clear()

    def armed(self) -> FaultSet:
        """The faults still armed, with ``times`` showing how many strikes each has left."""
        remaining = [
            armed.fault.model_copy(update={"times": armed.remaining}) for armed in self._armed
        ]
        return FaultSet(
            provider=tuple(f for f in remaining if isinstance(f, ProviderFault)),
            response=tuple(f for f in remaining if isinstance(f, ResponseFault)),
        )

    def provider_fault(self, model: str) -> ProviderFault | None:
        """The provider fault that strikes this attempt at ``model``, if any (and spend it)."""
        return self._strike(ProviderFault, model)

    def response_fault(self, model: str) -> ResponseFault | None:
        """The response fault that strikes this request for ``model``, if any (and spend it)."""
        return self._strike(ResponseFault, model)

    def _strike(self, kind: type[_FaultT], model: str) -> _FaultT | None:
        for armed in self._armed:
            fault = armed.fault
            if isinstance(fault, kind) and fault.model in (None, model):
                if armed.remaining is not None:
                    armed.remaining -= 1
                    if armed.remaining == 0:
                        self._armed.remove(armed)
                return fault
        return None
