"""pytest fixtures for a local orq gateway, registered as a pytest plugin by ``orq-embeddings``.

``orq_gateway`` is a gateway on a free port of 127.0.0.1, as it was when it started, for each
test: the session keeps one running per config and resets it before every test, which is as good
as a fresh one and far quicker::

    def test_search_survives_a_provider_outage(orq_gateway):
        orq_gateway.inject(ProviderFault(model="openai/text-embedding-3-small", status=503))
        client = MyClient(base_url=orq_gateway.base_url, api_key="any")
        ...

To configure it (an API key, limits, faults armed from the start), override
``orq_gateway_config`` in a conftest.py::

    @pytest.fixture
    def orq_gateway_config():
        return GatewayConfig(api_key="test-key", max_inputs=96)

This module is imported by every pytest run where the package is installed, so it imports no web
server: one starts only when a test asks for the fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .config import GatewayConfig
    from .local import GatewayPool, LocalGateway


@pytest.fixture
def orq_gateway_config() -> GatewayConfig:
    """The settings ``orq_gateway`` starts with; override it to change them."""
    from .config import GatewayConfig

    return GatewayConfig()


@pytest.fixture(scope="session")
def orq_gateway_pool() -> Iterator[GatewayPool]:
    """The session's running gateways, stopped when the session ends."""
    from .local import GatewayPool

    pool = GatewayPool()
    yield pool
    pool.stop()


@pytest.fixture
def orq_gateway(orq_gateway_config: GatewayConfig, orq_gateway_pool: GatewayPool) -> LocalGateway:
    """A local orq gateway for one test: empty log, counters and cache; the config's faults only."""
    return orq_gateway_pool.get(orq_gateway_config)
