"""The conventions' client metrics: operation duration and token usage, recorded per request.

On the six surfaces, against the local gateway, with a real SDK's in-memory metric reader.
"""

from __future__ import annotations

import pytest

from orq_embeddings import AuthenticationError
from orq_embeddings._runtime.genai_conventions import DURATION_BUCKETS, TOKEN_BUCKETS
from orq_embeddings.gateway import ResponseFault
from orq_embeddings.gateway.tokens import count_tokens
from tests.support.surfaces import HASHING_64, MODEL, Call, Surface
from tests.telemetry.spans import REQUEST_SPAN

DURATION = "gen_ai.client.operation.duration"
TOKENS = "gen_ai.client.token.usage"
TEXTS = [f"passage number {i} about metrics" for i in range(5)]


def common_attributes(orq_gateway) -> dict[str, object]:
    return {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.provider.name": "orq",
        "gen_ai.request.model": MODEL,
        "server.address": "127.0.0.1",
        "server.port": orq_gateway.port,
    }


def test_each_request_records_its_duration_with_the_model_that_served(
    surface: Surface, orq_gateway, otel
):
    surface.embed(Call(base_url=orq_gateway.base_url, batch_size=2), TEXTS)

    [point] = otel.points(DURATION)
    assert dict(point.attributes) == {
        **common_attributes(orq_gateway),
        "gen_ai.response.model": HASHING_64.served_name,
    }
    assert point.count == 3
    assert tuple(point.explicit_bounds) == DURATION_BUCKETS
    spans = otel.spans(REQUEST_SPAN)
    assert point.sum == pytest.approx(sum((s.end_time - s.start_time) / 1e9 for s in spans))


def test_token_usage_is_the_input_tokens_the_gateway_reported(surface: Surface, orq_gateway, otel):
    surface.embed(Call(base_url=orq_gateway.base_url, batch_size=2), TEXTS)

    [point] = otel.points(TOKENS)
    assert dict(point.attributes) == {
        **common_attributes(orq_gateway),
        "gen_ai.response.model": HASHING_64.served_name,
        "gen_ai.token.type": "input",
    }
    assert (point.count, point.sum) == (3, sum(map(count_tokens, TEXTS)))
    assert tuple(point.explicit_bounds) == TOKEN_BUCKETS


def test_a_failed_request_records_its_duration_with_error_type_and_no_tokens(
    surface: Surface, orq_gateway, otel
):
    orq_gateway.inject(ResponseFault(status=401))

    with pytest.raises(AuthenticationError):
        surface.embed(Call(base_url=orq_gateway.base_url, max_retries=0), ["a passage"])

    [point] = otel.points(DURATION)
    assert dict(point.attributes) == {
        **common_attributes(orq_gateway),
        "error.type": "AuthenticationError",
    }
    assert point.count == 1
    assert otel.points(TOKENS) == []
