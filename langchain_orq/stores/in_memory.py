"""langchain-core's InMemoryVectorStore: the stamp is an attribute of the store object.

The store has no metadata of its own, and ``dump()`` writes only its documents, so the stamp
lives as long as the object: for the life of the process. A store ``load()``-ed from a dump
holds vectors but no stamp, and the guard asks before adopting it.
"""

from __future__ import annotations

from langchain_core.vectorstores import InMemoryVectorStore

from orq_embeddings.space import STAMP_KEY, EmbeddingSpace


class InMemoryStamp:
    """An InMemoryVectorStore's stamp, kept on the object."""

    description = "this InMemoryVectorStore"
    stamp_location = f"stamp in its attribute {STAMP_KEY!r}, for the life of the object"

    def __init__(self, store: InMemoryVectorStore) -> None:
        self._store = store

    def read_stamp(self) -> object | None:
        return getattr(self._store, STAMP_KEY, None)

    def count_vectors(self) -> int:
        return len(self._store.store)

    def vector_width(self) -> int | None:
        first = next(iter(self._store.store.values()), None)
        return None if first is None else len(first["vector"])

    def write_stamp(self, stamp: str, space: EmbeddingSpace) -> None:
        setattr(self._store, STAMP_KEY, stamp)


def stamped(store: InMemoryVectorStore) -> InMemoryStamp:
    return InMemoryStamp(store)
