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
    LARGE,
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


def test_an_empty_store_is_not_stamped_with_the_space_of_a_fallback(space_urls):  # noqa: F811
    embeddings = OrqEmbeddings(**SCENARIOS["fallback-to-other-at-guard"], base_url=space_urls.down)
    store = InMemoryVectorStore(embeddings)
    with pytest.raises(EmbeddingSpaceError) as refused:
        embeddings.guard(store)
    assert str(refused.value).startswith(
        "guard() found these embeddings answered from text-embedding-3-large:1536:none, served "
        "by orq.fallbacks[0] (openai/text-embedding-3-large), not by their model "
        f"{MODEL}; a store is stamped and checked only in the space of the model you chose, so "
        "nothing was changed in this InMemoryVectorStore."
    )
    assert getattr(store, STAMP_KEY, None) is None
    assert embeddings.space is None
    embeddings.base_url = space_urls.up  # the primary answers again: the guard stamps its space
    assert getattr(embeddings.guard(store), STAMP_KEY) == STAMP


def test_a_store_built_with_other_embeddings_is_refused_and_left_unstamped(embeddings):
    large = OrqEmbeddings(model=LARGE, dimensions=1536, base_url=embeddings.base_url)
    store = InMemoryVectorStore(large)
    with pytest.raises(EmbeddingSpaceError) as refused:
        embeddings.guard(store)
    assert str(refused.value) == (
        "this InMemoryVectorStore embeds with other embeddings than these: "
        "text-embedding-3-large (1536 dimensions, prefixes none), not text-embedding-3-small "
        "(native dimensions, prefixes none); nothing was changed. Guard it with the embeddings "
        "it was built with"
    )
    assert getattr(store, STAMP_KEY, None) is None
    assert embeddings.space is None


def test_a_store_embedding_with_another_library_is_refused(embeddings):
    from langchain_core.embeddings import DeterministicFakeEmbedding

    store = InMemoryVectorStore(DeterministicFakeEmbedding(size=1536))
    with pytest.raises(EmbeddingSpaceError, match=(
        r"^this InMemoryVectorStore embeds with a langchain_core\.embeddings\.fake\."
        r"DeterministicFakeEmbedding, not with these embeddings, so their stamp would not say "
        "what its vectors are; nothing was changed"
    )):  # fmt: skip
        embeddings.guard(store)
    assert getattr(store, STAMP_KEY, None) is None


def test_a_store_embedding_with_these_settings_or_through_their_cache_is_guarded(embeddings):
    again = OrqEmbeddings(model=MODEL, base_url=embeddings.base_url)
    assert getattr(embeddings.guard(InMemoryVectorStore(again)), STAMP_KEY) == STAMP
    cached = embeddings.cache_backed(InMemoryByteStore())
    assert getattr(embeddings.guard(InMemoryVectorStore(cached)), STAMP_KEY) == STAMP


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
