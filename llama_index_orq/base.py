"""OrqEmbedding: LlamaIndex's BaseEmbedding over the orq_embeddings core client."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import llama_index.core.instrumentation as instrument
from llama_index.core.base.embeddings.base import BaseEmbedding, Embedding
from llama_index.core.callbacks.schema import CBEventType, EventPayload
from llama_index.core.instrumentation.events.embedding import (
    EmbeddingEndEvent,
    EmbeddingStartEvent,
)
from pydantic import ConfigDict, Field, SecretStr, model_validator

from orq_embeddings import EmbeddedBatch, OrqOptions
from orq_embeddings.adapter_base import AdapterBase
from orq_embeddings.config import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_TIMEOUT,
    env_api_key,
    env_base_url,
)
from orq_embeddings.prefixes import Side
from orq_embeddings.results import float_lists
from orq_embeddings.space import SupportedStore

from . import stores
from .side_cache import SideCollections

dispatcher = instrument.get_dispatcher(__name__)

#: What the progress bar of get_text_embedding_batch says, as LlamaIndex's own embeddings do.
_PROGRESS = "Generating embeddings"

#: Other names users bring from llama-index's OpenAIEmbedding, mapped to this class's fields.
_ALIASES = {
    "model": "model_name",
    "api_base": "base_url",
    # The names llama-index's HuggingFaceEmbedding gives its prefixes.
    "query_instruction": "query_prefix",
    "text_instruction": "document_prefix",
    # llama-index's OpenAIEmbedding names the async client so; the core and LangChain the other way.
    "async_http_client": "http_async_client",
}


def _env_secret() -> SecretStr | None:
    key = env_api_key()
    return None if key is None else SecretStr(key)


class OrqEmbedding(AdapterBase, BaseEmbedding):
    """orq.ai embeddings for LlamaIndex: any embedding model behind orq's AI gateway.

    Batches of ``embed_batch_size`` texts go out ``max_concurrency`` at a time, sync or async, with
    orq's routing (fallbacks, retries, load balancing), cache and identity options on each request.
    The API key is read from ``ORQ_API_KEY`` and the base URL from ``ORQ_BASE_URL``; the key is
    never serialized (``to_dict``/``to_json`` leave it out and ``from_dict`` reads it from the
    environment again) and never appears in events or ``to_payload()``.

    For asymmetric models, ``prefixes="e5"`` (or ``query_prefix`` / ``document_prefix``, also
    accepted as ``query_instruction`` / ``text_instruction``) marks queries and texts; with an
    ``embeddings_cache``, the two are cached apart (see :mod:`llama_index_orq.side_cache`).

    ``guard(vector_store)`` stamps a ``QdrantVectorStore`` (llama-index-vector-stores-qdrant), a
    ``PGVectorStore`` (llama-index-vector-stores-postgres) or the default ``SimpleVectorStore``
    (persist its StorageContext after guarding) with this model's vector space, or checks the
    stamp it has, and binds this model to it (see :mod:`llama_index_orq.stores`).

    Examples:
        ```python
        from llama_index.core import Settings, VectorStoreIndex
        from llama_index_orq import OrqEmbedding

        Settings.embed_model = OrqEmbedding(
            model_name="openai/text-embedding-3-small",
            orq={"retry": {"count": 2, "on_codes": [429, 503]}},  # the same model, retried
        )
        index = VectorStoreIndex.from_documents(documents)
        ```
    """

    model_name: str = Field(description="orq model id, provider/model.")
    api_key: SecretStr | None = Field(
        default_factory=_env_secret,
        exclude=True,
        repr=False,
        description="orq API key; optional only for a loopback base URL (the local gateway).",
    )
    base_url: str | None = Field(
        default_factory=env_base_url,
        description="orq base URL; None means https://api.orq.ai/v2/router.",
    )
    dimensions: int | None = Field(default=None, ge=1, description="Shortened vector length.")
    encoding_format: Literal["float", "base64"] = Field(
        default="base64", description="Wire encoding; floats are returned either way."
    )
    user: str | None = Field(default=None, description="End-user id sent as `user`.")
    orq: OrqOptions | None = Field(
        default=None, description="orq routing, cache and identity options (dict or OrqOptions)."
    )
    timeout: float = Field(default=DEFAULT_TIMEOUT, gt=0, description="Seconds per attempt.")
    embed_batch_size: int = Field(
        default=DEFAULT_BATCH_SIZE, gt=0, le=2048, description="Most texts per request."
    )
    default_headers: dict[str, str] | None = Field(
        default=None, exclude=True, repr=False, description="Extra headers on every request."
    )

    # max_retries, max_retry_after, retry_wait_budget, max_batch_bytes, max_concurrency,
    # max_response_bytes, allow_insecure_http, prefixes, query_prefix and document_prefix are
    # inherited from ClientSettings, as are http_client and http_async_client (given as
    # async_http_client too, llama-index's name).

    # A key passed as the wrong type must not be echoed in the validation error.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    _supported_stores: ClassVar[tuple[SupportedStore, ...]] = stores.SUPPORTED

    @model_validator(mode="before")
    @classmethod
    def _accept_familiar_names(cls, data: Any) -> Any:
        """Accept the names other llama-index embeddings use (``model``, ``query_instruction``)."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for alias, field in _ALIASES.items():
            if alias in data:
                if field in data and data[field] != data[alias]:
                    raise ValueError(f"give either {field!r} or {alias!r}, not both")
                data[field] = data.pop(alias)
        return data

    def _client_settings(self) -> dict[str, Any]:
        """This model's fields as the core client's arguments."""
        return {
            **self._same_named_settings(),
            "model": self.model_name,
            "timeout": self.timeout,
            "batch_size": self.embed_batch_size,
        }

    @classmethod
    def class_name(cls) -> str:
        return "OrqEmbedding"

    def to_payload(self) -> dict[str, Any]:
        """What instrumentation events show of this model: no key, no headers."""
        return {
            "class_name": self.class_name(),
            "model_name": self.model_name,
            "embed_batch_size": self.embed_batch_size,
            "base_url": self.client.config.base_url,
            "dimensions": self.dimensions,
        }

    # -- the six methods BaseEmbedding asks for ----------------------------------------------

    def _get_query_embedding(self, query: str) -> Embedding:
        return self.client.embed_query(query)

    async def _aget_query_embedding(self, query: str) -> Embedding:
        return await self.client.aembed_query(query)

    def _get_text_embedding(self, text: str) -> Embedding:
        return self.client.embed_one(text)

    async def _aget_text_embedding(self, text: str) -> Embedding:
        return await self.client.aembed_one(text)

    def _get_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return self.client.embed(texts).vectors

    async def _aget_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return (await self.client.aembed(texts)).vectors

    # -- the cache, one side at a time -------------------------------------------------------

    def _cached_as(self, side: Side) -> OrqEmbedding:
        """This model, or with an ``embeddings_cache`` a copy that caches ``side`` apart.

        BaseEmbedding keys its cache by the raw text, queries and documents alike; the copy's
        cache is a view keeping each side (and each prefix) in collections of its own (see
        :mod:`llama_index_orq.side_cache`). The copy shares this model's client.
        """
        if self.embeddings_cache is None:
            return self
        view = SideCollections(self.embeddings_cache, self.cache_namespace(side))
        return self.model_copy(update={"embeddings_cache": view})

    def get_query_embedding(self, query: str) -> Embedding:
        """BaseEmbedding's, caching queries apart from documents."""
        return BaseEmbedding.get_query_embedding(self._cached_as("query"), query)

    async def aget_query_embedding(self, query: str) -> Embedding:
        """Async :meth:`get_query_embedding`."""
        return await BaseEmbedding.aget_query_embedding(self._cached_as("query"), query)

    def get_text_embedding(self, text: str) -> Embedding:
        """BaseEmbedding's, caching documents apart from queries."""
        return BaseEmbedding.get_text_embedding(self._cached_as("document"), text)

    async def aget_text_embedding(self, text: str) -> Embedding:
        """Async :meth:`get_text_embedding`."""
        return await BaseEmbedding.aget_text_embedding(self._cached_as("document"), text)

    # -- batches, concurrently ---------------------------------------------------------------

    def _needs_base_batching(self) -> bool:
        """BaseEmbedding's own loop handles a per-text cache and a rate limiter; we defer to it."""
        return self.embeddings_cache is not None or getattr(self, "rate_limiter", None) is not None

    @dispatcher.span
    def get_text_embedding_batch(
        self, texts: list[str], show_progress: bool = False, **kwargs: Any
    ) -> list[Embedding]:
        """Embed texts, ``max_concurrency`` requests at a time (BaseEmbedding sends one by one)."""
        if self._needs_base_batching():
            return BaseEmbedding.get_text_embedding_batch(
                self._cached_as("document"), texts, show_progress, **kwargs
            )
        vectors: list[Embedding] = []
        with self._progress_bar(len(texts), show_progress, _PROGRESS) as bar:
            for embedded in self.client.iter_batches(texts):
                vectors.extend(self._announce(texts, embedded))
                bar.advance(embedded.report)
        return vectors

    @dispatcher.span
    async def aget_text_embedding_batch(
        self, texts: list[str], show_progress: bool = False, **kwargs: Any
    ) -> list[Embedding]:
        """Async :meth:`get_text_embedding_batch`: bounded concurrency, not an unbounded gather."""
        if self._needs_base_batching():
            return await BaseEmbedding.aget_text_embedding_batch(
                self._cached_as("document"), texts, show_progress, **kwargs
            )
        vectors: list[Embedding] = []
        with self._progress_bar(len(texts), show_progress, _PROGRESS) as bar:
            async for embedded in self.client.aiter_batches(texts):
                vectors.extend(self._announce(texts, embedded))
                bar.advance(embedded.report)
        return vectors

    def _announce(self, texts: list[str], embedded: EmbeddedBatch) -> list[Embedding]:
        """Emit LlamaIndex's events for one finished batch and return its vectors as lists."""
        batch = embedded.report.batch
        chunks = texts[batch.start : batch.stop]
        vectors: list[Embedding] = float_lists(embedded.vectors)
        payload = self.to_payload()
        dispatcher.event(EmbeddingStartEvent(model_dict=payload))
        with self.callback_manager.event(
            CBEventType.EMBEDDING, payload={EventPayload.SERIALIZED: payload}
        ) as event:
            event.on_end(payload={EventPayload.CHUNKS: chunks, EventPayload.EMBEDDINGS: vectors})
        # Built without validation: the floats came from a float32 array just now, and checking
        # a batch's half a million of them again cost a sixth of the whole call.
        dispatcher.event(EmbeddingEndEvent.model_construct(chunks=chunks, embeddings=vectors))
        return vectors
