"""``max_inputs_per_request``: the gateway plays a provider with a small batch limit, like Azure."""

from __future__ import annotations

import pytest
from openai import BadRequestError, OpenAI

from orq_embeddings.gateway import GatewayConfig
from tests.support.gateway_http import SMALL, embed, error_of

AZURE_MESSAGE = "Too many inputs. The max number of inputs is 4."


@pytest.fixture
def config():
    return GatewayConfig(seed=1, max_inputs_per_request=4)


@pytest.mark.parametrize("dialect", ["v2/router", "v3/router", "v2/gateway"])
def test_a_batch_over_the_limit_is_azures_400(gateway, dialect):
    response = embed(gateway, {"input": ["a"] * 5, "model": SMALL}, dialect=dialect)

    assert response.status_code == 400
    assert error_of(response) == {
        "code": "invalid_request_body",
        "message": AZURE_MESSAGE,
        "param": "input",
        "type": "invalid_request_error",
    }


def test_a_batch_at_the_limit_is_served(gateway):
    response = embed(gateway, {"input": ["a", "b", "c", "d"], "model": SMALL})

    assert response.status_code == 200
    assert len(response.json()["data"]) == 4


def test_refused_batches_show_in_the_request_log_and_counters(gateway):
    embed(gateway, {"input": ["a"] * 5, "model": SMALL})
    embed(gateway, {"input": ["a"], "model": SMALL})

    assert gateway.counters().refused_by_limit == {"max_inputs_per_request": 1}
    assert [record.refused_by for record in gateway.requests()] == [
        "max_inputs_per_request",
        None,
    ]


def test_the_openai_sdk_sees_a_bad_request_with_azures_message(gateway):
    with (
        OpenAI(base_url=gateway.base_url, api_key="sk-any", max_retries=0) as client,
        pytest.raises(BadRequestError, match="Too many inputs") as raised,
    ):
        client.embeddings.create(input=["a"] * 5, model=SMALL)

    assert raised.value.param == "input"
    assert raised.value.message.endswith(AZURE_MESSAGE)


class TestWithoutALimit:
    @pytest.fixture
    def config(self):
        return GatewayConfig(seed=1)

    def test_a_large_batch_is_served(self, gateway):
        assert embed(gateway, {"input": ["a"] * 2048, "model": SMALL}).status_code == 200
