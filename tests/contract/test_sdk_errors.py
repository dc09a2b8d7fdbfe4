"""Contract: orq-ai-sdk 4.17's own client, pointed at the local gateway, raises its typed errors.

The SDK parses a 401 as ``APIErrorResponse`` only when the body has the four fields its
``APIError`` requires (``code``, ``message``, ``param``, ``type``); anything less makes it raise
``ResponseValidationError`` instead, which is what a caller of the SDK must never see.
"""

from __future__ import annotations

import pytest
from orq_ai_sdk import Orq
from orq_ai_sdk.models import APIDefaultError, APIErrorResponse

from orq_embeddings.gateway import GatewayConfig, LocalGateway

SMALL = "openai/text-embedding-3-small"


@pytest.fixture(scope="module")
def keyed_gateway():
    with LocalGateway(GatewayConfig(api_key="sk-the-right-key")) as running:
        yield running


def test_the_sdk_raises_its_typed_error_on_the_gateways_401(keyed_gateway):
    with (
        Orq(api_key="sk-a-wrong-key", server_url=keyed_gateway.url) as orq,
        pytest.raises(APIErrorResponse) as raised,
    ):
        orq.router.embeddings.create(input="x", model=SMALL)

    assert raised.value.raw_response.status_code == 401
    error = raised.value.data.error
    assert (error.code, error.type, error.param) == (
        "invalid_api_key",
        "authentication_error",
        None,
    )
    assert "sk-a-wrong-key" not in error.message


def test_the_sdk_reads_the_gateways_other_errors_as_its_default_error(keyed_gateway):
    with (
        Orq(api_key="sk-the-right-key", server_url=keyed_gateway.url) as orq,
        pytest.raises(APIDefaultError) as raised,
    ):
        orq.router.embeddings.create(input="x", model="openai/missing")

    assert raised.value.status_code == 404
    assert '"param": "model"' in raised.value.body
