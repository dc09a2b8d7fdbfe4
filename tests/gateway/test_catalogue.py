"""The catalogue: a model that serves another's weights must be able to make its vectors."""

from __future__ import annotations

import pytest

from orq_embeddings.gateway import ModelSpec
from orq_embeddings.gateway.catalogue import Catalogue


def test_the_azure_models_serve_the_openai_models_weights():
    catalogue = Catalogue()
    for model in ("text-embedding-3-small", "text-embedding-3-large"):
        azure, openai = catalogue.get(f"azure/{model}"), catalogue.get(f"openai/{model}")
        assert azure is not None and openai is not None
        assert azure.vectors_id == openai.vectors_id == openai.id
        assert azure.served_name == openai.served_name == model


def test_a_model_serving_weights_the_gateway_does_not_have_is_refused():
    with pytest.raises(ValueError, match="same_vectors_as 'acme/nothing' is not a model"):
        Catalogue([ModelSpec(id="mirror/x", dimensions=8, same_vectors_as="acme/nothing")])


def test_a_model_serving_weights_of_another_size_is_refused():
    mirror = ModelSpec(
        id="mirror/small", dimensions=512, same_vectors_as="openai/text-embedding-3-small"
    )
    with pytest.raises(ValueError, match=r"must have its dimensions, shortening and embedder"):
        Catalogue([mirror])
