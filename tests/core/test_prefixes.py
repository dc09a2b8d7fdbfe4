"""Query and document prefixes on the core client, read off the wire of a scripted server."""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from orq_embeddings import ConfigurationError, InvalidInputError, OrqEmbeddingsClient
from orq_embeddings.prefixes import PRESETS
from tests.support.scripted_server import vector_for

Q, D = "Q-side: ", "D-side: "


async def _collect(stream) -> list[Any]:
    return [item async for item in stream]


DOCUMENT_CALLS: dict[str, Callable[[OrqEmbeddingsClient, list[str]], Any]] = {
    "embed": lambda client, texts: client.embed(texts),
    "aembed": lambda client, texts: asyncio.run(client.aembed(texts)),
    "embed_numpy": lambda client, texts: client.embed_numpy(texts),
    "aembed_numpy": lambda client, texts: asyncio.run(client.aembed_numpy(texts)),
    "iter_batches": lambda client, texts: list(client.iter_batches(texts)),
    "aiter_batches": lambda client, texts: asyncio.run(_collect(client.aiter_batches(texts))),
    "embed_one": lambda client, texts: client.embed_one(texts[0]),
    "aembed_one": lambda client, texts: asyncio.run(client.aembed_one(texts[0])),
}
QUERY_CALLS: dict[str, Callable[[OrqEmbeddingsClient, str], Any]] = {
    "embed_query": lambda client, text: client.embed_query(text),
    "aembed_query": lambda client, text: asyncio.run(client.aembed_query(text)),
}


@pytest.mark.parametrize("call", DOCUMENT_CALLS.values(), ids=DOCUMENT_CALLS.keys())
def test_every_document_call_sends_the_document_prefix(make_client, server, call):
    client = make_client(query_prefix=Q, document_prefix=D)
    call(client, ["red planet", "gas giant"])
    assert all(item.startswith(D) for item in server.inputs())
    assert server.inputs()[0] == D + "red planet"


@pytest.mark.parametrize("call", QUERY_CALLS.values(), ids=QUERY_CALLS.keys())
def test_every_query_call_sends_the_query_prefix(make_client, server, call):
    vector = call(make_client(query_prefix=Q, document_prefix=D), "which planet is red?")
    assert server.inputs() == [Q + "which planet is red?"]
    assert vector == vector_for(Q + "which planet is red?")


def test_without_prefixes_queries_and_documents_go_as_given(make_client, server):
    client = make_client()
    client.embed_query("which planet is red?")
    client.embed(["red planet"])
    assert server.inputs() == ["which planet is red?", "red planet"]


def test_vectors_stay_in_input_order_with_a_prefix(make_client):
    texts = [f"document {i}" for i in range(30)]
    vectors = make_client(document_prefix=D, batch_size=7).embed_numpy(texts)
    np.testing.assert_array_equal(vectors, np.asarray([vector_for(D + t) for t in texts], "f4"))


def test_the_byte_budget_counts_the_prefix(make_client, server):
    texts = ["0123456789"] * 4  # 10 bytes each: two fit in 20 bytes, unprefixed
    make_client(max_batch_bytes=20).embed(texts)
    assert [len(body["input"]) for body in server.bodies()] == [2, 2]
    server.requests.clear()
    make_client(max_batch_bytes=20, document_prefix="ten bytes!").embed(texts)
    assert [len(body["input"]) for body in server.bodies()] == [1, 1, 1, 1]


@pytest.mark.parametrize("empty", ["", "   "], ids=["empty", "whitespace"])
def test_an_empty_text_is_refused_by_position_though_a_prefix_would_fill_it(
    make_client, server, empty
):
    client = make_client(query_prefix=Q, document_prefix=D)
    with pytest.raises(InvalidInputError) as caught:
        client.embed(["fine", empty, "fine too"])
    assert caught.value.positions == (1,)
    assert "input 1 " in str(caught.value)
    with pytest.raises(InvalidInputError):
        client.embed_query(empty)
    assert server.requests == []


