"""Everything one running gateway remembers: models, armed faults, cache, log, counters, people."""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ..options import Identity
from .cache import ExactMatchCache
from .catalogue import Catalogue
from .config import GatewayConfig
from .faults import FaultBook
from .rate_limit import RollingWindowLimiter
from .request_log import Counters, RecordedRequest
from .routing import Router


@dataclass(frozen=True)
class CachedResponse:
    """A 200 body kept by the exact-match cache, and the catalogue id of the model that made it."""

    model_id: str
    body: bytes


class GatewayState:
    """The mutable state of one gateway, shared by its embeddings and control endpoints.

    Args:
        config: the gateway's settings; faults in it are armed at once.
        clock: monotonic seconds, for cache expiry and the rate-limit window (inject one to step
            past a ttl or a minute in a test).
    """

    def __init__(self, config: GatewayConfig, clock: Callable[[], float]) -> None:
        self.config = config
        self.catalogue = Catalogue(config.models)
        self.faults = FaultBook()
        self.faults.arm(config.faults)
        self.cache: ExactMatchCache[CachedResponse] = ExactMatchCache(
            clock, config.cache_max_entries
        )
        self.rng = random.Random(config.seed)  # noqa: S311 - load balancing, not security
        self.router = Router(self.catalogue, self.faults, self.rng, config.retry_backoff_seconds)
        self.requests: deque[RecordedRequest] = deque(maxlen=config.request_log_size)
        self.counters = Counters()
        self.rate_limiter = (
            None
            if config.requests_per_minute is None
            else RollingWindowLimiter(
                config.requests_per_minute, clock, window_seconds=config.rate_limit_window_seconds
            )
        )
        #: The people requests were attributed to, by id, as orq upserts them.
        self.identities: dict[str, Identity] = {}

    def record(self, request: RecordedRequest, identity: Identity | None) -> None:
        """Log an answered request, count it, and upsert the identity it carried."""
        self.requests.append(request)
        self.counters.count(request)
        if identity is not None:
            self.identities[identity.id] = identity

    def reset(self) -> None:
        """Put the gateway back as it started, as good as a fresh one for the next test.

        The log, totals, cache, identities and rate-limit windows are emptied; the config's
        faults, and only those, are armed again; the load balancer's randomness is seeded again.
        """
        self.requests.clear()
        self.counters.reset()
        self.cache.clear()
        self.identities.clear()
        if self.rate_limiter is not None:
            self.rate_limiter.clear()
        self.faults.clear()
        self.faults.arm(self.config.faults)
        self.rng.seed(self.config.seed)
