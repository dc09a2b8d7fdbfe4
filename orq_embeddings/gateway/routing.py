"""orq's routing, emulated: which model to call, how often to retry it, when to fall back.

For one request the gateway tries, in order, the load balancer's pick (or ``model``) and then each
of ``fallbacks``. Each model gets one attempt plus ``retry.count`` retries on ``retry.on_codes``;
when its last attempt failed with a fallback code, or timed out, the next model is tried. Each
attempt has its own ``timeout.call_timeout``. Every model a request names must be in the catalogue
before anything is tried: an unknown model is a 404 and never a reason to fall back.

Model failures come from :class:`~orq_embeddings.gateway.faults.ProviderFault`; the local models
themselves never fail.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from ..options import OrqOptions
from .catalogue import Catalogue, ModelSpec
from .embedders import Embedder, embedder_for
from .errors import GatewayError
from .faults import FaultBook, ProviderFault
from .tracing import AttemptKind, attempted
from .validation import EmbeddingRequest
from .vector_encoding import EncodedVector

#: orq's documented defaults (shared/spec).
DEFAULT_RETRY_COUNT = 2
DEFAULT_RETRY_CODES = (408, 429, 500, 502, 503, 504, 529)
DEFAULT_FALLBACK_CODES = (408, 429, 500, 502, 503, 504, 529)
#: orq's backoff varies each wait by up to a quarter either way.
_BACKOFF_JITTER = 0.25


def retry_wait(retry_number: int, first_wait: float, rng: random.Random) -> float:
    """The wait before retry number ``retry_number`` (1-based): ``first_wait`` doubling, +-25%.

    With ``first_wait`` 1 (``config.ORQ_BACKOFF_SECONDS``) that is orq's schedule, about 1, 2,
    4, 8 and 16 s; 0 is no wait at all.
    """
    if first_wait <= 0:
        return 0.0
    base = first_wait * 2.0 ** (retry_number - 1)
    return base * rng.uniform(1 - _BACKOFF_JITTER, 1 + _BACKOFF_JITTER)


class Attempt(BaseModel):
    """One call of one model: which, and the status it answered (504 when it timed out)."""

    model_config = ConfigDict(frozen=True)

    model: str
    status: int


@dataclass(frozen=True)
class Served:
    """A request's vectors and the model that made them."""

    model: ModelSpec
    vectors: list[EncodedVector]
    attempts: tuple[Attempt, ...]


class RoutingFailure(GatewayError):
    """Every model that was tried failed: the client gets the last failure and every attempt."""

    def __init__(self, last: GatewayError, attempts: Sequence[Attempt]) -> None:
        super().__init__(last.status, last.message, code=last.code, headers=last.headers)
        self.attempts = tuple(attempts)

    @property
    def failures(self) -> Sequence[Mapping[str, object]]:
        """Each attempt's model and status, as the error body's ``failures``."""
        return [attempt.model_dump() for attempt in self.attempts]


@dataclass(frozen=True)
class _Policy:
    """The retry, fallback and timeout rules of one request, orq's defaults filled in."""

    retry_count: int
    retry_codes: tuple[int, ...]
    fallback_codes: tuple[int, ...]
    call_timeout: float | None

    @classmethod
    def of(cls, options: OrqOptions) -> _Policy:
        """The request's rules. A code list left out (or null) is orq's default; ``[]`` is none."""
        retry, timeout = options.retry, options.timeout
        retry_codes = None if retry is None else retry.on_codes
        fallback_codes = options.fallback_on_codes
        return cls(
            retry_count=DEFAULT_RETRY_COUNT if retry is None else retry.count,
            retry_codes=DEFAULT_RETRY_CODES if retry_codes is None else retry_codes,
            fallback_codes=DEFAULT_FALLBACK_CODES if fallback_codes is None else fallback_codes,
            call_timeout=None if timeout is None else _seconds(timeout.call_timeout),
        )

    def falls_back_after(self, failure: GatewayError) -> bool:
        """Whether a model's final failure sends the request on to the next model."""
        return isinstance(failure, _CallTimedOut) or failure.status in self.fallback_codes


def _seconds(call_timeout_ms: int) -> float | None:
    """A ``call_timeout`` in seconds; one too long for a float is no deadline at all."""
    try:
        return call_timeout_ms / 1000
    except OverflowError:
        return None


class _CallTimedOut(GatewayError):
    """An attempt that outlived ``timeout.call_timeout``: always a reason to fall back."""