def test_token_ids_are_refused_by_position_when_their_side_has_a_prefix(make_client, server):
    client = make_client(document_prefix=D)
    with pytest.raises(InvalidInputError) as caught:
        client.embed(["text", [1, 2, 3], "text", [4]])
    assert caught.value.positions == (1, 3)
    message = str(caught.value)
    assert "positions 1, 3" in message
    assert "document_prefix 'D-side: '" in message
    assert "nothing was sent" in message
    assert server.requests == []


def test_token_ids_go_unchanged_to_a_side_without_a_prefix(make_client, server):
    client = make_client(query_prefix=Q)  # documents unprefixed
    client.embed([[1, 2, 3]])
    assert server.inputs() == [[1, 2, 3]]
    with pytest.raises(InvalidInputError, match="query_prefix"):
        client.embed_query([1, 2, 3])


# What each model card documents, written out here rather than read from PRESETS, so that a
# preset edited by mistake fails.
CARDS = {
    "e5": ("query: ", "passage: "),
    "bge": ("Represent this sentence for searching relevant passages: ", ""),
    "nomic": ("search_query: ", "search_document: "),
    "mxbai": ("Represent this sentence for searching relevant passages: ", ""),
}


@pytest.mark.parametrize(("preset", "card"), CARDS.items(), ids=CARDS.keys())
def test_a_preset_sends_the_prefixes_its_model_card_documents(make_client, server, preset, card):
    client = make_client(prefixes=preset)
    client.embed_query("red?")
    client.embed(["red planet"])
    assert server.inputs() == [card[0] + "red?", card[1] + "red planet"]


def test_every_preset_is_checked_against_its_card_and_cites_it():
    assert set(PRESETS) == set(CARDS)
    assert all(preset.source.startswith("https://huggingface.co/") for preset in PRESETS.values())


def test_an_explicit_prefix_wins_over_the_presets_on_its_side_only(make_client, server):
    client = make_client(prefixes="e5", query_prefix="Query: ")
    client.embed_query("red?")
    client.embed(["red planet"])
    assert server.inputs() == ["Query: red?", "passage: red planet"]


def test_an_empty_explicit_prefix_turns_the_presets_off_on_its_side(make_client, server):
    make_client(prefixes="e5", document_prefix="").embed(["red planet"])
    assert server.inputs() == ["red planet"]


def test_an_unknown_preset_is_refused_at_construction_listing_the_presets(server):
    with pytest.raises(ConfigurationError) as caught:
        OrqEmbeddingsClient(
            "openai/text-embedding-3-small", base_url=server.base_url, prefixes="e6"
        )
    assert str(caught.value) == (
        "prefixes: unknown prefix preset 'e6'; the presets are 'e5', 'bge', 'nomic', 'mxbai'"
    )


def test_a_prefix_utf8_cannot_carry_is_refused_at_construction(server):
    with pytest.raises(ConfigurationError, match="query_prefix: has a lone surrogate U\\+D800"):
        OrqEmbeddingsClient("m/x", base_url=server.base_url, query_prefix="q\ud800: ")


def test_copies_and_pickles_keep_the_prefixes(server):
    client = OrqEmbeddingsClient("m/x", base_url=server.base_url, prefixes="nomic")
    client.with_options(dimensions=8).embed_query("red?")
    pickle.loads(pickle.dumps(client)).embed(["red planet"])
    assert server.inputs() == ["search_query: red?", "search_document: red planet"]


def test_cache_namespaces_differ_by_side_and_by_prefix(server):
    def prefixes(**settings: str) -> Any:
        return OrqEmbeddingsClient("m/x", base_url=server.base_url, **settings).prefixes

    plain, e5, other = prefixes(), prefixes(prefixes="e5"), prefixes(document_prefix="doc: ")
    names = {p.cache_namespace(side) for p in (plain, e5, other) for side in ("query", "document")}
    # Six but one: query of plain and of other are both unprefixed, the same vectors.
    assert len(names) == 5
    assert plain.cache_namespace("query") == other.cache_namespace("query")
    assert all(name.replace(".", "").isalnum() for name in names)
