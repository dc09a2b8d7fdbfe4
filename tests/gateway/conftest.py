"""Fixtures for the gateway tests: a gateway on a stepped clock (see support/gateway_http)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orq_embeddings.gateway import GatewayConfig, GatewayPool, LocalGateway
from tests.support.gateway_http import HTTP, SteppedClock


@pytest.fixture(scope="session", autouse=True)
def _close_http_client() -> Iterator[None]:
    yield
    HTTP.close()


#: One clock for every shared gateway; each test starts it from the same time.
_CLOCK = SteppedClock()


@pytest.fixture
def clock() -> SteppedClock:
    _CLOCK.now = SteppedClock().now
    return _CLOCK


@pytest.fixture
def config() -> GatewayConfig:
    """The gateway's settings; a test module or class overrides this to change them."""
    return GatewayConfig(seed=1)


@pytest.fixture(scope="session")
def _gateway_pool() -> Iterator[GatewayPool]:
    pool = GatewayPool(clock=_CLOCK)
    yield pool
    pool.stop()


@pytest.fixture
def gateway(config: GatewayConfig, clock: SteppedClock, _gateway_pool: GatewayPool) -> LocalGateway:
    """A gateway as it was when it started, on the stepped clock."""
    return _gateway_pool.get(config)
