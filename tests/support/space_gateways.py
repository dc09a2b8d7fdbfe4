"""Two local gateways for the vector-space scenarios (tests/stores/scenarios.py), per session.

Import the fixture into a test module or conftest: ``from tests.support.space_gateways import
space_urls``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orq_embeddings.gateway import GatewayConfig, LocalGateway
from orq_embeddings.gateway.faults import FaultSet
from tests.support.space_scenarios import PRIMARY_DOWN, Urls


@pytest.fixture(scope="session")
def space_urls() -> Iterator[Urls]:
    """A gateway where every model serves, and one where the primary model is down."""
    down = GatewayConfig(faults=FaultSet(provider=(PRIMARY_DOWN,)))
    with LocalGateway() as up_gateway, LocalGateway(down) as down_gateway:
        yield Urls(up=up_gateway.base_url, down=down_gateway.base_url)
