"""OrqEmbeddings: LangChain's Embeddings interface over the orq_embeddings core client."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

from langchain_core.embeddings import Embeddings
from langchain_core.utils import from_env, secret_from_env
from pydantic import ConfigDict, Field, SecretStr

from orq_embeddings import OrqOptions
from orq_embeddings.adapter_base import AdapterBase
from orq_embeddings.config import API_KEY_ENV, BASE_URL_ENV, DEFAULT_BATCH_SIZE, DEFAULT_TIMEOUT
from orq_embeddings.space import SupportedStore

from . import cache, stores

if TYPE_CHECKING:
    from langchain_classic.embeddings import CacheBackedEmbeddings
    from langchain_core.stores import ByteStore


class OrqEmbeddings(AdapterBase, Embeddings):
    """orq.ai embedding model integration: any embedding model behind orq's AI gateway.

    Setup:
        Install `orq-embeddings` with the LangChain extra and set environment variable
        `ORQ_API_KEY`.

        ```bash
        pip install -U "orq-embeddings[langchain]"
        export ORQ_API_KEY="your-api-key"
        ```

        Without a key, run the local orq-compatible gateway and point `ORQ_BASE_URL` at it:

        ```bash
        pip install -U "orq-embeddings[langchain,gateway]"
        orq-embeddings gateway --port 8080 &
        export ORQ_BASE_URL="http://127.0.0.1:8080/v2/router"
        ```

    Key init args — embedding params:
        model:
            orq model id, `provider/model`, e.g. `"openai/text-embedding-3-small"`.
        dimensions:
            Shorten vectors to this many dimensions (models that support it).
        orq:
            orq's routing, cache and identity options, as the dict from orq's docs
            (`fallbacks`, `retry`, `cache`, `load_balancer`, `timeout`, `identity`, `name`)
            or an `orq_embeddings.OrqOptions`.

    Key init args — client params:
        api_key:
            orq API key; read from `ORQ_API_KEY` if not passed.
        base_url:
            Read from `ORQ_BASE_URL`; default `https://api.orq.ai/v2/router`. A URL ending in
            `/v2/gateway` speaks orq's legacy gateway dialect.
        chunk_size:
            Most texts per request (default 512).
        max_concurrency:
            Most requests in flight at once (default 16).
        max_response_bytes:
            Most bytes of one response body, after decompression (default 256 MiB).
        max_retries:
            Client-side retries of a failed request (default 2); orq retries on its side too.
        request_timeout:
            Seconds per attempt (default 60).

    See full list of supported init args and their descriptions in the params section.

    Instantiate:
        ```python
        from langchain_orq import OrqEmbeddings

        embed = OrqEmbeddings(
            model="openai/text-embedding-3-small",
            # dimensions=512,
            # orq={"retry": {"count": 2, "on_codes": [429, 503]},
            #      "cache": {"type": "exact_match", "ttl": 3600}},
        )
        ```

    Embed single text:
        ```python
        input_text = "The meaning of life is 42"
        vector = embed.embed_query(input_text)
        print(len(vector))
        ```
        ```python
        1536
        ```

    Embed multiple texts:
        ```python
        vectors = embed.embed_documents(["hello", "goodbye"])
        print(len(vectors), len(vectors[0]))
        ```
        ```python
        2 1536
        ```

    Async:
        ```python
        vector = await embed.aembed_query(input_text)
        vectors = await embed.aembed_documents(["hello", "goodbye"])
        ```

    Asymmetric models (e5, bge, nomic, ...), whose queries and documents need prefixes:
        ```python
        embed = OrqEmbeddings(model="your-deployment/e5-base-v2", prefixes="e5")
        # embed_query sends "query: ...", embed_documents "passage: ..."
        ```

    Per-request orq options (multi-tenant apps), sharing the connection pool:
        ```python
        tenant_embed = embed.with_orq_options(identity={"id": "tenant-42"}, name="search")
        ```

    One index, one vector space (a store stamped with the model that built it):
        ```python
        store = embed.guard(Chroma("docs", embed, persist_directory="./chroma"))
        # later, with another model of the same width: EmbeddingSpaceError, nothing mixed
        ```

        `guard` takes `Chroma` (langchain-chroma), `QdrantVectorStore` (langchain-qdrant),
        `PGVector` and `PGVectorStore` (langchain-postgres) and `InMemoryVectorStore`;
        `langchain_orq.stores` says where each keeps its stamp.
    """

    _supported_stores: ClassVar[tuple[SupportedStore, ...]] = stores.SUPPORTED

    model: str
    """orq model id, `provider/model`."""
    api_key: SecretStr | None = Field(default_factory=secret_from_env(API_KEY_ENV, default=None))
    """orq API key. Optional only for a loopback base URL (the local gateway)."""
    base_url: str | None = Field(default_factory=from_env(BASE_URL_ENV, default=None))
    """orq base URL; `None` means `https://api.orq.ai/v2/router`."""
    dimensions: int | None = None
    """Vector length, for models that support shortening."""
    encoding_format: Literal["float", "base64"] = "base64"
    """Wire encoding. base64 is a quarter of the bytes; either way floats are returned."""
    user: str | None = None
    """End-user id sent as `user`."""
    orq: OrqOptions | None = None
    """orq routing, cache and identity options (a dict as in orq's docs is accepted)."""
    request_timeout: float = Field(default=DEFAULT_TIMEOUT, alias="timeout", gt=0)
    """Seconds one attempt may take, connect to last byte."""
    chunk_size: int = Field(default=DEFAULT_BATCH_SIZE, ge=1)
    """Most texts per request."""
    default_headers: dict[str, str] | None = Field(default=None, repr=False, exclude=True)
    """Extra headers on every request; kept out of repr and dumps (they may hold credentials)."""
    show_progress_bar: bool = False
    """Show a tqdm progress bar advancing per batch."""
    # max_retries, max_retry_after, retry_wait_budget, max_batch_bytes, max_concurrency,
    # max_response_bytes, allow_insecure_http, prefixes, query_prefix and document_prefix are
    # inherited from ClientSettings.

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        protected_namespaces=(),
        # A key passed as the wrong type must not be echoed in the validation error.
        hide_input_in_errors=True,
    )

    def _store_embeddings(self, store: Any) -> Any:
        """What ``store`` embeds with: LangChain's public ``VectorStore.embeddings``, seen through
        a ``CacheBackedEmbeddings`` (its ``underlying_embeddings``) to the embeddings that make
        the vectors."""
        embeddings: Any = getattr(store, "embeddings", None)
        while hasattr(embeddings, "underlying_embeddings"):
            embeddings = embeddings.underlying_embeddings
        return embeddings

    def _client_settings(self) -> dict[str, Any]:
        """This model's fields as the core client's arguments."""
        return {
            **self._same_named_settings(),
            "model": self.model,
            "timeout": self.request_timeout,
            "batch_size": self.chunk_size,
        }

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed texts for storage; vector ``i`` belongs to ``texts[i]``."""
        with self._progress_bar(len(texts), self.show_progress_bar) as bar:
            return self.client.embed(texts, on_batch=bar.advance).vectors

    def embed_query(self, text: str) -> list[float]:
        """Embed one query text, with the query prefix."""
        return self.client.embed_query(text)

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Async :meth:`embed_documents`: native, on the running event loop."""
        with self._progress_bar(len(texts), self.show_progress_bar) as bar:
            return (await self.client.aembed(texts, on_batch=bar.advance)).vectors

    async def aembed_query(self, text: str) -> list[float]:
        """Async :meth:`embed_query`."""
        return await self.client.aembed_query(text)

    def cache_backed(
        self,
        document_cache: ByteStore,
        *,
        query_cache: bool | ByteStore = False,
        batch_size: int | None = None,
    ) -> CacheBackedEmbeddings:
        """This model behind LangChain's CacheBackedEmbeddings, queries cached apart from documents.

        ``query_cache=True`` keeps query vectors in ``document_cache`` too, under their own
        namespace: a query never gets the vector cached for a document of the same text.
        """
        return cache.cache_backed(
            self,
            lambda side: f"{self.cache_namespace(side)}.",
            document_cache,
            query_cache=query_cache,
            batch_size=batch_size,
        )
