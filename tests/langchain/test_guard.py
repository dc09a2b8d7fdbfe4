"""OrqEmbeddings.guard on LangChain's InMemoryVectorStore, and what a guard binds.

The persisted stores (Chroma, Qdrant, PGVector, PGVectorStore) are put through the same
scenarios in tests/stores, reopened in a fresh process; an InMemoryVectorStore lives as long as
its object, so here they run in one process.
"""

from __future__ import annotations

import pytest
from langchain_core.stores import InMemoryByteStore
from langchain_core.vectorstores import InMemoryVectorStore

from langchain_orq import OrqEmbeddings
from orq_embeddings import EmbeddingSpace, EmbeddingSpaceError
from orq_embeddings.space import STAMP_KEY
from tests.support.space_gateways import space_urls  # noqa: F401
from tests.support.space_scenarios import (
    MODEL,
    PASSAGES,
    SCENARIOS,
    STAMP,
    build,
    ends_as_expected,
    outcome,
)
from tests.support.store_homes import InMemoryHome

SMALL = EmbeddingSpace("text-embedding-3-small", 1536)


@pytest.fixture(scope="module")
def built(space_urls):  # noqa: F811
    home = InMemoryHome()
    build(home, OrqEmbeddings, space_urls)
    return home


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_scenario_ends_as_for_a_persisted_store(built, space_urls, scenario):  # noqa: F811
    ended = outcome(built, OrqEmbeddings, space_urls, scenario)
    assert ends_as_expected(ended, scenario, "this InMemoryVectorStore"), ended
    assert built.stamp() == STAMP


@pytest.fixture
def embeddings(orq_gateway):
    return OrqEmbeddings(model=MODEL, base_url=orq_gateway.base_url)


def test_guard_returns_the_store_stamped_and_binds_the_embeddings(embeddings):
    store = InMemoryVectorStore(embeddings)
    assert embeddings.guard(store) is store
    assert getattr(store, STAMP_KEY) == STAMP
    assert embeddings.space == SMALL == embeddings.client.space


def test_guard_sends_one_probe_only_when_no_response_said_the_space(embeddings, orq_gateway):
    embeddings.guard(InMemoryVectorStore(embeddings))
    assert orq_gateway.counters().requests == 1
    embeddings.space = None
    embeddings.embed_query("a question")
    embeddings.guard(InMemoryVectorStore(embeddings))
    assert orq_gateway.counters().requests == 2  # the query's response said it


def test_a_dumped_store_loads_unstamped_and_is_adopted_only_when_asked(embeddings, tmp_path):
    store = embeddings.guard(InMemoryVectorStore(embeddings))
    store.add_texts([p.text for p in PASSAGES[:3]])
    store.dump(str(tmp_path / "store.json"))
    loaded = InMemoryVectorStore.load(str(tmp_path / "store.json"), embeddings)
    with pytest.raises(EmbeddingSpaceError, match="holds 3 vectors but no stamp"):
        embeddings.guard(loaded)
    assert embeddings.guard(loaded, adopt=True) is loaded
    assert getattr(loaded, STAMP_KEY) == STAMP


def test_a_store_of_another_kind_is_refused_listing_the_supported_ones(embeddings):
    from llama_index.core.vector_stores import SimpleVectorStore

    with pytest.raises(TypeError) as refused:
        embeddings.guard(SimpleVectorStore())
    assert str(refused.value) == (
        "guard() cannot keep a stamp in a llama_index.core.vector_stores.simple.SimpleVectorStore; "
        "it supports langchain_chroma.Chroma, langchain_qdrant.QdrantVectorStore, "
        "langchain_postgres.PGVector, langchain_postgres.PGVectorStore, "
        "langchain_core.vectorstores.InMemoryVectorStore (and their subclasses)"
    )


def test_a_subclass_of_a_supported_store_is_guarded(embeddings):
    class MyStore(InMemoryVectorStore):
        pass

    store = embeddings.guard(MyStore(embeddings))
    assert getattr(store, STAMP_KEY) == STAMP


def test_the_cache_namespace_follows_the_space(embeddings):
    unbound = embeddings.cache_namespace("document")
    assert unbound.startswith("text-embedding-3-small.native.none.document.")
    embeddings.guard(InMemoryVectorStore(embeddings))
    assert embeddings.cache_namespace("document").startswith(
        "text-embedding-3-small.1536d.none.document."
    )
    embeddings.space = None
    embeddings.dimensions = 512
    assert embeddings.cache_namespace("document").startswith("text-embedding-3-small.512d.none.")
    embeddings.model = "azure/text-embedding-3-small"  # the same space: the same cache
    assert embeddings.cache_namespace("document").startswith("text-embedding-3-small.512d.none.")


def test_a_cache_never_serves_a_vector_of_another_model(embeddings, orq_gateway):
    cache = InMemoryByteStore()
    (old,) = embeddings.cache_backed(cache).embed_documents(["Mars is red"])
    swapped = OrqEmbeddings(
        model="openai/text-embedding-3-large", dimensions=1536, base_url=orq_gateway.base_url
    )
    (new,) = swapped.cache_backed(cache).embed_documents(["Mars is red"])
    assert new != old
    assert new == swapped.embed_documents(["Mars is red"])[0]
