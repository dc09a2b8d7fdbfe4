"""OrqEmbedding.guard on LlamaIndex's default SimpleVectorStore, and what a guard binds.

The scenarios also run on Qdrant, PGVectorStore and a persisted SimpleVectorStore reopened in a
fresh process (tests/stores); here they run in one process, on the lowest llama-index-core too.
"""

from __future__ import annotations

import pytest
from llama_index.core import StorageContext, VectorStoreIndex
from llama_index.core.schema import TextNode
from llama_index.core.storage.kvstore import SimpleKVStore
from llama_index.core.vector_stores import (
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    SimpleVectorStore,
)

from llama_index_orq import OrqEmbedding
from llama_index_orq.stores.simple import RESERVED_KEY
from orq_embeddings import EmbeddingSpace, EmbeddingSpaceError
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
from tests.support.store_homes import SimpleHome

SMALL = EmbeddingSpace("text-embedding-3-small", 1536)


@pytest.fixture(scope="module")
def built(space_urls, tmp_path_factory):  # noqa: F811
    home = SimpleHome(str(tmp_path_factory.mktemp("simple")))
    build(home, OrqEmbedding, space_urls)
    return home


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_scenario_ends_as_in_a_fresh_process(built, space_urls, scenario):  # noqa: F811
    ended = outcome(built, OrqEmbedding, space_urls, scenario)
    assert ends_as_expected(ended, scenario, "this SimpleVectorStore"), ended
    assert built.stamp() == STAMP


@pytest.fixture
def embed_model(orq_gateway):
    return OrqEmbedding(model_name=MODEL, base_url=orq_gateway.base_url)


def nodes(count: int) -> list[TextNode]:
    return [TextNode(text=p.text, metadata={"id": p.id}) for p in PASSAGES[:count]]


def test_guard_returns_the_store_stamped_and_binds_the_model(embed_model):
    store = SimpleVectorStore()
    assert embed_model.guard(store) is store
    assert store.data.metadata_dict[RESERVED_KEY] == {"stamp": STAMP}
    assert embed_model.space == SMALL == embed_model.client.space


def test_the_stamp_never_comes_back_from_a_query_and_outlives_deletions(embed_model):
    store = embed_model.guard(SimpleVectorStore())
    context = StorageContext.from_defaults(vector_store=store)
    index = VectorStoreIndex(nodes(6), storage_context=context, embed_model=embed_model)
    everything = index.as_retriever(similarity_top_k=50).retrieve("anything at all")
    assert len(everything) == 6
    assert RESERVED_KEY not in {hit.node.node_id for hit in everything}
    first = PASSAGES[0].id
    only = MetadataFilters(
        filters=[MetadataFilter(key="id", value=first, operator=FilterOperator.EQ)]
    )
    (hit,) = index.as_retriever(filters=only).retrieve("anything at all")
    assert hit.node.metadata["id"] == first
    store.delete_nodes([hit.node.node_id])
    assert store.data.metadata_dict[RESERVED_KEY] == {"stamp": STAMP}


def test_a_store_holding_unstamped_vectors_is_adopted_only_when_asked(embed_model):
    store = SimpleVectorStore()
    context = StorageContext.from_defaults(vector_store=store)
    VectorStoreIndex(nodes(4), storage_context=context, embed_model=embed_model)
    with pytest.raises(EmbeddingSpaceError, match="this SimpleVectorStore holds 4 vectors"):
        embed_model.guard(store)
    assert RESERVED_KEY not in store.data.metadata_dict
    embed_model.guard(store, adopt=True)
    assert store.data.metadata_dict[RESERVED_KEY] == {"stamp": STAMP}


def test_the_binding_survives_to_dict_and_from_dict(embed_model):
    embed_model.guard(SimpleVectorStore())
    again = OrqEmbedding.from_dict(embed_model.to_dict())
    assert again.space == SMALL
    assert embed_model.to_dict()["space"] == "text-embedding-3-small:1536:none"


def test_a_store_of_another_kind_is_refused_listing_the_supported_ones(embed_model):
    from langchain_core.vectorstores import InMemoryVectorStore

    with pytest.raises(TypeError) as refused:
        embed_model.guard(InMemoryVectorStore(None))
    assert str(refused.value).endswith(
        "it supports llama_index.vector_stores.qdrant.QdrantVectorStore, "
        "llama_index.vector_stores.postgres.PGVectorStore, "
        "llama_index.core.vector_stores.SimpleVectorStore (and their subclasses)"
    )


def test_the_embeddings_cache_is_kept_apart_per_space(orq_gateway):
    cache = SimpleKVStore()
    small = OrqEmbedding(model_name=MODEL, base_url=orq_gateway.base_url, embeddings_cache=cache)
    old = small.get_text_embedding("Mars is red")
    swapped = OrqEmbedding(
        model_name="openai/text-embedding-3-large",
        dimensions=1536,
        base_url=orq_gateway.base_url,
        embeddings_cache=cache,
    )
    new = swapped.get_text_embedding("Mars is red")
    assert new != old
    collections = set(cache.to_dict())
    assert {name.split(".document.")[0] for name in collections} == {
        "embeddings.text-embedding-3-small.native.none",
        "embeddings.text-embedding-3-large.1536d.none",
    }
