"""orq's routing as the gateway emulates it: retries, fallbacks, load balancer, call timeout."""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter

import pytest

from orq_embeddings._wire.dialects import Dialect
from orq_embeddings.gateway import Attempt, GatewayConfig, LocalGateway, ProviderFault
from orq_embeddings.gateway.catalogue import Catalogue
from orq_embeddings.gateway.config import ORQ_BACKOFF_SECONDS
from orq_embeddings.gateway.faults import FaultBook, FaultSet
from orq_embeddings.gateway.routing import Router, RoutingFailure
from orq_embeddings.gateway.validation import parse_request
from tests.support.gateway_http import COHERE, LARGE, MISTRAL, SMALL, embed, embed_raw, error_of


def attempts_of(gateway) -> list[tuple[str, int]]:
    """The (model, status) of every attempt of the last request."""
    return [(a.model, a.status) for a in gateway.requests()[-1].attempts]


def test_retries_a_failing_model_twice_by_default(gateway):
    gateway.inject(ProviderFault(model=SMALL, status=503))

    response = embed(gateway, {"input": "x", "model": SMALL})

    assert response.status_code == 503
    assert attempts_of(gateway) == [(SMALL, 503)] * 3


def test_retries_retry_count_times_on_a_retry_code(gateway):
    gateway.inject(ProviderFault(model=SMALL, status=500))

    embed(gateway, {"input": "x", "model": SMALL, "retry": {"count": 4}})

    assert attempts_of(gateway) == [(SMALL, 500)] * 5


def test_succeeds_when_a_retry_outlasts_the_fault(gateway):
    gateway.inject(ProviderFault(model=SMALL, status=429, times=2))

    response = embed(gateway, {"input": "x", "model": SMALL, "retry": {"count": 2}})

    assert response.status_code == 200
    assert attempts_of(gateway) == [(SMALL, 429), (SMALL, 429), (SMALL, 200)]


def test_does_not_retry_a_status_outside_on_codes(gateway):
    gateway.inject(ProviderFault(model=SMALL, status=500))

    body = {"input": "x", "model": SMALL, "retry": {"count": 3, "on_codes": [429]}}
    response = embed(gateway, body)

    assert response.status_code == 500
    assert attempts_of(gateway) == [(SMALL, 500)]


def test_falls_back_to_next_model_after_retries_on_503(gateway):
    gateway.inject(ProviderFault(model=SMALL, status=503))

    body = {"input": "x", "model": SMALL, "retry": {"count": 1}, "fallbacks": [{"model": COHERE}]}
    response = embed(gateway, body)

    assert response.status_code == 200
    assert response.json()["model"] == "embed-english-v3.0"
    assert attempts_of(gateway) == [(SMALL, 503), (SMALL, 503), (COHERE, 200)]


def test_falls_back_through_the_list_in_order(gateway):
    gateway.inject(ProviderFault(model=SMALL, status=500), ProviderFault(model=COHERE, status=502))

    body = {
        "input": "x",
        "model": SMALL,
        "retry": {"count": 0},
        "fallbacks": [{"model": COHERE}, {"model": MISTRAL}],
    }
    response = embed(gateway, body)

    assert response.json()["model"] == "mistral-embed"
    assert attempts_of(gateway) == [(SMALL, 500), (COHERE, 502), (MISTRAL, 200)]


def test_answers_the_last_failure_when_every_fallback_fails(gateway):
    gateway.inject(ProviderFault(status=503, retry_after=7))

    body = {"input": "x", "model": SMALL, "retry": {"count": 0}, "fallbacks": [{"model": COHERE}]}
    response = embed(gateway, body)

    assert response.status_code == 503
    assert error_of(response)["code"] == "provider_overloaded"
    assert response.headers["retry-after"] == "7"
    assert attempts_of(gateway) == [(SMALL, 503), (COHERE, 503)]


def test_when_every_model_failed_the_error_lists_each_attempt_as_failures(gateway):
    gateway.inject(ProviderFault(status=503))

    body = {"input": "x", "model": SMALL, "retry": {"count": 1}, "fallbacks": [{"model": COHERE}]}
    error = error_of(embed(gateway, body))

    assert error["failures"] == [
        {"model": SMALL, "status": 503},
        {"model": SMALL, "status": 503},
        {"model": COHERE, "status": 503},
        {"model": COHERE, "status": 503},
    ]


