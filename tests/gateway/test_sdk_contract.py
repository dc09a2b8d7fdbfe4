"""Contract: the official orq SDK and the OpenAI SDK, pointed at the gateway, get valid answers.

The bodies they build are the oracle of what orq accepts; the gateway must take them all.
"""

from __future__ import annotations

import math

import pytest
from openai import OpenAI
from orq_ai_sdk import Orq

from tests.support.gateway_http import COHERE, SMALL


@pytest.fixture
def orq(gateway):
    # The SDK appends /v2/router/embeddings to the server URL itself.
    with Orq(api_key="sk-any", server_url=gateway.url) as client:
        yield client


@pytest.fixture
def openai_client(gateway):
    with OpenAI(base_url=gateway.base_url, api_key="sk-any", max_retries=0) as client:
        yield client


def test_orq_sdk_embeds_a_list_of_texts(orq):
    response = orq.router.embeddings.create(input=["alpha", "beta"], model=SMALL)

    assert [item.index for item in response.data] == [0, 1]
    assert all(len(item.embedding) == 1536 for item in response.data)
    assert response.usage.total_tokens == 2


def test_orq_sdk_body_with_every_routing_option_is_accepted(orq, gateway):
    response = orq.router.embeddings.create(
        input="routing",
        model=SMALL,
        dimensions=256,
        encoding_format="base64",
        user="user-1",
        name="contract",
        fallbacks=[{"model": "openai/text-embedding-3-large"}],
        fallback_on_codes=[429, 503],
        retry={"count": 1, "on_codes": [503]},
        cache={"type": "exact_match", "ttl": 60},
        load_balancer={"type": "weight_based", "models": [{"model": SMALL, "weight": 1.0}]},
        timeout={"call_timeout": 10_000},
        orq={"identity": {"id": "user-1", "display_name": "Contract Test"}},
    )

    assert response.model == "text-embedding-3-small"
    assert isinstance(response.data[0].embedding, str)
    assert gateway.identities()["user-1"].display_name == "Contract Test"


def test_orq_sdk_token_id_input_is_accepted(orq):
    response = orq.router.embeddings.create(input=[[1, 2, 3]], model=COHERE)

    assert len(response.data[0].embedding) == 1024


def test_orq_sdk_sees_an_unknown_model_as_an_error(orq):
    from orq_ai_sdk.models import APIDefaultError

    with pytest.raises(APIDefaultError) as raised:
        orq.router.embeddings.create(input="x", model="openai/missing")

    assert raised.value.status_code == 404


def test_openai_sdk_default_base64_embeddings_decode(openai_client):
    response = openai_client.embeddings.create(input=["one", "two"], model=SMALL)

    assert [item.index for item in response.data] == [0, 1]
    vector = response.data[0].embedding
    assert len(vector) == 1536
    assert math.isclose(sum(value * value for value in vector), 1.0, rel_tol=1e-4)


def test_openai_sdk_float_embeddings_with_dimensions(openai_client):
    response = openai_client.embeddings.create(
        input="shorter", model=SMALL, dimensions=512, encoding_format="float"
    )

    assert len(response.data[0].embedding) == 512
    assert response.model == "text-embedding-3-small"


def test_openai_sdk_orq_options_in_extra_body_are_accepted(openai_client):
    response = openai_client.embeddings.create(
        input="x",
        model=SMALL,
        extra_body={"fallbacks": [{"model": COHERE}], "orq": {"identity": {"id": "u"}}},
    )

    assert response.data[0].embedding


def test_openai_sdk_sees_a_validation_error_as_a_bad_request(openai_client):
    from openai import BadRequestError

    with pytest.raises(BadRequestError, match="unknown field `bogus`") as raised:
        openai_client.embeddings.create(input="x", model=SMALL, extra_body={"bogus": 1})

    assert raised.value.code == "invalid_request_body"