class Router:
    """Runs orq's retry, fallback, load-balancing and timeout rules over the catalogue's models.

    Args:
        catalogue: the models that exist.
        faults: the armed faults; provider faults strike attempts.
        rng: randomness for the load balancer's pick and the backoff jitter (seed it to repeat).
        backoff_seconds: the first retry's wait, doubling after (:func:`retry_wait`); 0 retries
            at once, 1 (``config.ORQ_BACKOFF_SECONDS``) waits as orq does.
        sleep: how a backoff waits; inject one to read the schedule without waiting for it.
    """

    def __init__(
        self,
        catalogue: Catalogue,
        faults: FaultBook,
        rng: random.Random,
        backoff_seconds: float,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._catalogue = catalogue
        self._faults = faults
        self._rng = rng
        self._backoff_seconds = backoff_seconds
        self._sleep = sleep
        self._embedders: dict[str, Embedder] = {}

    async def route(self, request: EmbeddingRequest) -> Served:
        """The request's vectors from the first model that serves them.

        Raises:
            GatewayError: 404 for a model not in the catalogue, 400 for ``dimensions`` a model
                cannot give; RoutingFailure when every model tried failed.
        """
        policy = _Policy.of(request.options)
        attempts: list[Attempt] = []
        failure: GatewayError | None = None
        for model in self.candidates(request):
            result = await self._try_model(model, request, policy, attempts)
            if not isinstance(result, GatewayError):
                return Served(model, result, tuple(attempts))
            failure = result
            if not policy.falls_back_after(failure):
                break
        assert failure is not None, "there is always at least one candidate"
        raise RoutingFailure(failure, attempts)

    async def _try_model(
        self,
        model: ModelSpec,
        request: EmbeddingRequest,
        policy: _Policy,
        attempts: list[Attempt],
    ) -> list[EncodedVector] | GatewayError:
        """Call one model, retrying as the policy says; append every attempt to ``attempts``.

        Each attempt is noted on the request's span too, as a first call, a retry or a fallback.
        """
        first_kind: AttemptKind = "fallback" if attempts else "first"
        for retry_number in range(policy.retry_count + 1):
            if retry_number:
                await self._back_off(retry_number)
            result = await self._attempt(model, request, policy.call_timeout)
            status = 200 if not isinstance(result, GatewayError) else result.status
            attempts.append(Attempt(model=model.id, status=status))
            attempted(model.id, status, "retry" if retry_number else first_kind)
            if not isinstance(result, GatewayError):
                return result
            if result.status not in policy.retry_codes:
                break
        return result

    def candidates(self, request: EmbeddingRequest) -> list[ModelSpec]:
        """The models to try, in order: the load balancer's pick (or ``model``), then fallbacks.

        Checks every model the request names, so a bad fallback fails the request up front.
        """
        options = request.options
        balanced = () if options.load_balancer is None else options.load_balancer.models
        fallbacks = options.fallbacks or ()
        named = [
            ("model", request.model),
            *((f"load_balancer.models[{i}].model", m.model) for i, m in enumerate(balanced)),
            *((f"fallbacks[{i}].model", f.model) for i, f in enumerate(fallbacks)),
        ]
        specs = {model_id: self._checked(field, model_id, request) for field, model_id in named}
        first = request.model
        if balanced:
            # Relative to the largest, so that huge weights cannot sum beyond a float.
            largest = max(choice.weight for choice in balanced)
            weights = [choice.weight / largest for choice in balanced]
            first = self._rng.choices(balanced, weights=weights)[0].model
        return [specs[first], *(specs[fallback.model] for fallback in fallbacks)]

    def _checked(self, field: str, model_id: str, request: EmbeddingRequest) -> ModelSpec:
        """The model named in ``field``, once it is known to exist and to give ``dimensions``."""
        spec = self._catalogue.get(model_id)
        if spec is None:
            raise GatewayError(
                404,
                f"`{field}`: model {model_id!r} does not exist on this gateway; it serves "
                + ", ".join(sorted(s.id for s in self._catalogue)),
                code="model_not_found",
                param=field,
            )
        dimensions = request.dimensions
        if dimensions is not None and not spec.shortening:
            raise GatewayError(
                400,
                f"`dimensions`: {model_id} (named in `{field}`) has a fixed size of "
                f"{spec.dimensions} and does not support `dimensions`; leave it out",
                param="dimensions",
            )
        if dimensions is not None and dimensions > spec.dimensions:
            raise GatewayError(
                400,
                f"`dimensions`: {dimensions} is more than the {spec.dimensions} of {model_id} "
                f"(named in `{field}`); ask for at most {spec.dimensions}",
                param="dimensions",
            )
        return spec

    async def _attempt(
        self, model: ModelSpec, request: EmbeddingRequest, call_timeout: float | None
    ) -> list[EncodedVector] | GatewayError:
        """One call of one model: its vectors, or how it failed."""
        fault = self._faults.provider_fault(model.id)
        try:
            return await asyncio.wait_for(self._call(model, request, fault), call_timeout)
        except asyncio.TimeoutError:
            assert call_timeout is not None
            return _CallTimedOut(
                504,
                f"{model.id} did not answer within timeout.call_timeout "
                f"({call_timeout * 1000:g} ms)",
                code="provider_timeout",
            )

    async def _call(
        self, model: ModelSpec, request: EmbeddingRequest, fault: ProviderFault | None
    ) -> list[EncodedVector] | GatewayError:
        if fault is not None and fault.latency_ms:
            await asyncio.sleep(fault.latency_ms / 1000)
        if fault is not None and fault.status is not None:
            return GatewayError(
                fault.status,
                f"{model.id} answered {fault.status} (a provider fault injected into the local "
                "gateway)",
                headers=fault.error_headers(),
            )
        return self._embedder(model).embed(
            request.inputs, request.dimensions or model.dimensions, request.encoding_format
        )

    def _embedder(self, model: ModelSpec) -> Embedder:
        # Keyed by the weights: models serving the same ones share an embedder and its memo.
        if model.vectors_id not in self._embedders:
            self._embedders[model.vectors_id] = embedder_for(model)
        return self._embedders[model.vectors_id]

    async def _back_off(self, retry_number: int) -> None:
        """Wait before a retry: ``backoff_seconds`` doubling each time, +-25% jitter."""
        wait = retry_wait(retry_number, self._backoff_seconds, self._rng)
        if wait > 0:
            await self._sleep(wait)
