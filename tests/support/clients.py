"""Clients for tests on the scripted server: recorded waits, a client factory, sync/async calls.

Fixtures live here, not in a conftest, so that any test package can import them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from orq_embeddings import OrqEmbeddingsClient, RetryPolicy
from tests.support.scripted_server import ScriptedServer


class RecordedWaits(list):
    """Stands in for time.sleep and asyncio.sleep: records each wait, waits for none."""

    def sleep(self, seconds: float) -> None:
        self.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def waits() -> RecordedWaits:
    return RecordedWaits()


@pytest.fixture
def make_client(server: ScriptedServer, waits: RecordedWaits) -> Iterator[Callable[..., Any]]:
    """Clients on the scripted server whose retries wait on an exact, recorded schedule."""
    made: list[OrqEmbeddingsClient] = []

    def make(**overrides: Any) -> OrqEmbeddingsClient:
        settings: dict[str, Any] = {
            "model": "openai/text-embedding-3-small",
            "base_url": server.base_url,
            "retry_policy": RetryPolicy(
                max_retries=overrides.pop("max_retries", 2), random=lambda: 0.5
            ),
            "sleep": waits.sleep,
            "async_sleep": waits.async_sleep,
        }
        client = OrqEmbeddingsClient(**{**settings, **overrides})
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture(params=["sync", "async"])
def embed(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """``embed(client, inputs, **kwargs)``: the sync call, or the async one on a fresh loop."""

    def call(client: OrqEmbeddingsClient, inputs: Any, **kwargs: Any) -> Any:
        if request.param == "sync":
            return client.embed(inputs, **kwargs)
        return asyncio.run(client.aembed(inputs, **kwargs))

    return call
