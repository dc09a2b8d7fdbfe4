"""orq.ai embeddings: the shared HTTP core under ``langchain_orq`` and ``llama_index_orq``.

Start with :class:`OrqEmbeddingsClient`; the options models mirror orq's request schema, and
every error it raises on purpose is an :class:`OrqError`.
"""

from typing import TYPE_CHECKING

from ._lazy import lazy_exports
from ._version import __version__

if TYPE_CHECKING:
    from ._runtime.retry import RetryPolicy
    from ._wire.batching import Batch
    from ._wire.decoding import Usage
    from ._wire.dialects import Dialect
    from .client import OrqEmbeddingsClient
    from .config import API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL, ClientConfig
    from .errors import (
        APIStatusError,
        AuthenticationError,
        BadRequestError,
        BatchTooLargeError,
        ConfigurationError,
        EmbeddingSpaceError,
        InputTooLongError,
        InvalidInputError,
        InvalidResponseError,
        NameResolutionError,
        NotFoundError,
        NotSupportedByServerError,
        OrqConnectionError,
        OrqError,
        OrqTimeoutError,
        PermissionDeniedError,
        QuotaExceededError,
        RateLimitError,
        RedirectError,
        RequestTimeoutError,
        ResponseTooLargeError,
        RetryAfterTooLongError,
        ServerError,
        TLSVerificationError,
        UnsupportedOptionError,
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
    from .results import BatchReport, EmbeddedBatch, EmbeddingResult, MixedModelsWarning
    from .settings import ClientSettings
    from .space import EmbeddingSpace

# Names resolve on first use, so importing a submodule (the pytest plugin of the local gateway,
# loaded by every pytest run where this package is installed) does not import the HTTP client,
# numpy and the rest.
_EXPORTS = {
    "APIStatusError": "errors",
    "API_KEY_ENV": "config",
    "AuthenticationError": "errors",
    "BASE_URL_ENV": "config",
    "BadRequestError": "errors",
    "BatchTooLargeError": "errors",
    "InputTooLongError": "errors",
    "Batch": "_wire.batching",
    "BatchReport": "results",
    "CacheOptions": "options",
    "CallTimeout": "options",
    "ClientConfig": "config",
    "ConfigurationError": "errors",
    "DEFAULT_BASE_URL": "config",
    "Dialect": "_wire.dialects",
    "EmbeddedBatch": "results",
    "EmbeddingResult": "results",
    "EmbeddingSettings": "options",
    "EmbeddingSpace": "space",
    "EmbeddingSpaceError": "errors",
    "Fallback": "options",
    "Identity": "options",
    "InvalidInputError": "errors",
    "InvalidResponseError": "errors",
    "NameResolutionError": "errors",
    "LoadBalancer": "options",
    "MixedModelsWarning": "results",
    "NotFoundError": "errors",
    "NotSupportedByServerError": "errors",
    "OrqConnectionError": "errors",
    "OrqEmbeddingsClient": "client",
    "OrqError": "errors",
    "OrqOptions": "options",
    "OrqTimeoutError": "errors",
    "PermissionDeniedError": "errors",
    "QuotaExceededError": "errors",
    "RateLimitError": "errors",
    "RedirectError": "errors",
    "RequestTimeoutError": "errors",
    "ResponseTooLargeError": "errors",
    "RetryAfterTooLongError": "errors",
    "RetryOptions": "options",
    "RetryPolicy": "_runtime.retry",
    "ClientSettings": "settings",
    "ServerError": "errors",
    "TLSVerificationError": "errors",
    "UnsupportedOptionError": "errors",
    "Usage": "_wire.decoding",
    "WeightedModel": "options",
}


__getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "API_KEY_ENV",
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "APIStatusError",
    "AuthenticationError",
    "BadRequestError",
    "Batch",
    "BatchReport",
    "BatchTooLargeError",
    "CacheOptions",
    "CallTimeout",
    "ClientConfig",
    "ClientSettings",
    "ConfigurationError",
    "Dialect",
    "EmbeddedBatch",
    "EmbeddingResult",
    "EmbeddingSettings",
    "EmbeddingSpace",
    "EmbeddingSpaceError",
    "Fallback",
    "Identity",
    "InputTooLongError",
    "InvalidInputError",
    "InvalidResponseError",
    "LoadBalancer",
    "MixedModelsWarning",
    "NameResolutionError",
    "NotFoundError",
    "NotSupportedByServerError",
    "OrqConnectionError",
    "OrqEmbeddingsClient",
    "OrqError",
    "OrqOptions",
    "OrqTimeoutError",
    "PermissionDeniedError",
    "QuotaExceededError",
    "RateLimitError",
    "RedirectError",
    "RequestTimeoutError",
    "ResponseTooLargeError",
    "RetryAfterTooLongError",
    "RetryOptions",
    "RetryPolicy",
    "ServerError",
    "TLSVerificationError",
    "UnsupportedOptionError",
    "Usage",
    "WeightedModel",
    "__version__",
]
