"""The LlamaIndex vector stores :meth:`llama_index_orq.OrqEmbedding.guard` stamps, one module each.

A module says where its store keeps the stamp, how many vectors it holds and how wide they are
(:class:`orq_embeddings.space.StampedStore`); the rest is the core's. No store library is imported
before a store of it is guarded.
"""

from __future__ import annotations

from orq_embeddings.space import SupportedStore

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
