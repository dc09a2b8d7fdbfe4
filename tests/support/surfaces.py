"""The six ways a user reaches orq: the core client and both adapters, each sync and async.

Every reliability property is stated once and checked through each surface, because each adapter
maps its own settings onto the core and could map one wrongly. Only the core accepts injected
waits; an adapter is observed from outside (requests at the server, the wall clock).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import pytest

from langchain_orq import OrqEmbeddings
from llama_index_orq import OrqEmbedding
from orq_embeddings import OrqEmbeddingsClient, RetryPolicy
from orq_embeddings.adapter_base import SAME_NAMED_SETTINGS
from orq_embeddings.config import DEFAULT_MAX_RESPONSE_BYTES
from orq_embeddings.gateway import GatewayConfig, ModelSpec
from tests.support.clients import RecordedWaits
from tests.support.leaks import FAKE_KEY

#: A recognisable fake key: any text that contains it is a leak.
KEY = FAKE_KEY
#: A small model of the local gateway: vectors deterministic per text, cheap to send and compare.
MODEL = "local/hashing-64"
DIMENSIONS = 64
HASHING_64 = ModelSpec(id=MODEL, dimensions=DIMENSIONS)
#: What the core's retries wait with ``random()`` pinned to 0.5: the default policy's
#: 0.5 s doubling, shortened by half of its 25% jitter.
PINNED_RANDOM = 0.5


@dataclass(frozen=True)
class Call:
    """One call's settings, spelled once and mapped onto each surface's own parameter names."""

    base_url: str
    api_key: str | None = KEY
    max_retries: int = 2
    timeout: float = 1.0
    batch_size: int = 512
    max_batch_bytes: int = 750_000
    max_concurrency: int = 4
    orq: dict[str, Any] | None = None
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    default_headers: dict[str, str] | None = None
    #: Any other setting every surface names alike, passed on as given.
    more: Mapping[str, Any] = field(default_factory=dict)

    def same_named(self) -> dict[str, Any]:
        """The settings every surface takes under the same name, ``more`` included."""
        named = {each.name: getattr(self, each.name) for each in fields(self)}
        return {
            **{name: value for name, value in named.items() if name in SAME_NAMED_SETTINGS},
            **self.more,
        }


def core_client(call: Call, waits: RecordedWaits | None = None) -> OrqEmbeddingsClient:
    """The core client for ``call``; with ``waits``, its retries record their waits instead."""
    timing: dict[str, Any] = {}
    if waits is not None:
        timing = {
            "retry_policy": RetryPolicy(max_retries=call.max_retries, random=lambda: PINNED_RANDOM),
            "sleep": waits.sleep,
            "async_sleep": waits.async_sleep,
        }
    return OrqEmbeddingsClient(
        MODEL, timeout=call.timeout, batch_size=call.batch_size, **call.same_named(), **timing
    )


def langchain_embeddings(call: Call) -> OrqEmbeddings:
    return OrqEmbeddings(
        model=MODEL, timeout=call.timeout, chunk_size=call.batch_size, **call.same_named()
    )


def llama_index_embedding(call: Call) -> OrqEmbedding:
    return OrqEmbedding(
        model_name=MODEL,
        timeout=call.timeout,
        embed_batch_size=call.batch_size,
        **call.same_named(),
    )


Texts = Sequence[str]
Vectors = list[list[float]]


@dataclass(frozen=True)
class Surface:
    """One way in: ``embed(call, texts)`` embeds a list of texts and closes what it opened.

    Attributes:
        records_waits: the retries' waits are recorded in ``waits``, not slept; only the core
            accepts that, so an adapter's waits really pass and show on the wall clock.
    """

    id: str
    run: Callable[[Call, Texts, RecordedWaits], Vectors]
    records_waits: bool
    waits: RecordedWaits = field(default_factory=RecordedWaits)

    def embed(self, call: Call, texts: Texts) -> Vectors:
        return self.run(call, texts, self.waits)


def _core_sync(call: Call, texts: Texts, waits: RecordedWaits) -> Vectors:
    with core_client(call, waits) as client:
        return client.embed(texts).vectors


def _core_async(call: Call, texts: Texts, waits: RecordedWaits) -> Vectors:
    async def embed() -> Vectors:
        async with core_client(call, waits) as client:
            return (await client.aembed(texts)).vectors

    return asyncio.run(embed())


def _langchain_sync(call: Call, texts: Texts, waits: RecordedWaits) -> Vectors:
    embeddings = langchain_embeddings(call)
    try:
        return embeddings.embed_documents(list(texts))
    finally:
        embeddings.client.close()


def _langchain_async(call: Call, texts: Texts, waits: RecordedWaits) -> Vectors:
    embeddings = langchain_embeddings(call)
    try:
        return asyncio.run(embeddings.aembed_documents(list(texts)))
    finally:
        embeddings.client.close()


def _llama_index_sync(call: Call, texts: Texts, waits: RecordedWaits) -> Vectors:
    embedding = llama_index_embedding(call)
    try:
        return embedding.get_text_embedding_batch(list(texts))
    finally:
        embedding.client.close()


def _llama_index_async(call: Call, texts: Texts, waits: RecordedWaits) -> Vectors:
    embedding = llama_index_embedding(call)
    try:
        return asyncio.run(embedding.aget_text_embedding_batch(list(texts)))
    finally:
        embedding.client.close()


SURFACE_RUNNERS: dict[str, tuple[Callable[[Call, Texts, RecordedWaits], Vectors], bool]] = {
    "core-sync": (_core_sync, True),
    "core-async": (_core_async, True),
    "langchain-sync": (_langchain_sync, False),
    "langchain-async": (_langchain_async, False),
    "llama-index-sync": (_llama_index_sync, False),
    "llama-index-async": (_llama_index_async, False),
}


# Fixtures, imported by the conftest of each suite that runs on every surface.


@pytest.fixture(params=list(SURFACE_RUNNERS))
def surface(request: pytest.FixtureRequest) -> Surface:
    run, records_waits = SURFACE_RUNNERS[request.param]
    return Surface(request.param, run, records_waits)


@pytest.fixture
def orq_gateway_config() -> GatewayConfig:
    """The suite's gateway wants the fake key, as orq.ai wants a real one."""
    return GatewayConfig(api_key=KEY, models=(HASHING_64,))
