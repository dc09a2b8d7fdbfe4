"""Fixtures for the reliability suite: the gateway it runs against, the six surfaces, the stage
where faults are provoked, and the reference vectors every result is held to."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import pytest

from orq_embeddings.gateway import GatewayConfig, LocalGateway
from tests.support.clients import RecordedWaits, embed, make_client, waits  # noqa: F401
from tests.support.stage import Reference, Stage
from tests.support.surfaces import HASHING_64, orq_gateway_config, surface  # noqa: F401


@pytest.fixture(scope="session")
def reference() -> Iterator[Reference]:
    with LocalGateway(GatewayConfig(models=(HASHING_64,))) as gateway:
        truth = Reference(gateway)
        yield truth
        truth.close()


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port of 127.0.0.1 that refuses connections: bound, so no one takes it, not listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def stage(orq_gateway, server, closed_port, reference, caplog) -> Stage:
    caplog.set_level(logging.INFO, logger="orq_embeddings")
    return Stage(orq_gateway, server, closed_port, reference, caplog)
