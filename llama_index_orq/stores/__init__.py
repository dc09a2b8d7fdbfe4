"""Where each LlamaIndex vector store keeps the vector-space stamp: one module per store.

:meth:`llama_index_orq.OrqEmbedding.guard` finds the module for a store here. The guard's logic
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
    SupportedStore(
        "llama_index.vector_stores.qdrant.QdrantVectorStore", "llama_index_orq.stores.qdrant"
    ),
    SupportedStore(
        "llama_index.vector_stores.postgres.PGVectorStore", "llama_index_orq.stores.postgres"
    ),
    SupportedStore(
        "llama_index.core.vector_stores.SimpleVectorStore", "llama_index_orq.stores.simple"
    ),
)


def stamped(store: object) -> StampedStore:
    """``store`` as the guard sees it.

    Raises:
        TypeError: a store of another class; the message lists the supported ones.
    """
    return stamped_store(store, SUPPORTED)
