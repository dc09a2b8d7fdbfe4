"""The oracle itself: it must accept what orq's SDK sends and refuse what orq's schema refuses.

A lax oracle would make the property tests pass for nothing, so it is held to known answers.
"""

from __future__ import annotations

import pytest
from orq_ai_sdk.models import CreateEmbeddingRequestBody

from .oracle import GATEWAY_BODY, ROUTER_BODY, problems

BASE = {"input": ["a"], "model": "openai/text-embedding-3-small"}


def test_a_body_the_sdk_itself_serializes_with_every_field_is_accepted():
    sdk_body = CreateEmbeddingRequestBody(
        input=["a", [1, 2]],
        model="openai/text-embedding-3-small",
        cache={"type": "exact_match", "ttl": 60},
        dimensions=256,
        encoding_format="base64",
        fallback_on_codes=[503],
        fallbacks=[{"model": "openai/text-embedding-3-large"}],
        load_balancer={"type": "weight_based", "models": [{"model": "a/b", "weight": 0.5}]},
        name="n",
        orq={
            "identity": {"id": "u", "metadata": [{"k": 1}], "tags": ["t"]},
            "contact": {"id": "c"},
        },
        retry={"count": 0, "on_codes": [429]},
        timeout={"call_timeout": 1000},
        user="u1",
    ).model_dump(mode="json", by_alias=True)

    assert problems(ROUTER_BODY, sdk_body) == []


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ({"dimensions": None}, "dimensions: null is not allowed"),
        ({"orq": {"identity": {"id": "u", "email": None}}}, "orq.identity.email: null"),
        ({"orq": {"identity": {"id": "u", "logo_url": "x"}}}, "orq.identity.logo_url: unknown"),
        ({"orq": {"fallback_on_codes": [503]}}, "orq.fallback_on_codes: unknown"),
        ({"retry": {"count": 1, "backoff": 2}}, "retry.backoff: unknown"),
        ({"retry": {"on_codes": [503]}}, "retry.count: required"),
        ({"retry": {"count": True}}, "retry.count: expected int"),
        ({"dimensions": "512"}, "dimensions: expected int"),
        ({"retry": {"count": 6}}, "retry.count: must be within 0-5"),
        ({"cache": {"type": "exact_match", "ttl": 259_201}}, "cache.ttl: at most"),
        ({"fallback_on_codes": [503, 503]}, "fallback_on_codes: codes must be unique"),
        ({"input": [1, 2]}, "input"),
    ],
)
def test_the_router_oracle_refuses_what_the_schema_refuses(extra, problem):
    found = problems(ROUTER_BODY, {**BASE, **extra})

    assert any(problem in line for line in found), found


@pytest.mark.parametrize(
    "extra",
    [
        {"fallbacks": None},
        {"fallback_on_codes": None},
        {"retry": {"count": 1, "on_codes": None}},
        {"load_balancer": {"type": "weight_based", "models": None}},
        {"orq": {"identity": {"id": "u", "metadata": None, "tags": None}}},
        {"name": ""},
    ],
)
def test_the_router_oracle_accepts_the_schemas_nulls_and_an_empty_name(extra):
    assert problems(ROUTER_BODY, {**BASE, **extra}) == []


def test_the_gateway_oracle_takes_the_seed_body_and_refuses_router_only_fields():
    contact = {"id": "c", "logo_url": "https://example.com/a.jpg"}
    seed = {**BASE, "orq": {"contact": contact, "load_balancer": [{"model": "a/b", "weight": 1}]}}

    assert problems(GATEWAY_BODY, seed) == []
    assert problems(GATEWAY_BODY, {**BASE, "fallbacks": []}) == ["fallbacks: unknown field"]
    assert problems(GATEWAY_BODY, {**BASE, "orq": {"fallback_on_codes": [503]}})[0] == (
        "orq.fallback_on_codes: unknown field"
    )
