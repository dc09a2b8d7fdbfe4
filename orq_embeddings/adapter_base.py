"""What both framework adapters share: a pydantic model whose fields drive an OrqEmbeddingsClient.

LangChain's and LlamaIndex's classes are pydantic models users change after construction
(``embed_model.embed_batch_size = 64``, ``model_copy(update=...)``), and neither path validates,
so a client made once in a validator would go on with the old settings. :class:`AdapterBase`
makes the client from the fields on first use and again whenever they differ from those it was
made from; each adapter says only how its fields map onto the client's arguments. A client let go
this way is closed once nothing shares it (see :mod:`._runtime.resources`).

The glue both adapters need lives here once: the cache namespace of each side's vectors, the
progress bar, and the guard on a vector store (the adapters say how each store keeps its stamp).
"""

from __future__ import annotations

from abc import abstractmethod
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import PrivateAttr, ValidationError, model_validator
from typing_extensions import Self

from ._progress import ProgressBar, progress_bar
from ._transport.given_clients import refuse_pickling
from ._validation import configuration_error
from .client import OrqEmbeddingsClient
from .errors import EmbeddingSpaceError
from .options import OrqOptions
from .prefixes import Side
from .settings import ClientSettings
from .space import (
    SupportedStore,
    cache_namespace_of,
    guard_store,
    model_identity,
    prefixes_label,
    route_to,
    stamped_store,
)

if TYPE_CHECKING:
    from pydantic import ModelWrapValidatorHandler

#: What guard() embeds to learn the space of these embeddings when no response has said it yet.
SPACE_PROBE = "orq-embeddings: which vector space is this?"
#: Any vector store: guard() hands back the one it was given.
Store = TypeVar("Store")

#: Client arguments both adapters expose as fields of the same name: the few each declares
#: itself, and every field of ClientSettings, which they inherit. Each adapter adds the ones its
#: framework names its own way (``model_name``, ``chunk_size``, ``embed_batch_size``, ...).
SAME_NAMED_SETTINGS = (
    "api_key",
    "base_url",
    "dimensions",
    "encoding_format",
    "user",
    "orq",
    "default_headers",
    *ClientSettings.model_fields,
)


