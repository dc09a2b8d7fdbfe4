"""LocalGateway and the pytest fixture: start, serve, stop cleanly, in a thread or a process."""

from __future__ import annotations

import socket
import threading

import httpx
import pytest

from orq_embeddings.gateway import GatewayConfig, GatewayPool, LocalGateway, ProviderFault
from tests.support.gateway_http import SMALL, embed


def test_picks_a_free_port_and_exposes_both_base_urls():
    with LocalGateway() as gateway:
        assert gateway.port > 0
        assert gateway.base_url == f"http://127.0.0.1:{gateway.port}/v2/router"
        assert gateway.gateway_base_url == f"http://127.0.0.1:{gateway.port}/v2/gateway"


def test_stop_leaves_no_thread_and_frees_the_port():
    threads_before = set(threading.enumerate())
    with LocalGateway() as gateway:
        port = gateway.port
        assert embed(gateway, {"input": "x", "model": SMALL}).status_code == 200

    assert set(threading.enumerate()) <= threads_before
    with socket.create_server(("127.0.0.1", port)):
        pass


def test_a_stopped_gateway_refuses_connections():
    with LocalGateway() as gateway:
        url = f"{gateway.base_url}/embeddings"

    with pytest.raises(httpx.ConnectError):
        httpx.post(url, json={"input": "x", "model": SMALL})


def test_a_clock_cannot_be_given_to_a_separate_process():
    with pytest.raises(ValueError, match="clock"):
        LocalGateway(clock=lambda: 0.0, separate_process=True)


def test_a_gateway_in_a_separate_process_is_steered_like_one_in_a_thread():
    config = GatewayConfig(api_key="sk-process")
    with LocalGateway(config, separate_process=True) as gateway:
        gateway.inject(ProviderFault(model=SMALL, status=503))
        response = embed(
            gateway,
            {"input": "x", "model": SMALL},
            headers={"Authorization": "Bearer sk-process"},
        )

        assert response.status_code == 503
        assert gateway.counters().attempts_by_model == {SMALL: 3}


def test_a_pool_hands_out_one_gateway_per_config_reset_before_each_use():
    pool = GatewayPool()
    try:
        first = pool.get(GatewayConfig())
        embed(first, {"input": "x", "model": SMALL})

        again = pool.get(GatewayConfig())
        other = pool.get(GatewayConfig(max_inputs=5))

        assert again is first
        assert again.requests() == []
        assert other is not first
    finally:
        pool.stop()


def test_the_pytest_fixture_serves_a_gateway(orq_gateway):
    assert embed(orq_gateway, {"input": "x", "model": SMALL}).status_code == 200


class TestFixtureConfig:
    @pytest.fixture
    def orq_gateway_config(self):
        return GatewayConfig(api_key="sk-fixture")

    def test_overriding_the_config_fixture_configures_the_gateway(self, orq_gateway):
        assert embed(orq_gateway, {"input": "x", "model": SMALL}).status_code == 401
