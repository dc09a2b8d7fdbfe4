"""Fixtures for the gateway's tests: a gateway on a stepped clock, and plain HTTP to reach it.

These tests speak HTTP with httpx directly, never through the project's client, so the gateway is
held to the published contract on its own.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest

from orq_embeddings.gateway import GatewayConfig, GatewayPool, LocalGateway

SMALL = "openai/text-embedding-3-small"
LARGE = "openai/text-embedding-3-large"
COHERE = "cohere/embed-english-v3.0"
MISTRAL = "mistral/mistral-embed"


#: One HTTP client for the whole suite: making one per request costs more than the request.
HTTP = httpx.Client(timeout=10)


@pytest.fixture(scope="session", autouse=True)
def _close_http_client() -> Iterator[None]:
    yield
    HTTP.close()


class SteppedClock:
    """A monotonic clock that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


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


def embed(
    gateway: LocalGateway,
    body: dict[str, Any],
    *,
    dialect: str = "v2/router",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST a body to the gateway's embeddings endpoint of a dialect."""
    return HTTP.post(f"{gateway.url}/{dialect}/embeddings", json=body, headers=headers)


def embed_raw(gateway: LocalGateway, content: bytes, **headers: str) -> httpx.Response:
    """POST raw bytes to the router endpoint."""
    return HTTP.post(f"{gateway.url}/v2/router/embeddings", content=content, headers=headers)


def vectors_of(response: httpx.Response) -> np.ndarray:
    """The response's vectors in index order, decoding base64 where it was sent."""
    items = sorted(response.json()["data"], key=lambda item: item["index"])
    rows = [
        np.frombuffer(base64.b64decode(item["embedding"]), dtype="<f4")
        if isinstance(item["embedding"], str)
        else np.asarray(item["embedding"], dtype=np.float32)
        for item in items
    ]
    return np.vstack(rows)


def error_of(response: httpx.Response) -> dict[str, str]:
    """The ``{"code", "message"}`` of an orq-style error body."""
    error: dict[str, str] = response.json()["error"]
    return error
