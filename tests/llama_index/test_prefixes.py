"""OrqEmbedding's query and document prefixes: on the wire, and kept apart in LlamaIndex's cache."""

from __future__ import annotations

import pytest
from llama_index.core.storage.kvstore import SimpleKVStore
from pydantic import ValidationError

from llama_index_orq import OrqEmbedding

MODEL = "openai/text-embedding-3-small"


def test_every_query_and_text_method_sends_its_prefix(server):
    model = OrqEmbedding(model_name=MODEL, base_url=server.base_url, prefixes="e5")
    model.get_query_embedding("red?")
    model.get_text_embedding("red planet")
    model.get_text_embedding_batch(["gas giant", "ice giant"])
    assert server.inputs() == [
        "query: red?",
        "passage: red planet",
        "passage: gas giant",
        "passage: ice giant",
    ]


async def test_every_async_query_and_text_method_sends_its_prefix(server):
    model = OrqEmbedding(model_name=MODEL, base_url=server.base_url, prefixes="e5")
    await model.aget_query_embedding("red?")
    await model.aget_text_embedding("red planet")
    await model.aget_text_embedding_batch(["gas giant"])
    assert server.inputs() == ["query: red?", "passage: red planet", "passage: gas giant"]


def test_query_instruction_and_text_instruction_are_accepted_as_llama_index_names(server):
    model = OrqEmbedding(
        model_name=MODEL,
        base_url=server.base_url,
        query_instruction="Represent the question: ",
        text_instruction="Represent the passage: ",
    )
    assert (model.query_prefix, model.document_prefix) == (
        "Represent the question: ",
        "Represent the passage: ",
    )
    model.get_query_embedding("red?")
    model.get_text_embedding("red planet")
    assert server.inputs() == [
        "Represent the question: red?",
        "Represent the passage: red planet",
    ]


def test_an_instruction_and_a_different_prefix_together_are_refused(server):
    with pytest.raises(ValidationError, match="give either 'query_prefix' or 'query_instruction'"):
        OrqEmbedding(
            model_name=MODEL, base_url=server.base_url, query_instruction="a: ", query_prefix="b: "
        )


def test_an_unknown_preset_is_a_validation_error_listing_the_presets(server):
    with pytest.raises(ValidationError, match="the presets are 'e5', 'bge', 'nomic', 'mxbai'"):
        OrqEmbedding(model_name=MODEL, base_url=server.base_url, prefixes="instructor")


@pytest.fixture
def cached_model(orq_gateway):
    return OrqEmbedding(
        model_name=MODEL,
        base_url=orq_gateway.base_url,
        prefixes="nomic",
        embeddings_cache=SimpleKVStore(),
    )


def fresh(orq_gateway) -> OrqEmbedding:
    return OrqEmbedding(model_name=MODEL, base_url=orq_gateway.base_url, prefixes="nomic")


def test_the_cache_never_hands_a_query_the_vector_of_a_document_of_the_same_text(
    cached_model, orq_gateway
):
    document = cached_model.get_text_embedding("Mars is red")
    query = cached_model.get_query_embedding("Mars is red")
    assert query != document
    assert query == fresh(orq_gateway).get_query_embedding("Mars is red")
    sent = orq_gateway.counters().requests
    assert cached_model.get_query_embedding("Mars is red") == query
    assert cached_model.get_text_embedding("Mars is red") == document
    assert cached_model.get_text_embedding_batch(["Mars is red"]) == [document]
    assert orq_gateway.counters().requests == sent  # all three from the cache


def test_the_cache_never_hands_a_document_the_vector_of_a_cached_query(cached_model, orq_gateway):
    query = cached_model.get_query_embedding("Mars is red")
    (document,) = cached_model.get_text_embedding_batch(["Mars is red"])
    assert document != query
    assert document == fresh(orq_gateway).get_text_embedding("Mars is red")


async def test_the_async_cache_keeps_the_sides_apart_too(cached_model, orq_gateway):
    document = await cached_model.aget_text_embedding("Mars is red")
    query = await cached_model.aget_query_embedding("Mars is red")
    assert query != document
    assert await cached_model.aget_text_embedding_batch(["Mars is red"]) == [document]
    sent = orq_gateway.counters().requests
    assert await cached_model.aget_query_embedding("Mars is red") == query
    assert orq_gateway.counters().requests == sent


def test_each_side_has_its_own_collection_in_the_store(cached_model):
    store = cached_model.embeddings_cache
    cached_model.get_text_embedding("Mars is red")
    cached_model.get_query_embedding("Mars is red")
    for side in ("query", "document"):
        collection = f"embeddings.{cached_model.cache_namespace(side)}"
        assert list(store.get_all(collection)) == ["Mars is red"]
    assert store.get_all("embeddings") == {}
