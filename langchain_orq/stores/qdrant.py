"""langchain-qdrant's QdrantVectorStore: the stamp is in the collection's metadata.

Qdrant keeps a collection's metadata with its configuration (``meta.json`` in local mode) and
never returns it with points. Public API only: the store's ``client`` and ``collection_name``.
"""

from __future__ import annotations

from langchain_qdrant import QdrantVectorStore

from orq_embeddings.space import STAMP_KEY, EmbeddingSpace


class QdrantStamp:
    """A Qdrant collection's stamp, in its metadata."""

    stamp_location = f"stamp in the collection's metadata, key {STAMP_KEY!r}"

    def __init__(self, store: QdrantVectorStore) -> None:
        self._client = store.client
        self._name = store.collection_name
        self._vector_name = store.vector_name
        self.description = f"Qdrant collection {self._name!r}"

    def read_stamp(self) -> object | None:
        metadata = self._client.get_collection(self._name).config.metadata or {}
        return metadata.get(STAMP_KEY)

    def count_vectors(self) -> int:
        return self._client.count(self._name, exact=True).count

    def vector_width(self) -> int | None:
        vectors = self._client.get_collection(self._name).config.params.vectors
        if isinstance(vectors, dict):
            vectors = vectors.get(self._vector_name)
        return None if vectors is None else vectors.size

    def write_stamp(self, stamp: str, space: EmbeddingSpace) -> None:
        # Merged into the metadata the collection has (unlike Chroma's, Qdrant's update merges).
        self._client.update_collection(self._name, metadata={STAMP_KEY: stamp})


def stamped(store: QdrantVectorStore) -> QdrantStamp:
    return QdrantStamp(store)
