"""Differential: the local gateway's verdict on a body is the oracle's, never its own.

Valid bodies (by the oracle) must be served; each single mutation of one must be served if the
oracle still accepts it, and otherwise refused with a 4xx whose error names the field. Nothing is
ever a 5xx. The oracle is orq-ai-sdk 4.17 made strict (router) and the spec's body (gateway).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, assume, event, given, note, settings
from hypothesis import strategies as st

from orq_embeddings.gateway import GatewayConfig, LocalGateway

from .oracle import GATEWAY_BODY, ROUTER_BODY, problems
from .wire_bodies import MUTATION_KINDS, all_mutations, valid_bodies

#: Valid bodies per base URL: 2-6 s each on this shared 2-core machine, depending on its load.
EXAMPLES = 300
#: Mutated bodies per base URL and kind of mutation (one test each, so every kind gets its share).
MUTATION_EXAMPLES = 100

DIALECTS = {"v2/router": ROUTER_BODY, "v3/router": ROUTER_BODY, "v2/gateway": GATEWAY_BODY}
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)


@pytest.fixture(scope="module")
def gateway():
    with LocalGateway(GatewayConfig(seed=3)) as running, httpx.Client(timeout=30) as http:
        yield running, http


def post(gateway: Any, path: str, body: Any) -> httpx.Response:
    running, http = gateway
    return http.post(f"{running.url}/{path}/embeddings", json=body)


@pytest.mark.parametrize("path", list(DIALECTS))
@PROPERTY
@given(data=st.data())
def test_every_valid_body_is_served(gateway, path, data):
    body = data.draw(valid_bodies(gateway=path == "v2/gateway"))
    assert problems(DIALECTS[path], body) == [], "the generator made a body the oracle refuses"

    response = post(gateway, path, body)

    assert response.status_code == 200, response.text


@pytest.mark.parametrize("kind", MUTATION_KINDS)
@pytest.mark.parametrize("path", list(DIALECTS))
@settings(PROPERTY, max_examples=MUTATION_EXAMPLES)
@given(data=st.data())
def test_a_single_mutation_is_refused_naming_the_field_exactly_when_the_oracle_refuses_it(
    gateway, path, kind, data
):
    body = data.draw(valid_bodies(gateway=path == "v2/gateway"))
    of_this_kind = [mutation for mutation in all_mutations(body) if mutation.kind == kind]
    assume(of_this_kind)
    mutation = data.draw(st.sampled_from(of_this_kind))
    note(f"{mutation.kind} at {mutation.path}")
    refused_by_oracle = problems(DIALECTS[path], mutation.body)
    event(f"{mutation.kind}: {'invalid' if refused_by_oracle else 'still valid'}")

    response = post(gateway, path, mutation.body)

    assert response.status_code < 500, response.text
    if not refused_by_oracle:
        assert response.status_code == 200, (mutation, response.text)
        return
    assert 400 <= response.status_code < 500, (mutation, refused_by_oracle, response.text)
    error = response.json()["error"]
    assert mutation.field in error["message"], (mutation, error)
    assert error["param"] and mutation.field in error["param"], (mutation, error)
