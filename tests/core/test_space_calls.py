"""Every result carries its vector space, and a client bound to a space refuses any other.

Against the local gateway (its routing plays orq's fallbacks and load balancer, its azure models
serve OpenAI's weights) and the scripted server (responses a test spells out), on 127.0.0.1.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from orq_embeddings import (
    ConfigurationError,
    EmbeddingSpace,
    EmbeddingSpaceError,
    MixedModelsWarning,
    OrqEmbeddingsClient,
)
from orq_embeddings.gateway import ProviderFault
from tests.support.scripted_server import embedding_reply

SMALL_ID = "openai/text-embedding-3-small"
SMALL = EmbeddingSpace("text-embedding-3-small", 1536)
#: The primary model is down for good: orq's routing goes on to the fallbacks.
PRIMARY_DOWN = ProviderFault(model=SMALL_ID, status=503)


@pytest.fixture
def client_on(orq_gateway):
    made: list[OrqEmbeddingsClient] = []

    def make(model: str = SMALL_ID, **settings) -> OrqEmbeddingsClient:
        client = OrqEmbeddingsClient(model, base_url=orq_gateway.base_url, **settings)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def test_a_result_carries_the_space_of_its_vectors(client_on):
    assert client_on().embed(["a text"]).space == SMALL


def test_the_space_holds_the_width_and_the_prefix_pair(client_on):
    client = client_on(dimensions=256, prefixes="e5")
    assert str(client.embed(["a text"]).space) == "text-embedding-3-small:256:e5"
    client.embed_query("a question")
    assert str(client.last_space) == "text-embedding-3-small:256:e5"


def test_azure_serves_the_same_space_and_the_same_vectors_as_openai(client_on):
    openai = client_on().embed(["the same text"])
    azure = client_on("azure/text-embedding-3-small").embed(["the same text"])
    assert azure.space == openai.space == SMALL
    np.testing.assert_allclose(azure.vectors, openai.vectors, rtol=0, atol=0)


def test_no_inputs_have_no_space(client_on):
    assert client_on().embed([]).space is None


def test_the_space_setting_takes_the_text_of_a_space(client_on):
    assert client_on(space="text-embedding-3-small:1536:none").space == SMALL


def test_a_space_setting_that_is_no_space_is_refused_naming_the_setting(client_on):
    with pytest.raises(ConfigurationError, match="space: .*the width 'wide' is not a whole"):
        client_on(space="text-embedding-3-small:wide:none")


CALLS = {
    "embed": lambda client, seen: client.embed(["a text"], on_batch=seen.append),
    "aembed": lambda client, seen: asyncio.run(client.aembed(["a text"], on_batch=seen.append)),
    "embed_numpy": lambda client, seen: client.embed_numpy(["a text"], on_batch=seen.append),
    "embed_query": lambda client, seen: client.embed_query("a text"),
}


@pytest.mark.parametrize("call", list(CALLS))
def test_a_bound_client_refuses_a_fallback_to_another_model(orq_gateway, client_on, call):
    orq_gateway.inject(PRIMARY_DOWN)
    client = client_on(
        dimensions=1536,
        space=SMALL,
        orq={"fallbacks": [{"model": "openai/text-embedding-3-large"}]},
    )
    seen: list[object] = []
    with pytest.raises(EmbeddingSpaceError) as refused:
        CALLS[call](client, seen)
    message = str(refused.value)
    assert message.startswith("batch 1 of 1 (inputs 0-0): the client is bound to ")
    assert "bound to text-embedding-3-small:1536:none, but text-embedding-3-large:1536:none" in (
        message
    )
    assert "routed there by orq.fallbacks[0] (openai/text-embedding-3-large)" in message
    assert "its vectors were not returned" in message
    assert refused.value.expected == SMALL
    assert refused.value.served == EmbeddingSpace("text-embedding-3-large", 1536)
    assert seen == []  # no batch of the other space was handed on


def test_a_bound_client_accepts_a_fallback_to_the_same_model_on_another_provider(
    orq_gateway, client_on
):
    expected = client_on().embed(["a text"]).vectors
    orq_gateway.inject(PRIMARY_DOWN)
    client = client_on(space=SMALL, orq={"fallbacks": [{"model": "azure/text-embedding-3-small"}]})
    result = client.embed(["a text"])
    assert result.vectors == expected
    assert result.space == SMALL
    served = orq_gateway.requests()[-1].served_model
    assert served == "azure/text-embedding-3-small"


def test_a_bound_client_refuses_a_load_balancer_pick_of_another_model(client_on):
    balanced = {
        "type": "weight_based",
        "models": [{"model": "cohere/embed-english-v3.0", "weight": 1}],
    }
    client = client_on(space=SMALL, orq={"load_balancer": balanced})
    with pytest.raises(
        EmbeddingSpaceError, match=r"routed there by orq\.load_balancer\.models\[0\]"
    ):
        client.embed(["a text"])


def test_the_space_is_checked_before_the_width(orq_gateway, client_on):
    """A bound client says which space served, not only that the width was wrong."""
    orq_gateway.inject(PRIMARY_DOWN)
    client = client_on(space=SMALL, orq={"fallbacks": [{"model": "cohere/embed-english-v3.0"}]})
    with pytest.raises(EmbeddingSpaceError, match="embed-english-v3.0:1024:none served"):
        client.embed(["a text"])


def test_an_unbound_call_served_in_two_spaces_has_no_space_and_warns(make_client, server):
    def served_by(model):
        return embedding_reply(edit=lambda payload: {**payload, "model": model})

    server.push(served_by("text-embedding-3-small"), served_by("mistral-embed"))
    with pytest.warns(MixedModelsWarning, match="2 models"):
        result = make_client(batch_size=1, max_concurrency=1).embed(["a", "b"])
    assert result.space is None
    assert [str(report.space) for report in result.reports] == [
        "text-embedding-3-small:8:none",
        "mistral-embed:8:none",
    ]


def test_a_bound_client_refuses_a_response_that_names_no_model(make_client, server):
    server.push(
        embedding_reply(edit=lambda payload: {k: v for k, v in payload.items() if k != "model"})
    )
    client = make_client(space=EmbeddingSpace("text-embedding-3-small", 8))
    with pytest.raises(EmbeddingSpaceError, match="the response did not name the model"):
        client.embed(["a"])


def test_a_copy_with_other_options_keeps_the_binding(orq_gateway, client_on):
    orq_gateway.inject(PRIMARY_DOWN)
    client = client_on(space=SMALL).with_options(
        orq={"fallbacks": [{"model": "mistral/mistral-embed"}]}
    )
    with pytest.raises(EmbeddingSpaceError, match=r"orq\.fallbacks\[0\] \(mistral/mistral-embed\)"):
        client.embed(["a text"])


@pytest.mark.parametrize(
    ("settings", "contradiction"),
    [
        ({"space": "text-embedding-3-large:1536:none"},
         "names the model text-embedding-3-large, but the client calls "
         "openai/text-embedding-3-small"),
        ({"space": "text-embedding-3-small:1536:none", "dimensions": 512},
         "has 1536 dimensions, but dimensions is 512"),
        ({"space": "text-embedding-3-small:1536:none", "prefixes": "e5"},
         "has the prefixes none, but the client's are e5"),
    ],
)  # fmt: skip
def test_a_space_its_own_settings_contradict_is_refused_when_the_client_is_made(
    orq_gateway, settings, contradiction
):
    with pytest.raises(ConfigurationError) as refused:
        OrqEmbeddingsClient(SMALL_ID, base_url=orq_gateway.base_url, **settings)
    assert str(refused.value) == (
        f"space: {settings['space']} {contradiction}, so every answer would be refused. Bind "
        "the space of the model these settings call, or set them to the space's"
    )
    assert orq_gateway.counters().requests == 0


def test_a_space_of_the_same_model_by_another_provider_binds(client_on):
    client = client_on("azure/text-embedding-3-small", space="text-embedding-3-small:1536:none")
    assert client.embed(["a text"]).space == SMALL
