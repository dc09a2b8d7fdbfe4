"""The local gateway's embedders, and the factory that picks one for a model.

- :mod:`.base`: the :class:`Embedder` interface and unit-vector maths.
- :mod:`.hashing`: meaningful vectors by feature hashing.
- :mod:`.precomputed`: a fixed random bank, nearly free, for client benchmarks.
- :mod:`.minilm`: the optional neural model, imported only when a model asks for it.
"""

from __future__ import annotations

from ..catalogue import ModelSpec
from .base import Embedder as Embedder
from .hashing import HashingEmbedder
from .precomputed import PrecomputedEmbedder


def embedder_for(spec: ModelSpec) -> Embedder:
    """A new embedder of the kind the model names.

    Raises:
        GatewayError: 501 for the MiniLM model when its extra is not installed.
    """
    if spec.embedder == "precomputed":
        return PrecomputedEmbedder(spec)
    if spec.embedder == "minilm":
        # Imported only when asked for: it brings in torch.
        from .minilm import MiniLMEmbedder

        return MiniLMEmbedder(spec)
    return HashingEmbedder(spec)