@pytest.mark.parametrize(
    "codes", [[429], []], ids=["a-code-outside-the-list", "an-explicit-empty-list-is-no-code"]
)
def test_does_not_fall_back_on_a_code_outside_fallback_on_codes(gateway, codes):
    gateway.inject(ProviderFault(model=SMALL, status=500))

    body = {
        "input": "x",
        "model": SMALL,
        "retry": {"count": 0},
        "fallbacks": [{"model": COHERE}],
        "fallback_on_codes": codes,
    }
    response = embed(gateway, body)

    assert response.status_code == 500
    assert attempts_of(gateway) == [(SMALL, 500)]


def test_an_unknown_model_is_a_404_and_does_not_fall_back(gateway):
    body = {"input": "x", "model": "openai/no-such-model", "fallbacks": [{"model": COHERE}]}

    response = embed(gateway, body)

    assert response.status_code == 404
    assert "openai/no-such-model" in error_of(response)["message"]
    assert attempts_of(gateway) == []


def test_an_unknown_fallback_model_is_a_404_naming_the_field(gateway):
    body = {"input": "x", "model": SMALL, "fallbacks": [{"model": "acme/unknown"}]}

    response = embed(gateway, body)

    assert response.status_code == 404
    assert "fallbacks[0].model" in error_of(response)["message"]


def test_a_slow_attempt_beyond_call_timeout_falls_back(gateway):
    gateway.inject(ProviderFault(model=SMALL, latency_ms=2_000))

    body = {
        "input": "x",
        "model": SMALL,
        "retry": {"count": 0},
        "timeout": {"call_timeout": 50},
        "fallbacks": [{"model": COHERE}],
    }
    response = embed(gateway, body)

    assert response.status_code == 200
    assert response.json()["model"] == "embed-english-v3.0"
    assert attempts_of(gateway) == [(SMALL, 504), (COHERE, 200)]


def test_a_call_timeout_applies_to_each_attempt_separately(gateway):
    gateway.inject(ProviderFault(model=SMALL, latency_ms=2_000, times=1))

    body = {"input": "x", "model": SMALL, "retry": {"count": 1}, "timeout": {"call_timeout": 50}}
    response = embed(gateway, body)

    assert response.status_code == 200
    assert attempts_of(gateway) == [(SMALL, 504), (SMALL, 200)]


def test_a_timeout_with_nothing_left_to_try_is_a_504(gateway):
    gateway.inject(ProviderFault(model=SMALL, latency_ms=2_000))

    body = {"input": "x", "model": SMALL, "retry": {"count": 0}, "timeout": {"call_timeout": 20}}
    response = embed(gateway, body)

    assert response.status_code == 504
    assert error_of(response)["code"] == "provider_timeout"
    assert "call_timeout" in error_of(response)["message"]


def test_latency_within_call_timeout_is_no_timeout(gateway):
    gateway.inject(ProviderFault(model=SMALL, latency_ms=20))

    body = {"input": "x", "model": SMALL, "timeout": {"call_timeout": 5_000}}

    assert embed(gateway, body).status_code == 200


def test_a_call_timeout_too_long_for_a_float_is_no_deadline(gateway):
    body = {"input": "x", "model": SMALL, "timeout": {"call_timeout": 10**400}}

    assert embed(gateway, body).status_code == 200


def test_load_balancer_spreads_requests_by_weight(gateway):
    body = {
        "input": "x",
        "model": SMALL,
        "load_balancer": {
            "type": "weight_based",
            "models": [{"model": SMALL, "weight": 0.8}, {"model": LARGE, "weight": 0.2}],
        },
    }

    served = Counter(embed(gateway, body).json()["model"] for _ in range(200))

    assert set(served) == {"text-embedding-3-small", "text-embedding-3-large"}
    assert 130 <= served["text-embedding-3-small"] <= 190


