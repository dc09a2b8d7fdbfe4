"""A local orq-compatible embeddings gateway: offline development, demos and tests.

It speaks orq's wire contract (both dialects), emulates orq's routing (retries, fallbacks, load
balancing, call timeouts, exact-match cache, identities), enforces the published request schema,
and misbehaves on request (:class:`ProviderFault`, :class:`ResponseFault`). Start it with
``orq-embeddings gateway``, with :class:`LocalGateway` in-process, or with the pytest fixture
``orq_gateway``.

Importing this package does not import the web server; starting one does.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .app import CACHE_HEADER, TRACE_ID_HEADER, GatewayApp
    from .catalogue import BUILTIN_MODELS, PRECOMPUTED_MODEL_ID, ModelSpec
    from .config import GatewayConfig
    from .faults import FaultSet, ProviderFault, ResponseFault
    from .local import GatewayPool, LocalGateway
    from .request_log import Counters, RecordedRequest
    from .routing import Attempt

_EXPORTS = {
    "Attempt": "routing",
    "BUILTIN_MODELS": "catalogue",
    "CACHE_HEADER": "app",
    "Counters": "request_log",
    "FaultSet": "faults",
    "GatewayApp": "app",
    "GatewayConfig": "config",
    "GatewayPool": "local",
    "LocalGateway": "local",
    "ModelSpec": "catalogue",
    "PRECOMPUTED_MODEL_ID": "catalogue",
    "ProviderFault": "faults",
    "RecordedRequest": "request_log",
    "ResponseFault": "faults",
    "TRACE_ID_HEADER": "app",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "BUILTIN_MODELS",
    "CACHE_HEADER",
    "PRECOMPUTED_MODEL_ID",
    "TRACE_ID_HEADER",
    "Attempt",
    "Counters",
    "FaultSet",
    "GatewayApp",
    "GatewayConfig",
    "GatewayPool",
    "LocalGateway",
    "ModelSpec",
    "ProviderFault",
    "RecordedRequest",
    "ResponseFault",
]
