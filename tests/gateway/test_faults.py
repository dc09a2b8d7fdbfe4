"""Fault injection: response faults reach the client as is; provider faults go through routing."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from orq_embeddings.gateway import FaultSet, GatewayConfig, ProviderFault, ResponseFault
from tests.support.gateway_http import COHERE, HTTP, SMALL, embed, error_of

BODY = {"input": "x", "model": SMALL, "fallbacks": [{"model": COHERE}]}


def test_a_response_fault_status_reaches_the_client_despite_fallbacks(gateway):
    gateway.inject(ResponseFault(status=503, times=1))

    response = embed(gateway, BODY)

    assert response.status_code == 503
    assert error_of(response)["code"] == "provider_overloaded"
    assert gateway.requests()[-1].attempts == ()


def test_a_429_carries_retry_after(gateway):
    gateway.inject(ResponseFault(status=429, retry_after=2, times=1))

    response = embed(gateway, BODY)

    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    assert error_of(response)["code"] == "rate_limit_exceeded"


def test_a_429_without_retry_after_says_one_second(gateway):
    gateway.inject(ResponseFault(status=429, times=1))

    assert embed(gateway, BODY).headers["retry-after"] == "1"


def test_a_fault_strikes_times_times_then_is_spent(gateway):
    gateway.inject(ResponseFault(status=500, times=2))

    statuses = [embed(gateway, BODY).status_code for _ in range(3)]

    assert statuses == [500, 500, 200]
    assert gateway.armed_faults() == FaultSet()


def test_a_fault_without_times_strikes_every_request(gateway):
    gateway.inject(ResponseFault(status=502))

    assert [embed(gateway, BODY).status_code for _ in range(3)] == [502, 502, 502]


def test_a_fault_for_one_model_spares_the_others(gateway):
    gateway.inject(ResponseFault(model=COHERE, status=500))

    assert embed(gateway, {"input": "x", "model": SMALL}).status_code == 200
    assert embed(gateway, {"input": "x", "model": COHERE}).status_code == 500


def test_a_custom_body_is_sent_verbatim(gateway):
    page = "<html><body>502 Bad Gateway</body></html>"
    gateway.inject(ResponseFault(status=502, body=page, times=1))

    assert embed(gateway, BODY).text == page


def test_a_dropped_connection_sends_no_response(gateway):
    gateway.inject(ResponseFault(drop_connection=True, times=1))

    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        httpx.post(f"{gateway.base_url}/embeddings", json=BODY)
    assert embed(gateway, BODY).status_code == 200
    assert gateway.requests()[0].status == 0


def test_malformed_json_is_a_200_whose_body_does_not_parse(gateway):
    gateway.inject(ResponseFault(malformed_json=True, times=1))

    response = embed(gateway, BODY)

    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_response_latency_delays_the_answer(gateway):
    gateway.inject(ResponseFault(latency_ms=300, times=1))

    started = time.perf_counter()
    response = embed(gateway, BODY)

    assert response.status_code == 200
    assert time.perf_counter() - started >= 0.3


def test_response_faults_apply_only_to_valid_requests(gateway):
    gateway.inject(ResponseFault(status=503, times=1))

    assert embed(gateway, {"input": ""}).status_code == 400
    assert embed(gateway, BODY).status_code == 503


def test_a_provider_fault_is_absorbed_by_the_gateways_fallback(gateway):
    gateway.inject(ProviderFault(model=SMALL, status=500))

    response = embed(gateway, BODY)

    assert response.status_code == 200
    assert response.json()["model"] == "embed-english-v3.0"


def test_clearing_faults_disarms_them(gateway):
    gateway.inject(ResponseFault(status=500), ProviderFault(status=503))

    gateway.clear_faults()

    assert embed(gateway, BODY).status_code == 200


def test_armed_faults_show_strikes_left(gateway):
    gateway.inject(ProviderFault(model=SMALL, status=503, times=5))

    embed(gateway, {**BODY, "retry": {"count": 1}})

    assert gateway.armed_faults().provider == (ProviderFault(model=SMALL, status=503, times=3),)


class TestFaultsFromConfig:
    @pytest.fixture
    def config(self):
        return GatewayConfig.model_validate({"faults": {"response": [{"status": 503, "times": 1}]}})

    def test_faults_in_the_config_are_armed_at_start(self, gateway):
        assert embed(gateway, BODY).status_code == 503
        assert embed(gateway, BODY).status_code == 200

    def test_reset_arms_the_config_faults_again_and_only_them(self, gateway):
        embed(gateway, BODY)
        gateway.inject(ProviderFault(status=500))

        gateway.reset()

        assert embed(gateway, BODY).status_code == 503
        assert embed(gateway, BODY).status_code == 200


def test_invalid_faults_are_refused_by_the_control_endpoint(gateway):
    response = HTTP.post(
        f"{gateway.url}/_local_gateway/faults", json={"response": [{"status": 200}]}
    )

    assert response.status_code == 400
    assert "status" in error_of(response)["message"]


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 503, "drop_connection": True},
        {"body": "<html/>"},
        {},
    ],
)
def test_a_response_fault_must_do_exactly_one_thing(fault):
    with pytest.raises(ValueError, match="response fault|body"):
        ResponseFault.model_validate(fault)


def test_a_provider_fault_must_do_something():
    with pytest.raises(ValueError, match="provider fault"):
        ProviderFault(model=SMALL)
