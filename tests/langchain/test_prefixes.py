"""OrqEmbeddings' query and document prefixes: on the wire, and kept apart in LangChain's cache."""

from __future__ import annotations

import asyncio

import pytest
from langchain_classic.embeddings import CacheBackedEmbeddings
from langchain_core.stores import InMemoryByteStore
from pydantic import ValidationError

from langchain_orq import OrqEmbeddings

MODEL = "openai/text-embedding-3-small"


def test_queries_and_documents_get_their_prefixes_sync_and_async(server):
    embeddings = OrqEmbeddings(model=MODEL, base_url=server.base_url, prefixes="e5")
    embeddings.embed_query("red?")
    embeddings.embed_documents(["red planet"])
    asyncio.run(embeddings.aembed_query("giant?"))
    asyncio.run(embeddings.aembed_documents(["gas giant"]))
    assert server.inputs() == [
        "query: red?",
        "passage: red planet",
        "query: giant?",
        "passage: gas giant",
    ]


def test_explicit_prefixes_follow_a_change_of_the_field(server):
    embeddings = OrqEmbeddings(model=MODEL, base_url=server.base_url, query_prefix="Q: ")
    embeddings.embed_query("red?")
    embeddings.query_prefix = "Query: "
    embeddings.embed_query("red?")
    assert server.inputs() == ["Q: red?", "Query: red?"]


def test_an_unknown_preset_is_a_validation_error_listing_the_presets(server):
    with pytest.raises(ValidationError, match="the presets are 'e5', 'bge', 'nomic', 'mxbai'"):
        OrqEmbeddings(model=MODEL, base_url=server.base_url, prefixes="E5-large")


@pytest.fixture
def embeddings(orq_gateway):
    return OrqEmbeddings(model=MODEL, base_url=orq_gateway.base_url, prefixes="nomic")


def test_langchains_own_shared_store_hands_a_query_the_documents_vector(embeddings):
    # The problem cache_backed solves: from_bytes_store keys both sides by text alone.
    shared = CacheBackedEmbeddings.from_bytes_store(
        embeddings, InMemoryByteStore(), key_encoder="sha256", query_embedding_cache=True
    )
    (document,) = shared.embed_documents(["Mars is red"])
    assert shared.embed_query("Mars is red") == document != embeddings.embed_query("Mars is red")


def test_cache_backed_keeps_queries_apart_from_documents_in_one_store(embeddings, orq_gateway):
    store = InMemoryByteStore()
    cached = embeddings.cache_backed(store, query_cache=True)
    (document,) = cached.embed_documents(["Mars is red"])
    query = cached.embed_query("Mars is red")
    assert query != document
    assert query == embeddings.embed_query("Mars is red")
    assert document == embeddings.embed_documents(["Mars is red"])[0]
    sent = orq_gateway.counters().requests
    assert cached.embed_query("Mars is red") == query
    assert cached.embed_documents(["Mars is red"]) == [document]
    assert orq_gateway.counters().requests == sent  # both came from the cache
    namespaces = {key.rsplit(".", 1)[0] for key in store.yield_keys()}
    assert namespaces == {
        embeddings.cache_namespace("query").rstrip("."),
        embeddings.cache_namespace("document").rstrip("."),
    }


async def test_cache_backed_keeps_the_sides_apart_async_too(embeddings):
    cached = embeddings.cache_backed(InMemoryByteStore(), query_cache=True)
    (document,) = await cached.aembed_documents(["Mars is red"])
    assert await cached.aembed_query("Mars is red") != document


def test_cache_backed_queries_may_have_a_store_of_their_own(embeddings):
    documents, queries = InMemoryByteStore(), InMemoryByteStore()
    cached = embeddings.cache_backed(documents, query_cache=queries)
    cached.embed_documents(["Mars is red"])
    cached.embed_query("Mars is red")
    assert len(list(documents.yield_keys())) == len(list(queries.yield_keys())) == 1


def test_cache_backed_caches_no_query_by_default(embeddings, orq_gateway):
    cached = embeddings.cache_backed(InMemoryByteStore())
    cached.embed_query("Mars is red")
    sent = orq_gateway.counters().requests
    cached.embed_query("Mars is red")
    assert orq_gateway.counters().requests == sent + 1


def test_a_changed_prefix_never_reads_vectors_cached_with_the_old_one(orq_gateway):
    store = InMemoryByteStore()
    old = OrqEmbeddings(model=MODEL, base_url=orq_gateway.base_url, document_prefix="old: ")
    new = OrqEmbeddings(model=MODEL, base_url=orq_gateway.base_url, document_prefix="new: ")
    (stale,) = old.cache_backed(store).embed_documents(["Mars is red"])
    (fresh,) = new.cache_backed(store).embed_documents(["Mars is red"])
    assert fresh != stale
    assert fresh == new.embed_documents(["Mars is red"])[0]
