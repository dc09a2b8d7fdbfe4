"""orq.ai embeddings: the shared HTTP core under ``langchain_orq`` and ``llama_index_orq``.

Start with :class:`OrqEmbeddingsClient`; the options models mirror orq's request schema, and
every error it raises on purpose is an :class:`OrqError`.
"""

from ._version import __version__
from .batching import Batch
from .client import OrqEmbeddingsClient
from .config import API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL, ClientConfig
from .dialects import Dialect
from .errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    InvalidInputError,
    InvalidResponseError,
    NotFoundError,
    OrqConnectionError,
    OrqError,
    OrqTimeoutError,
    PermissionDeniedError,
    RateLimitError,
    RedirectError,
    RequestTimeoutError,
    ServerError,
)
from .options import (
    CacheOptions,
    CallTimeout,
    EmbeddingSettings,
    Fallback,
    Identity,
    LoadBalancer,
    OrqOptions,
    RetryOptions,
    WeightedModel,
)
from .responses import Usage
from .results import BatchReport, EmbeddedBatch, EmbeddingResult, MixedModelsWarning
from .retry import RetryPolicy

__all__ = [
    "API_KEY_ENV",
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "APIStatusError",
    "AuthenticationError",
    "BadRequestError",
    "Batch",
    "BatchReport",
    "CacheOptions",
    "CallTimeout",
    "ClientConfig",
    "Dialect",
    "EmbeddedBatch",
    "EmbeddingResult",
    "EmbeddingSettings",
    "Fallback",
    "Identity",
    "InvalidInputError",
    "InvalidResponseError",
    "LoadBalancer",
    "MixedModelsWarning",
    "NotFoundError",
    "OrqConnectionError",
    "OrqEmbeddingsClient",
    "OrqError",
    "OrqOptions",
    "OrqTimeoutError",
    "PermissionDeniedError",
    "RateLimitError",
    "RedirectError",
    "RequestTimeoutError",
    "RetryOptions",
    "RetryPolicy",
    "ServerError",
    "Usage",
    "WeightedModel",
    "__version__",
]
