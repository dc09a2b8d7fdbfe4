"""Fuzzing the local gateway's request validation with bodies shaped like the schema.

tests/gateway fuzzes flat bodies of known fields with small random values. These bodies go
deeper: every option object of both dialects, nested as the schema nests it, with the numbers
that break arithmetic rather than validation (beyond any float, infinities, NaN, tiny
subnormals). Whatever arrives, the gateway answers as orq would: never a 500, and every error
as an orq-style body whose message says what to change.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from orq_embeddings.gateway import GatewayConfig, LocalGateway
from tests.support.surfaces import HASHING_64, MODEL

FUZZ = settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PATHS = ["/v2/router/embeddings", "/v3/router/embeddings", "/v2/gateway/embeddings"]


@pytest.fixture(scope="module")
def gateway() -> Iterator[LocalGateway]:
    """One gateway for the whole run: hypothesis calls each test body many times."""
    with LocalGateway(GatewayConfig(models=(HASHING_64,))) as running:
        yield running


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


# -- bodies shaped like the schema -------------------------------------------------------------

#: Numbers that break arithmetic rather than validation.
edge_numbers = st.sampled_from(
    [0, -1, 2**63, 10**400, 1e308, 5e-324, math.inf, -math.inf, math.nan]
)
numbers = edge_numbers | st.integers() | st.floats()


def valid_or_edge(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A number the field accepts, or an edge: valid often enough that requests reach routing."""
    return valid | edge_numbers


json_values = st.recursive(
    st.none() | st.booleans() | numbers | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)
models = st.sampled_from([MODEL, "openai/text-embedding-3-small", "jina/jina-embeddings-v3"])
codes = st.lists(valid_or_edge(st.sampled_from([408, 429, 500, 503, 529])), max_size=3)


def objects(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects holding any subset of ``fields``."""
    return st.fixed_dictionaries({}, optional=fields)


inputs = (
    st.text(min_size=1, max_size=30)
    | st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=4)
    | st.lists(
        st.lists(valid_or_edge(st.integers(0, 100_000)), min_size=1, max_size=4),
        min_size=1,
        max_size=3,
    )
)
weighted = st.fixed_dictionaries(
    {"model": models, "weight": valid_or_edge(st.floats(min_value=0.001, max_value=1))}
)
identity = st.fixed_dictionaries(
    {"id": st.text(min_size=1, max_size=300)},
    optional={
        "display_name": st.text(max_size=10),
        "email": st.text(max_size=10),
        "metadata": st.lists(st.dictionaries(st.text(max_size=5), json_values), max_size=21),
        "logo_url": st.text(max_size=10),
        "tags": st.lists(st.text(max_size=5), max_size=3),
    },
)
routing = {
    "name": st.text(max_size=10),
    "fallbacks": st.lists(st.fixed_dictionaries({"model": models}), max_size=3),
    "fallback_on_codes": codes,
    "retry": objects({"count": valid_or_edge(st.integers(0, 5)), "on_codes": codes}),
    "cache": objects(
        {"type": st.just("exact_match"), "ttl": valid_or_edge(st.integers(1, 259_200))}
    ),
    "timeout": st.fixed_dictionaries({"call_timeout": valid_or_edge(st.integers(1, 60_000))}),
}
router_balancer = st.fixed_dictionaries(
    {"type": st.just("weight_based"), "models": st.lists(weighted, min_size=1, max_size=3)}
)
common = {
    "dimensions": valid_or_edge(st.integers(1, 64)),
    "encoding_format": st.sampled_from(["float", "base64"]),
    "user": st.text(max_size=10),
}
router_bodies = st.fixed_dictionaries(
    {"input": inputs, "model": models},
    optional={
        **common,
        **routing,
        "load_balancer": router_balancer,
        "orq": objects({**routing, "identity": identity, "load_balancer": router_balancer}),
    },
)
gateway_bodies = st.fixed_dictionaries(
    {"input": inputs, "model": models},
    optional={
        **common,
        "orq": objects(
            {
                **routing,
                "contact": identity,
                "load_balancer": st.lists(weighted, min_size=1, max_size=3),
            }
        ),
    },
)


@st.composite
def with_one_field_replaced(draw: st.DrawFn, bodies: st.SearchStrategy[dict[str, Any]]) -> Any:
    """A schema-shaped body, one of whose fields (perhaps nested) holds any JSON at all."""
    body = draw(bodies)
    holder = body
    while draw(st.booleans()):
        nested = [key for key, value in holder.items() if isinstance(value, dict)]
        if not nested:
            break
        holder = holder[draw(st.sampled_from(nested))]
    key = draw(st.sampled_from(sorted(holder)) | st.text(max_size=8)) if holder else "input"
    holder[key] = draw(json_values)
    return body


requests = st.tuples(
    st.sampled_from(PATHS[:2]), router_bodies | with_one_field_replaced(router_bodies)
) | st.tuples(st.just(PATHS[2]), gateway_bodies | with_one_field_replaced(gateway_bodies))


def assert_answered_as_orq_would(response: httpx.Response) -> None:
    assert response.status_code != 500, response.text
    if response.status_code >= 400:
        error = response.json()["error"]
        assert isinstance(error["code"], str)
        assert isinstance(error["message"], str)
        assert error["message"]
    else:
        assert response.status_code == 200
        assert response.json()["data"]


# -- the properties ----------------------------------------------------------------------------

MINIMAL = {"input": "x", "model": MODEL}


@FUZZ
@given(request=requests)
@example(request=(PATHS[0], {**MINIMAL, "timeout": {"call_timeout": 10**400}}))
@example(
    request=(
        PATHS[0],
        {
            **MINIMAL,
            "load_balancer": {
                "type": "weight_based",
                "models": [{"model": MODEL, "weight": 1e308}, {"model": MODEL, "weight": 1e308}],
            },
        },
    )
)
@example(
    request=(PATHS[2], {**MINIMAL, "orq": {"load_balancer": [{"model": MODEL, "weight": 1e999}]}})
)
def test_no_schema_shaped_body_makes_the_gateway_fail_or_answer_without_an_orq_error(
    gateway, http, request
):
    path, body = request

    response = http.post(gateway.url + path, content=json.dumps(body).encode())

    assert_answered_as_orq_would(response)
