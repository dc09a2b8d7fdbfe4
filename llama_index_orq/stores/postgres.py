"""llama-index-vector-stores-postgres' PGVectorStore: the stamp is the comment of its table.

The store keeps its vectors in a table of its own, ``"<schema_name>"."data_<table_name>"``, and
no metadata beside it, so the stamp is the table's own catalog metadata, its comment
(:class:`orq_embeddings.space.PgvectorTable`): it goes with the table (``DROP TABLE`` drops it,
``pg_dump`` keeps it) and is never in a query's rows.

Public API only. The guard reads through the store's ``connection_string``; the store makes its
schema, extension and table lazily on first use, and the guard has it do so (``add([])``, adding
nothing) before it stamps a new store. The store's ``embed_dim`` is the width its table takes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy
from llama_index.vector_stores.postgres import PGVectorStore
from sqlalchemy.pool import NullPool

from orq_embeddings.space import EmbeddingSpace, PgvectorTable

#: The name the store gives its table, after its (lower-cased) table_name.
_TABLE_PREFIX = "data_"
#: The store's vector column.
_VECTOR_COLUMN = "embedding"


class PostgresStamp:
    """A PGVectorStore table's stamp, in its comment."""

    stamp_location = "stamp in the table's comment"

    def __init__(self, store: PGVectorStore) -> None:
        self._store = store
        self._table = PgvectorTable(
            store.schema_name, _TABLE_PREFIX + store.table_name, _VECTOR_COLUMN
        )
        self.description = f"PGVectorStore table {self._table.qualified}"

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        """A connection of the store's database, committed at the end."""
        engine = sqlalchemy.create_engine(self._store.connection_string, poolclass=NullPool)
        try:
            with engine.begin() as connection:
                yield connection
        finally:
            engine.dispose()

    def _comment_and_existence(self) -> tuple[str | None, bool]:
        with self._connection() as connection:
            comment, table = connection.execute(
                sqlalchemy.text(PgvectorTable.QUERY), {"table": self._table.qualified}
            ).one()
        return comment, table is not None

    def read_stamp(self) -> object | None:
        comment, _ = self._comment_and_existence()
        return PgvectorTable.stamp_of(comment)

    def count_vectors(self) -> int:
        if not self._comment_and_existence()[1]:
            return 0
        with self._connection() as connection:
            count = connection.execute(sqlalchemy.text(self._table.count_statement()))
            return int(count.scalar_one())

    def vector_width(self) -> int | None:
        return int(self._store.embed_dim)

    def write_stamp(self, stamp: str, space: EmbeddingSpace) -> None:
        comment, exists = self._comment_and_existence()
        if not exists:
            self._store.add([])  # the store makes its schema, extension and table, adding nothing
            comment, exists = self._comment_and_existence()
        if not exists:
            raise ValueError(
                f"{self.description} does not exist and the store did not make it "
                "(perform_setup=False?): create the table, then guard the store"
            )
        statement = self._table.comment_statement(stamp, comment, self.description)
        with self._connection() as connection:
            connection.execute(sqlalchemy.text(statement))


def stamped(store: PGVectorStore) -> PostgresStamp:
    return PostgresStamp(store)
