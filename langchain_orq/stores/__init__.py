"""Where each LangChain vector store keeps the vector-space stamp: one module per store.

:meth:`langchain_orq.OrqEmbeddings.guard` finds the module for a store here. The guard's logic
(stamp an empty store, check a stamped one, refuse to adopt unstamped vectors) is the core's,
:func:`orq_embeddings.space.guard_store`; each module says only where its store keeps the stamp,
how many vectors it holds and how wide they are. A module that must reach into its library's
private state does it there and nowhere else, and tests/stores checks that state is still there.

No store library is imported until a store of it is guarded.
"""

from __future__ import annotations

from orq_embeddings.space import StampedStore, SupportedStore, stamped_store

#: The stores guard() supports, by the class users import.
SUPPORTED = (
    SupportedStore("langchain_chroma.Chroma", "langchain_orq.stores.chroma"),
    SupportedStore("langchain_qdrant.QdrantVectorStore", "langchain_orq.stores.qdrant"),
    SupportedStore("langchain_postgres.PGVector", "langchain_orq.stores.pgvector"),
    SupportedStore("langchain_postgres.PGVectorStore", "langchain_orq.stores.pgvector_store"),
    SupportedStore(
        "langchain_core.vectorstores.InMemoryVectorStore", "langchain_orq.stores.in_memory"
    ),
)


def stamped(store: object) -> StampedStore:
    """``store`` as the guard sees it.

    Raises:
        TypeError: a store of another class; the message lists the supported ones.
    """
    return stamped_store(store, SUPPORTED)
