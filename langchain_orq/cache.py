"""A CacheBackedEmbeddings whose queries and documents never share a cached vector.

LangChain's ``CacheBackedEmbeddings.from_bytes_store`` keys both of its stores by
``namespace + hash(text)`` with one namespace, and ``query_embedding_cache=True`` makes the query
store the document store itself: a query would be handed the vector cached for a document of the
same text. With a query or document prefix those are different vectors. Here each side has its
own namespace (:meth:`orq_embeddings.adapter_base.AdapterBase.cache_namespace`: the vector
space, then the side and a digest of its prefix), so the two sides can share one byte store and a
changed model, dimension or prefix never serves vectors made with the old one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings
from langchain_core.stores import ByteStore

from orq_embeddings.prefixes import Side

if TYPE_CHECKING:
    from langchain_classic.embeddings import CacheBackedEmbeddings


def cache_backed(
    embeddings: Embeddings,
    namespace_of: Callable[[Side], str],
    document_cache: ByteStore,
    *,
    query_cache: bool | ByteStore = False,
    batch_size: int | None = None,
) -> CacheBackedEmbeddings:
    """``embeddings`` behind a cache, each side under its own namespace (see the module doc).

    Args:
        namespace_of: the namespace of each side's keys.
        document_cache: where document vectors are kept.
        query_cache: False (queries are not cached, LangChain's default), True (in
            ``document_cache``, apart from the documents) or a store of their own.
        batch_size: documents embedded between writes to the store.
    """
    try:
        from langchain_classic.embeddings import CacheBackedEmbeddings
    except ImportError as error:
        raise ImportError(
            'CacheBackedEmbeddings lives in langchain-classic: pip install "langchain-classic"'
        ) from error

    def store_for(cache: ByteStore, side: Side) -> CacheBackedEmbeddings:
        return CacheBackedEmbeddings.from_bytes_store(
            embeddings, cache, namespace=namespace_of(side), key_encoder="sha256"
        )

    documents = store_for(document_cache, "document")
    queries = None
    if query_cache is not False:
        chosen = document_cache if query_cache is True else query_cache
        queries = store_for(chosen, "query").document_embedding_store
    return CacheBackedEmbeddings(
        embeddings,
        documents.document_embedding_store,
        batch_size=batch_size,
        query_embedding_store=queries,
    )
