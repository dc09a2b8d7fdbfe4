"""pytest fixtures for a local orq gateway, registered as a pytest plugin by ``orq-embeddings``.

``orq_gateway`` is a fresh gateway per test, listening on a free port of 127.0.0.1::

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

import pytest

from .config import GatewayConfig
from .local import LocalGateway


@pytest.fixture
def orq_gateway_config() -> GatewayConfig:
    """The settings ``orq_gateway`` starts with; override it to change them."""
    return GatewayConfig()


@pytest.fixture
def orq_gateway(orq_gateway_config: GatewayConfig) -> Iterator[LocalGateway]:
    """A local orq gateway for one test, stopped after it."""
    with LocalGateway(orq_gateway_config) as gateway:
        yield gateway
