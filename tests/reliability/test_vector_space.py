"""A surface bound to a vector space, through each of the six: no vector of another space returns.

orq's fallbacks (and load balancer) may serve a call from another model; the local gateway plays
that, and a model that serves the same weights under another provider (as Azure OpenAI serves
OpenAI's), which must pass.
"""

from __future__ import annotations

import pytest

from orq_embeddings import EmbeddingSpace, EmbeddingSpaceError
from orq_embeddings.gateway import GatewayConfig, ModelSpec, ProviderFault
from tests.support.surfaces import HASHING_64, KEY, MODEL, Call

#: Another model of the same width: the silent swap a width check cannot see.
OTHER = ModelSpec(id="local/other-64", dimensions=64)
#: The same weights as MODEL on another provider.
MIRROR = ModelSpec(id="mirror/hashing-64", dimensions=64, same_vectors_as=MODEL)
BOUND = {"space": EmbeddingSpace(MODEL, 64)}
TEXTS = [f"passage {number}" for number in range(6)]


@pytest.fixture
def orq_gateway_config() -> GatewayConfig:
    return GatewayConfig(api_key=KEY, models=(HASHING_64, OTHER, MIRROR))


def test_a_fallback_to_another_model_of_the_same_width_is_refused(surface, orq_gateway):
    orq_gateway.inject(ProviderFault(model=MODEL, status=503))
    call = Call(orq_gateway.base_url, orq={"fallbacks": [{"model": OTHER.id}]}, more=BOUND)
    with pytest.raises(EmbeddingSpaceError) as refused:
        surface.embed(call, TEXTS)
    message = str(refused.value)
    assert "the client is bound to hashing-64:64:none, but other-64:64:none served" in message
    assert "routed there by orq.fallbacks[0] (local/other-64)" in message


def test_a_load_balancer_pick_of_another_model_is_refused(surface, orq_gateway):
    balanced = {"type": "weight_based", "models": [{"model": OTHER.id, "weight": 1}]}
    call = Call(orq_gateway.base_url, orq={"load_balancer": balanced}, more=BOUND)
    with pytest.raises(EmbeddingSpaceError, match=r"orq\.load_balancer\.models\[0\]"):
        surface.embed(call, TEXTS)


def test_a_fallback_to_the_same_model_on_another_provider_passes(surface, orq_gateway):
    expected = surface.embed(Call(orq_gateway.base_url), TEXTS)
    orq_gateway.inject(ProviderFault(model=MODEL, status=503))
    call = Call(orq_gateway.base_url, orq={"fallbacks": [{"model": MIRROR.id}]}, more=BOUND)
    assert surface.embed(call, TEXTS) == expected
    assert orq_gateway.requests()[-1].served_model == MIRROR.id
