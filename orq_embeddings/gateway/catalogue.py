"""The models the local gateway serves: orq model ids, their native sizes, and how they embed.

Sizes are the providers' published native dimensions, so code written against the local gateway
allocates the same index sizes it will need against orq.ai. Which embedder produces the vectors is
the local gateway's own business (see :mod:`orq_embeddings.gateway.embedders`).

Each model has a vector space of its own, except where one provider serves another's weights: as
Azure OpenAI serves OpenAI's embedding models, ``azure/<model>`` here makes the same vectors as
``openai/<model>`` (``same_vectors_as``), so a fallback from one to the other can be played.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

#: How a model's vectors are made: feature hashing (meaningful, cheap), precomputed rows
#: (meaningless, nearly free: for benchmarking a client, never for retrieval), or the optional
#: neural MiniLM model (the ``minilm`` extra).
EmbedderKind = Literal["hashing", "precomputed", "minilm"]

#: The cost-free model: vectors are looked up, not computed, so the gateway is never the
#: bottleneck of a client benchmark.
PRECOMPUTED_MODEL_ID = "local/precomputed"
#: A real sentence-embedding model, served when the ``minilm`` extra is installed.
MINILM_MODEL_ID = "local/all-MiniLM-L6-v2"


class ModelSpec(BaseModel):
    """One model the gateway serves.

    Attributes:
        id: the orq model id clients send, ``provider/model``.
        dimensions: the native vector size.
        shortening: whether ``dimensions`` may ask for fewer (truncate, then renormalise), as
            OpenAI's v3 models and Jina v3 allow; elsewhere ``dimensions`` is a 400.
        embedder: how the vectors are made.
        same_vectors_as: the id of the model whose weights this one serves, when it serves
            another's (``azure/text-embedding-3-small`` serves ``openai/text-embedding-3-small``):
            the two make the same vectors. None: a vector space of its own.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    dimensions: int = Field(ge=1, le=65_536)
    shortening: bool = False
    embedder: EmbedderKind = "hashing"
    same_vectors_as: str | None = Field(default=None, min_length=1)

    @property
    def vectors_id(self) -> str:
        """The id that decides this model's vectors: its own, or that of the model it serves."""
        return self.same_vectors_as or self.id

    @property
    def served_name(self) -> str:
        """The name a response's ``model`` field carries: the id without its ``provider/`` prefix.

        orq's documented responses name the provider's own model (``text-embedding-3-small``),
        and with fallbacks or a load balancer this is how a caller tells which model served.
        """
        return self.id.rsplit("/", 1)[-1]


BUILTIN_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(id="openai/text-embedding-3-small", dimensions=1536, shortening=True),
    ModelSpec(id="openai/text-embedding-3-large", dimensions=3072, shortening=True),
    # Azure OpenAI serves OpenAI's embedding models: the same weights, the same vector space.
    ModelSpec(
        id="azure/text-embedding-3-small",
        dimensions=1536,
        shortening=True,
        same_vectors_as="openai/text-embedding-3-small",
    ),
    ModelSpec(
        id="azure/text-embedding-3-large",
        dimensions=3072,
        shortening=True,
        same_vectors_as="openai/text-embedding-3-large",
    ),
    ModelSpec(id="cohere/embed-english-v3.0", dimensions=1024),
    ModelSpec(id="cohere/embed-multilingual-v3.0", dimensions=1024),
    ModelSpec(id="mistral/mistral-embed", dimensions=1024),
    ModelSpec(id="jina/jina-embeddings-v3", dimensions=1024, shortening=True),
    ModelSpec(id=PRECOMPUTED_MODEL_ID, dimensions=1536, embedder="precomputed"),
    ModelSpec(id=MINILM_MODEL_ID, dimensions=384, embedder="minilm"),
)


class Catalogue:
    """The models one gateway serves: the built-in ones plus any a config adds or redefines."""

    def __init__(self, extra_models: Iterable[ModelSpec] = ()) -> None:
        """
        Raises:
            ValueError: a model serving another's weights (``same_vectors_as``) names one that
                is not served, or that differs from it in size, shortening or embedder.
        """
        self._by_id = {spec.id: spec for spec in (*BUILTIN_MODELS, *extra_models)}
        for spec in self._by_id.values():
            if spec.same_vectors_as is not None:
                _check_same_vectors(spec, self._by_id.get(spec.same_vectors_as))

    def get(self, model_id: str) -> ModelSpec | None:
        """The model with this id, or None when the gateway does not serve it."""
        return self._by_id.get(model_id)

    def __iter__(self) -> Iterator[ModelSpec]:
        return iter(self._by_id.values())

    def __contains__(self, model_id: object) -> bool:
        return model_id in self._by_id


def _check_same_vectors(spec: ModelSpec, served: ModelSpec | None) -> None:
    """Refuse a model that claims another's weights it cannot have."""
    if served is None:
        raise ValueError(
            f"model {spec.id!r}: same_vectors_as {spec.same_vectors_as!r} is not a model this "
            "gateway serves"
        )
    mine = (spec.dimensions, spec.shortening, spec.embedder)
    theirs = (served.dimensions, served.shortening, served.embedder)
    if mine != theirs:
        raise ValueError(
            f"model {spec.id!r} serves the vectors of {served.id!r}, so it must have its "
            f"dimensions, shortening and embedder {theirs}, not {mine}"
        )
