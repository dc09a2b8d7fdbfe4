"""llama-index-vector-stores-qdrant's QdrantVectorStore: the stamp is in the collection's metadata.

Qdrant keeps a collection's metadata with its configuration (``meta.json`` in local mode) and
never returns it with points. The store's ``client`` and ``collection_name`` are public.

The one place that reaches into the store's private state: it makes its collection lazily, on
the first ``add``, sized by the first vector. To stamp a new store now, the guard makes the
collection the way the store would (``_create_collection``: dense or hybrid, its payload
indexes), sized by the space's width.
"""

from __future__ import annotations

from typing import Any

from llama_index.vector_stores.qdrant import QdrantVectorStore

from orq_embeddings.space import STAMP_KEY, EmbeddingSpace, store_internal


class QdrantStamp:
    """A Qdrant collection's stamp, in its metadata."""

    stamp_location = f"stamp in the collection's metadata, key {STAMP_KEY!r}"

    def __init__(self, store: QdrantVectorStore) -> None:
        if store.client is None:
            raise TypeError(
                "guard() reads the collection through the store's sync client: make the "
                "QdrantVectorStore with client= (aclient= may be given too)"
            )
        self._store = store
        self._client: Any = store.client
        self._name = store.collection_name
        self.description = f"Qdrant collection {self._name!r}"

    def _exists(self) -> bool:
        exists: bool = self._client.collection_exists(self._name)
        return exists

    def read_stamp(self) -> object | None:
        if not self._exists():
            return None
        metadata = self._client.get_collection(self._name).config.metadata or {}
        return metadata.get(STAMP_KEY)

    def count_vectors(self) -> int:
        return self._client.count(self._name, exact=True).count if self._exists() else 0

    def vector_width(self) -> int | None:
        if not self._exists():
            return None
        vectors = self._client.get_collection(self._name).config.params.vectors
        if isinstance(vectors, dict):
            vectors = vectors.get(self._store.dense_vector_name, vectors.get(""))
        return None if vectors is None else vectors.size

    def write_stamp(self, stamp: str, space: EmbeddingSpace) -> None:
        if not self._exists():
            # As the store's first add would make it, sized by the space rather than a vector.
            create = store_internal(
                self._store,
                "_create_collection",
                "llama-index-vector-stores-qdrant",
                "make a new collection as the store's first add would",
            )
            create(self._name, space.dimensions)
        self._client.update_collection(self._name, metadata={STAMP_KEY: stamp})


def stamped(store: QdrantVectorStore) -> QdrantStamp:
    return QdrantStamp(store)
