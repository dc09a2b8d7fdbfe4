"""langchain-postgres' PGVectorStore: the stamp is the comment of the store's table.

PGVectorStore keeps one table per store and no metadata beside it, so the stamp is the table's
own catalog metadata, its comment (:class:`orq_embeddings.space.PgvectorTable`): it goes with
the table and is never in a query's rows.

The one place that reaches into langchain-postgres' private state: PGVectorStore hides the store
it wraps (``_PGVectorStore__vs``, whose ``engine``, ``schema_name``, ``table_name`` and
``embedding_column`` are public) and runs it on the PGEngine's own event loop
(``_engine._run_as_sync``); there is no public handle on either. So the engine must be a PGEngine
with a loop of its own (``PGEngine.from_connection_string``), as the store's sync methods need.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy
from langchain_postgres import PGVectorStore

from orq_embeddings.space import EmbeddingSpace, PgvectorTable, store_internal

_LIBRARY = "langchain-postgres"
_PURPOSE = "read and write the comment of the store's table"


class PGVectorStoreStamp:
    """A PGVectorStore table's stamp, in its comment."""

    stamp_location = "stamp in the table's comment"

    def __init__(self, store: PGVectorStore) -> None:
        wrapped: Any = store_internal(store, "_PGVectorStore__vs", _LIBRARY, _PURPOSE)
        engine: Any = store_internal(store, "_engine", _LIBRARY, _PURPOSE)
        if store_internal(engine, "_loop", _LIBRARY, _PURPOSE) is None:
            raise TypeError(
                "guard() runs its queries on the PGEngine's own event loop: make the engine "
                "with PGEngine.from_connection_string, not PGEngine.from_engine"
            )
        self._pool = wrapped.engine
        self._run = store_internal(engine, "_run_as_sync", _LIBRARY, _PURPOSE)
        self._table = PgvectorTable(
            wrapped.schema_name, wrapped.table_name, wrapped.embedding_column
        )
        self.description = f"PGVectorStore table {self._table.qualified}"

    def _row(self, statement: str, **parameters: Any) -> Any:
        """The first row ``statement`` returns (None for none), committed."""

        async def run() -> Any:
            async with self._pool.connect() as connection:
                result = await connection.execute(sqlalchemy.text(statement), parameters)
                row = result.first() if result.returns_rows else None
                await connection.commit()
                return row

        return self._run(run())

    def _comment(self) -> str | None:
        comment: str | None = self._row(PgvectorTable.QUERY, table=self._table.qualified)[0]
        return comment

    def read_stamp(self) -> object | None:
        return PgvectorTable.stamp_of(self._comment())

    def count_vectors(self) -> int:
        return int(self._row(self._table.count_statement())[0])

    def vector_width(self) -> int | None:
        row = self._row(self._table.width_statement())
        return None if row is None else int(row[0])

    def write_stamp(self, stamp: str, space: EmbeddingSpace) -> None:
        self._row(self._table.comment_statement(stamp, self._comment(), self.description))


def stamped(store: PGVectorStore) -> PGVectorStoreStamp:
    return PGVectorStoreStamp(store)
