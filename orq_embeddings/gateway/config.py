"""The local gateway's settings, from code, a JSON file or the command line.

A config file is this model as JSON; every field is optional::

    {
      "api_key": "sk-local-test",
      "max_inputs": 2048,
      "max_body_bytes": 16777216,
      "retry_backoff_seconds": 0,
      "seed": 7,
      "requests_per_minute": 60,
      "max_inputs_per_request": 16,
      "models": [{"id": "acme@openai/text-embedding-3-small", "dimensions": 1536,
                  "shortening": true}],
      "faults": {
        "provider": [{"model": "openai/text-embedding-3-small", "status": 503, "times": 2}],
        "response": [{"status": 429, "retry_after": 0, "times": 1}]
      }
    }

orq publishes no limit on inputs or bytes per request (shared/spec), so both are settings here;
the defaults are OpenAI's documented 2,048 inputs and a body size no sane batch reaches.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from .catalogue import ModelSpec
from .faults import FaultSet
from .rate_limit import WINDOW_SECONDS

DEFAULT_MAX_INPUTS = 2048
#: orq's first retry waits about a second, then 2, 4, 8, 16 s, each +-25% (shared/spec).
ORQ_BACKOFF_SECONDS = 1.0
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024


class GatewayConfig(BaseModel):
    """How one local gateway behaves. The API key never appears in a repr or a dump.

    Attributes:
        api_key: when set, every request must carry ``Authorization: Bearer <api_key>`` (else
            401); when unset, any key or none is accepted.
        max_inputs: the most inputs one request may carry (more is a 400).
        max_body_bytes: the largest request body accepted (larger is a 413).
        requests_per_minute: when set, each API key (requests without one share a bucket) may
            send this many requests in any 60 s, as orq limits a workspace; more is a 429 with
            ``Retry-After`` and ``X-RateLimit-*`` (:mod:`~orq_embeddings.gateway.rate_limit`).
            Unset: no limit.
        rate_limit_window_seconds: the span ``requests_per_minute`` counts over: orq's 60 s;
            a test shortens it to see a window pass without waiting a minute.
        max_inputs_per_request: when set, a batch larger than this is refused as Azure OpenAI
            refuses one (:mod:`~orq_embeddings.gateway.batch_limit`), to play a provider with a
            small batch limit. Unset: no limit beyond ``max_inputs``.
        retry_backoff_seconds: the wait before the gateway's first retry of a model, doubling
            after, each +-25% at random. 1 emulates orq's backoff (about 1, 2, 4, 8, 16 s;
            ``orq-embeddings gateway --orq-backoff``); the default 0 retries at once, which keeps
            test suites fast.
        seed: seeds the load balancer's picks and the backoff jitter, for repeatable runs.
        request_log_size: how many recent requests the request log keeps (0 keeps none).
        cache_max_entries: how many responses the exact-match cache holds before it drops the
            oldest.
        models: models to serve besides the built-in ones (an id that exists replaces it).
        faults: faults armed at start.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    api_key: SecretStr | None = None
    max_inputs: int = Field(default=DEFAULT_MAX_INPUTS, ge=1)
    max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, ge=1)
    requests_per_minute: int | None = Field(default=None, ge=1)
    rate_limit_window_seconds: float = Field(default=WINDOW_SECONDS, gt=0, allow_inf_nan=False)
    max_inputs_per_request: int | None = Field(default=None, ge=1)
    retry_backoff_seconds: float = Field(default=0.0, ge=0)
    seed: int | None = None
    request_log_size: int = Field(default=1000, ge=0)
    cache_max_entries: int = Field(default=10_000, ge=1)
    models: tuple[ModelSpec, ...] = ()
    faults: FaultSet = FaultSet()

    @classmethod
    def from_file(cls, path: str | Path) -> GatewayConfig:
        """Read a JSON config file.

        Raises:
            OSError: the file cannot be read.
            pydantic.ValidationError: the file is not a valid config; the message names the field.
        """
        return cls.model_validate_json(Path(path).read_bytes())
