"""The LangChain vector stores :meth:`langchain_orq.OrqEmbeddings.guard` stamps, one module each.

A module says where its store keeps the stamp, how many vectors it holds and how wide they are
(:class:`orq_embeddings.space.StampedStore`); the rest is the core's. No store library is imported
before a store of it is guarded.
"""

from __future__ import annotations

from orq_embeddings.space import SupportedStore

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
