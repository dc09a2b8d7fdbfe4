"""langchain-postgres' PGVector: the stamp is in the collection's row, ``cmetadata``.

PGVector keeps each collection as a row of ``langchain_pg_collection``, whose JSON ``cmetadata``
is the collection's own metadata (given once, when the row is made, as
``collection_metadata``). Public API only: ``session_maker``, ``get_collection`` and
``EmbeddingStore``. The store must be a sync one (``async_mode=False``, the default).
"""

from __future__ import annotations

from typing import Any

from langchain_postgres import PGVector

from orq_embeddings.space import STAMP_KEY, EmbeddingSpace


class PGVectorStamp:
    """A PGVector collection's stamp, in its ``cmetadata``."""

    stamp_location = f"stamp in langchain_pg_collection.cmetadata, key {STAMP_KEY!r}"

    def __init__(self, store: PGVector) -> None:
        if store.async_mode:
            raise TypeError(
                "guard() reads a PGVector through sync sessions: make the store with "
                "async_mode=False (an Engine or a connection string, not an AsyncEngine)"
            )
        self._store = store
        self.description = f"PGVector collection {store.collection_name!r}"

    def _collection(self, session: Any) -> Any:
        collection = self._store.get_collection(session)
        if collection is None:
            raise ValueError(
                f"{self.description} does not exist: make the store with "
                "create_collection=True (the default), or create the collection first"
            )
        return collection

    def read_stamp(self) -> object | None:
        with self._store.session_maker() as session:
            return (self._collection(session).cmetadata or {}).get(STAMP_KEY)

    def _rows(self, session: Any) -> Any:
        rows = self._store.EmbeddingStore
        return session.query(rows).filter(rows.collection_id == self._collection(session).uuid)

    def count_vectors(self) -> int:
        with self._store.session_maker() as session:
            count: int = self._rows(session).count()
            return count

    def vector_width(self) -> int | None:
        with self._store.session_maker() as session:
            row = self._rows(session).first()
            return None if row is None else len(row.embedding)

    def write_stamp(self, stamp: str, space: EmbeddingSpace) -> None:
        with self._store.session_maker() as session:
            collection = self._collection(session)
            # A new dict: the JSON column does not track changes made inside the old one.
            collection.cmetadata = {**(collection.cmetadata or {}), STAMP_KEY: stamp}
            session.commit()


def stamped(store: PGVector) -> PGVectorStamp:
    return PGVectorStamp(store)
