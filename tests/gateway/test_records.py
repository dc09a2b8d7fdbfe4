"""What the gateway records: a redacted request log, identities, counters, in-flight peaks."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from orq_embeddings.gateway import GatewayConfig, ProviderFault
from orq_embeddings.gateway.request_log import REDACTED
from tests.support.gateway_http import COHERE, SMALL, embed

BODY = {"input": ["one", "two"], "model": SMALL}


def test_the_request_log_keeps_path_body_status_and_served_model(gateway):
    embed(gateway, BODY)

    [record] = gateway.requests()
    assert record.path == "/v2/router/embeddings"
    assert record.body_json() == BODY
    assert record.status == 200
    assert record.model == SMALL
    assert record.served_model == SMALL


def test_the_request_log_never_holds_the_api_key(gateway):
    embed(gateway, BODY, headers={"Authorization": "Bearer sk-very-secret"})

    [record] = gateway.requests()
    assert record.headers["authorization"] == REDACTED
    assert "sk-very-secret" not in record.model_dump_json()


def test_rejected_requests_are_logged_too(gateway):
    embed(gateway, {"input": ""})

    assert [record.status for record in gateway.requests()] == [400]


def test_the_router_identity_is_recorded(gateway):
    identity = {"id": "user_42", "display_name": "Ada", "tags": ["beta"]}
    embed(gateway, {**BODY, "orq": {"identity": identity}})

    assert gateway.requests()[-1].identity["id"] == "user_42"
    assert gateway.identities()["user_42"].display_name == "Ada"


def test_the_gateway_dialect_contact_is_recorded_as_the_identity(gateway):
    embed(gateway, {**BODY, "orq": {"contact": {"id": "contact_7"}}}, dialect="v2/gateway")

    assert set(gateway.identities()) == {"contact_7"}


def test_a_later_request_updates_the_identity(gateway):
    embed(gateway, {**BODY, "orq": {"identity": {"id": "u1", "email": "old@example.com"}}})
    embed(gateway, {**BODY, "orq": {"identity": {"id": "u1", "email": "new@example.com"}}})

    assert gateway.identities()["u1"].email == "new@example.com"


def test_counters_count_requests_attempts_and_statuses(gateway):
    gateway.inject(ProviderFault(model=SMALL, status=503, times=3))
    embed(gateway, {**BODY, "fallbacks": [{"model": COHERE}]})
    embed(gateway, {"input": ""})

    counters = gateway.counters()
    assert counters.requests == 2
    assert counters.requests_by_model == {SMALL: 1}
    assert counters.attempts_by_model == {SMALL: 3, COHERE: 1}
    assert counters.served_by_model == {COHERE: 1}
    assert counters.responses_by_status == {200: 1, 400: 1}


def test_peak_in_flight_is_the_most_concurrent_requests(gateway):
    gateway.inject(ProviderFault(latency_ms=300))

    with ThreadPoolExecutor(max_workers=5) as pool:
        statuses = list(pool.map(lambda _: embed_alone(gateway).status_code, range(5)))

    assert statuses == [200] * 5
    counters = gateway.counters()
    assert counters.peak_in_flight == 5
    assert counters.in_flight == 0


def embed_alone(gateway):
    """One request on its own connection, so several can be in flight at once."""
    return httpx.post(f"{gateway.base_url}/embeddings", json=BODY, timeout=10)


def test_reset_forgets_log_counters_cache_identities_and_faults(gateway):
    cached = {**BODY, "cache": {"type": "exact_match", "ttl": 60}, "orq": {"identity": {"id": "u"}}}
    embed(gateway, cached)
    gateway.inject(ProviderFault(status=500))

    gateway.reset()

    assert gateway.requests() == []
    assert gateway.counters().requests == 0
    assert gateway.identities() == {}
    assert embed(gateway, cached).headers["x-local-gateway-cache"] == "miss"


class TestSmallLog:
    @pytest.fixture
    def config(self):
        return GatewayConfig(request_log_size=2)

    def test_the_log_keeps_only_the_most_recent_requests(self, gateway):
        for text in ("a", "b", "c"):
            embed(gateway, {"input": text, "model": SMALL})

        assert [record.body_json()["input"] for record in gateway.requests()] == ["b", "c"]
