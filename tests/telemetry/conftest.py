"""Fixtures for the telemetry suite: the gateway it runs against and the six surfaces.

The SDK itself is the ``otel`` fixture of tests/conftest.py (tests/support/otel.py).
"""

from __future__ import annotations

import pytest

from orq_embeddings.gateway import GatewayConfig
from tests.support.surfaces import HASHING_64, KEY, SURFACE_RUNNERS, Surface


@pytest.fixture
def orq_gateway_config() -> GatewayConfig:
    """The suite's gateway wants the fake key, as orq.ai wants a real one."""
    return GatewayConfig(api_key=KEY, models=(HASHING_64,))


@pytest.fixture(params=list(SURFACE_RUNNERS))
def surface(request: pytest.FixtureRequest) -> Surface:
    run, records_waits = SURFACE_RUNNERS[request.param]
    return Surface(request.param, run, records_waits)
