"""langchain-chroma's Chroma: the stamp is in the collection's metadata (chroma.sqlite3).

The one place that reaches into Chroma's private state: langchain-chroma gives no public handle
on its collection or client (its own docs use ``vector_store._collection``). The metadata is read
through the client each time, since a Collection object keeps the metadata it was fetched with.

Two facts of chromadb decide how the stamp is written: ``modify(metadata=...)`` replaces the
metadata rather than merging, and refuses a metadata that carries ``hnsw:space`` (even unchanged),
so the stamp is written with the other keys and without that one; the distance stays in the
collection's configuration, where langchain-chroma reads it.
"""

from __future__ import annotations

from typing import Any

from langchain_chroma import Chroma

from orq_embeddings.space import STAMP_KEY, EmbeddingSpace, store_internal

_LIBRARY = "langchain-chroma"
_PURPOSE = "keep the stamp in the collection's metadata"
#: The metadata key chromadb refuses in ``modify``; its value lives in the configuration too.
_DISTANCE_KEY = "hnsw:space"


class ChromaStamp:
    """A Chroma collection's stamp, in its metadata."""

    stamp_location = f"stamp in the collection's metadata, key {STAMP_KEY!r}"

    def __init__(self, store: Chroma) -> None:
        self._collection: Any = store_internal(store, "_collection", _LIBRARY, _PURPOSE)
        self._client: Any = store_internal(store, "_client", _LIBRARY, _PURPOSE)
        self.description = f"Chroma collection {self._collection.name!r}"

    def _metadata(self) -> dict[str, Any]:
        # embedding_function=None: chromadb would otherwise attach its default model, which
        # downloads its weights on first use.
        fresh = self._client.get_collection(self._collection.name, embedding_function=None)
        return dict(fresh.metadata or {})

    def read_stamp(self) -> object | None:
        return self._metadata().get(STAMP_KEY)

    def count_vectors(self) -> int:
        count: int = self._collection.count()
        return count

    def vector_width(self) -> int | None:
        stored = self._collection.get(limit=1, include=["embeddings"])["embeddings"]
        return None if stored is None or len(stored) == 0 else len(stored[0])

    def write_stamp(self, stamp: str, space: EmbeddingSpace) -> None:
        metadata = {k: v for k, v in self._metadata().items() if k != _DISTANCE_KEY}
        self._collection.modify(metadata={**metadata, STAMP_KEY: stamp})


def stamped(store: Chroma) -> ChromaStamp:
    return ChromaStamp(store)