class AdapterBase(ClientSettings):
    """A pydantic model with an ``orq`` field, backed by a core client that follows its fields.

    The settings of :class:`~orq_embeddings.settings.ClientSettings` are inherited as fields.
    """

    orq: OrqOptions | None = None

    #: The vector stores guard() can stamp, each with the adapter module that says how.
    _supported_stores: ClassVar[tuple[SupportedStore, ...]] = ()

    _client: OrqEmbeddingsClient = PrivateAttr()
    _client_made_from: dict[str, Any] = PrivateAttr(default_factory=dict)

    def __getstate__(self) -> dict[Any, Any]:
        refuse_pickling(self, self.http_client, self.http_async_client)
        return super().__getstate__()

    @abstractmethod
    def _client_settings(self) -> dict[str, Any]:
        """This model's fields as :class:`OrqEmbeddingsClient` arguments."""

    def _same_named_settings(self) -> dict[str, Any]:
        """The arguments whose field has the client argument's name."""
        return {name: getattr(self, name) for name in SAME_NAMED_SETTINGS}

    @model_validator(mode="after")
    def _connect(self) -> Self:
        """Make the core client now, so bad settings fail at construction."""
        _ = self.client
        return self

    @model_validator(mode="wrap")
    @classmethod
    def _say_it_as_the_core_does(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        """Refuse bad settings with the core's message, inside the ValidationError users expect.

        Both frameworks' users expect pydantic's ValidationError from a model; this one carries
        the same paragraph (and, as its cause, the ConfigurationError) that the core raises, for
        the adapter's own fields as for those the core checks.
        """
        try:
            return handler(data)
        except ValidationError as error:
            raise configuration_error(error, cls) from None

    @property
    def client(self) -> OrqEmbeddingsClient:
        """The core client, for numpy output, streamed batches, usage and serving models.

        Made again when a field has changed since it was made, so requests follow the fields.
        """
        settings = self._client_settings()
        if settings != self._client_made_from:
            self._client = OrqEmbeddingsClient(**settings)
            self._client_made_from = settings
        return self._client

    def with_orq_options(self, **orq: Any) -> Self:
        """A copy whose requests carry other orq options, sharing this one's connections.

        Options given are merged into the current ones field by field, e.g.
        ``with_orq_options(identity={"id": "tenant-42"})`` keeps the fallbacks and cache.
        Cheap enough to call per request of a multi-tenant app.
        """
        client = self.client.with_options(orq=orq)
        copy = self.model_copy(update={"orq": client.settings.orq})
        copy._client, copy._client_made_from = client, copy._client_settings()
        return copy

    def cache_namespace(self, side: Side) -> str:
        """The namespace of ``side``'s cached vectors: ``"<space>.query.1a2b3c4d5e6f"``.

        Made of the vector space (:mod:`orq_embeddings.space`): the one these embeddings are
        bound to, else the one their settings ask for (the model by its identity, the
        dimensions asked for or ``native``, the prefix pair), then the side and its prefix. So
        a cache never serves a vector made with another model, width or prefix (both adapters
        key their caches by it), e.g. ``text-embedding-3-small.512d.none.query.1a2b3c4d5e6f``.
        Letters, digits, dashes, underscores and dots only, so file-backed stores take it in a
        key or a collection name.
        """
        namespace = cache_namespace_of(*self._space_settings())
        return f"{namespace}.{self.client.prefixes.cache_namespace(side)}"

    # -- the guard on a vector store -----------------------------------------------------------

    def guard(self, store: Store, *, adopt: bool = False) -> Store:
        """``store``, stamped with the vector space of these embeddings, or checked against it.

        An empty store is stamped in its own persisted metadata; a stamped one must have been
        built in this space. Either way these embeddings are then bound to it (the ``space``
        setting), so a later response from another model (an orq fallback) raises instead of
        mixing spaces. The space is the one bound, else that of the last response, else that of
        one probe request. Which stores each adapter supports, and where each keeps its stamp:
        its ``stores`` package (:mod:`langchain_orq.stores`, :mod:`llama_index_orq.stores`).

        Args:
            store: a vector store of the adapter's framework, as built by the user.
            adopt: stamp a store that holds vectors but no stamp; give it only when those
                vectors were made in this space.

        Raises:
            EmbeddingSpaceError: the store was built in another space (its stamp names it), its
                stamp is damaged or newer than this version reads, or it holds unstamped
                vectors and ``adopt`` is False. Nothing was written to it.
            TypeError: a store of an unsupported class; the message lists the supported ones.
        """
        stamped = stamped_store(store, self._supported_stores)
        client = self.client
        space = client.space
        if space is None:
            space = client.last_space or client.embed([SPACE_PROBE]).space
            if space is None:
                raise EmbeddingSpaceError(
                    "the response to guard()'s probe did not name the model that served it, so "
                    "the space of these embeddings cannot be known; nothing was changed in "
                    f"{stamped.description}. Bind one with "
                    "space='<model>:<dimensions>:<prefixes>'"
                )
            model = client.settings.model
            if space.model != model_identity(model):
                raise EmbeddingSpaceError(
                    f"guard() found these embeddings answered from {space}, served by "
                    f"{route_to(space.model, client.settings)}, not by their model {model}; a "
                    "store is stamped and checked only in the space of the model you chose, so "
                    f"nothing was changed in {stamped.description}. Guard it again when {model} "
                    "answers, or bind the space you mean with "
                    "space='<model>:<dimensions>:<prefixes>'",
                    served=space,
                )
        guard_store(
            stamped,
            space,
            adopt=adopt,
            accepting=lambda: self._refuse_other_embeddings(store, stamped.description),
        )
        self.space = space
        return store

    def _store_embeddings(self, store: Any) -> Any:
        """The embeddings ``store`` embeds with, or None where its framework's stores hold none.

        LlamaIndex's stores hold none (an index embeds); LangChain's adapter says where its
        stores keep theirs.
        """
        return None

    def _space_settings(self) -> tuple[str, int | None, str]:
        """The model identity, width (None: native) and prefix label these embeddings ask for."""
        client = self.client
        bound = client.space
        if bound is not None:
            return bound.model, bound.dimensions, bound.prefixes
        settings = client.settings
        return model_identity(settings.model), settings.dimensions, prefixes_label(client.prefixes)

    def _refuse_other_embeddings(self, store: Any, description: str) -> None:
        """Refuse a store that embeds with other embeddings than these: a stamp written or
        checked with these would not say what the store's vectors are."""
        embeddings = self._store_embeddings(store)
        if embeddings is None or embeddings is self:
            return
        if isinstance(embeddings, AdapterBase):
            (model, width, label), (theirs, their_width, their_label) = (
                self._space_settings(),
                embeddings._space_settings(),
            )
            widths_agree = width is None or their_width is None or width == their_width
            if (model, label) == (theirs, their_label) and widths_agree:
                return
            asked = f"{theirs} ({their_width or 'native'} dimensions, prefixes {their_label})"
            ours = f"{model} ({width or 'native'} dimensions, prefixes {label})"
            raise EmbeddingSpaceError(
                f"{description} embeds with other embeddings than these: {asked}, not {ours}; "
                "nothing was changed. Guard it with the embeddings it was built with"
            )
        kind = f"{type(embeddings).__module__}.{type(embeddings).__qualname__}"
        raise EmbeddingSpaceError(
            f"{description} embeds with a {kind}, not with these embeddings, so their stamp would "
            "not say what its vectors are; nothing was changed. Build the store with these "
            "embeddings and guard it with them"
        )

    @staticmethod
    def _progress_bar(
        total: int, show: bool, description: str = "Embedding"
    ) -> AbstractContextManager[ProgressBar]:
        """A bar over ``total`` texts advanced per batch (``bar.advance``), shown if ``show``."""
        return progress_bar(total, show=show, description=description)