def test_load_balancer_weights_summing_beyond_a_float_still_pick_by_weight(gateway):
    body = {
        "input": "x",
        "model": SMALL,
        "load_balancer": {
            "type": "weight_based",
            "models": [{"model": SMALL, "weight": 1e308}, {"model": LARGE, "weight": 1e308}],
        },
    }

    served = {embed(gateway, body).json()["model"] for _ in range(20)}

    assert served == {"text-embedding-3-small", "text-embedding-3-large"}


def test_an_infinite_load_balancer_weight_is_a_400_naming_the_field(gateway):
    raw = (
        b'{"input": "x", "model": "%s", "load_balancer": {"type": "weight_based", '
        b'"models": [{"model": "%s", "weight": Infinity}]}}' % (SMALL.encode(), SMALL.encode())
    )

    response = embed_raw(gateway, raw)

    assert response.status_code == 400
    assert "load_balancer.models[0].weight" in error_of(response)["message"]


def test_load_balancer_picks_only_among_its_models(gateway):
    body = {
        "input": "x",
        "model": SMALL,
        "load_balancer": {"type": "weight_based", "models": [{"model": COHERE, "weight": 1}]},
    }

    assert {embed(gateway, body).json()["model"] for _ in range(10)} == {"embed-english-v3.0"}


class TestSeededLoadBalancer:
    @pytest.fixture
    def config(self):
        return GatewayConfig(seed=42)

    def test_the_same_seed_makes_the_same_picks(self, gateway, clock):
        body = {
            "input": "x",
            "model": SMALL,
            "load_balancer": {
                "type": "weight_based",
                "models": [{"model": SMALL, "weight": 0.5}, {"model": COHERE, "weight": 0.5}],
            },
        }
        first = [embed(gateway, body).json()["model"] for _ in range(20)]
        with LocalGateway(GatewayConfig(seed=42), clock=clock) as twin:
            second = [embed(twin, body).json()["model"] for _ in range(20)]

        assert first == second


def test_attempts_are_recorded_as_attempt_records(gateway):
    embed(gateway, {"input": "x", "model": SMALL})

    assert gateway.requests()[-1].attempts == (Attempt(model=SMALL, status=200),)


# -- explicit empty code lists, and orq's backoff --------------------------------------------------


def test_an_explicit_empty_on_codes_retries_no_code(gateway):
    gateway.inject(ProviderFault(model=SMALL, status=503))

    embed(gateway, {"input": "x", "model": SMALL, "retry": {"count": 3, "on_codes": []}})

    assert attempts_of(gateway) == [(SMALL, 503)]


def test_a_null_on_codes_is_orqs_default_list(gateway):
    gateway.inject(ProviderFault(model=SMALL, status=503))

    embed(gateway, {"input": "x", "model": SMALL, "retry": {"count": 1, "on_codes": None}})

    assert attempts_of(gateway) == [(SMALL, 503), (SMALL, 503)]


def _waits_of_a_failing_request(backoff_seconds: float, retries: int) -> list[float]:
    """The waits a Router asks for while it retries an always-failing model ``retries`` times."""
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    faults = FaultBook()
    faults.arm(FaultSet(provider=(ProviderFault(status=503),)))
    router = Router(Catalogue(), faults, random.Random(7), backoff_seconds, sleep=record)
    body = {"input": "x", "model": SMALL, "retry": {"count": retries}}
    request = parse_request(json.dumps(body).encode(), Dialect.ROUTER, max_inputs=10)
    with pytest.raises(RoutingFailure):
        asyncio.run(router.route(request))
    return waits


def test_orqs_backoff_waits_about_1_2_4_8_16_seconds_within_a_quarter():
    waits = _waits_of_a_failing_request(ORQ_BACKOFF_SECONDS, retries=5)

    assert len(waits) == 5
    for wait, nominal in zip(waits, [1, 2, 4, 8, 16], strict=True):
        assert 0.75 * nominal <= wait <= 1.25 * nominal
    assert waits != [1, 2, 4, 8, 16], "each wait is jittered"


def test_the_gateway_retries_at_once_by_default():
    assert GatewayConfig().retry_backoff_seconds == 0
    assert _waits_of_a_failing_request(GatewayConfig().retry_backoff_seconds, retries=5) == []
