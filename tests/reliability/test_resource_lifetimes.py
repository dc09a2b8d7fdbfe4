"""An adapter whose fields change builds a new core client; the old one must not linger.

LangChain's and LlamaIndex's embeddings are pydantic models users change after construction
(``embed_model.embed_batch_size = 64``); each change makes a new core client on the next call.
The old one's worker threads and pooled sockets are released once nothing shares it, so a
process that tunes a field in a loop stays flat; copies made by ``with_orq_options`` or
``model_copy`` share their client and keep working whatever the original does.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from langchain_orq import OrqEmbeddings
from llama_index_orq import OrqEmbedding
from tests.support.scripted_server import ScriptedServer, vector_for
from tests.support.surfaces import KEY, MODEL

TEXTS = [f"passage {i}" for i in range(8)]
EXPECTED = [vector_for(text) for text in TEXTS]
CHANGES = 30
MAX_CONCURRENCY = 4


def _langchain(server: ScriptedServer) -> Any:
    return OrqEmbeddings(
        model=MODEL, api_key=KEY, base_url=server.base_url, max_concurrency=MAX_CONCURRENCY
    )


def _llama_index(server: ScriptedServer) -> Any:
    return OrqEmbedding(
        model_name=MODEL, api_key=KEY, base_url=server.base_url, max_concurrency=MAX_CONCURRENCY
    )


def _embed_langchain(model: Any, texts: list[str]) -> list[list[float]]:
    return model.embed_documents(texts)


def _embed_llama_index(model: Any, texts: list[str]) -> list[list[float]]:
    return model.get_text_embedding_batch(texts)


ADAPTERS = {
    "langchain": (_langchain, "chunk_size", _embed_langchain),
    "llama_index": (_llama_index, "embed_batch_size", _embed_llama_index),
}

Make = Callable[[ScriptedServer], Any]


def _client_threads(bound: int, seconds: float = 2.0) -> list[str]:
    """The client's live threads (the scripted server's are not counted), once at most
    ``bound`` or after ``seconds``: a released pool's threads are told to stop, not joined, so
    they may take a moment to end."""
    deadline = time.monotonic() + seconds
    while True:
        names = [t.name for t in threading.enumerate() if t.name.startswith("orq-embeddings")]
        if len(names) <= bound or time.monotonic() > deadline:
            return names
        time.sleep(0.02)


@pytest.fixture(params=list(ADAPTERS))
def adapter(request: pytest.FixtureRequest) -> tuple[Make, str, Callable[..., Any]]:
    return ADAPTERS[request.param]


def test_changing_a_field_again_and_again_keeps_threads_and_sockets_flat(adapter, server):
    make, batch_field, embed = adapter
    model = make(server)

    for change in range(CHANGES):
        setattr(model, batch_field, 1 + change % 2)  # 1, 2, 1, ...: a new client each time
        assert embed(model, TEXTS) == EXPECTED  # 8 or 4 batches, 4 at a time
    gc.collect()

    # One client's worth, whatever the number of changes: its worker threads (and the
    # process's deadline watchdog), its pooled connections.
    assert len(_client_threads(MAX_CONCURRENCY + 1)) <= MAX_CONCURRENCY + 1
    assert server.open_connections() <= MAX_CONCURRENCY


def test_copies_sharing_a_client_keep_working_after_the_original_rebuilds(adapter, server):
    make, batch_field, embed = adapter
    model = make(server)
    tenant = model.with_orq_options(identity={"id": "tenant-42"})
    copy = model.model_copy()
    assert embed(tenant, TEXTS) == embed(copy, TEXTS) == EXPECTED

    setattr(model, batch_field, 3)
    assert embed(model, TEXTS) == EXPECTED
    gc.collect()

    assert embed(tenant, TEXTS) == EXPECTED
    assert embed(copy, TEXTS) == EXPECTED
    assert server.requests[-1].json()["input"] == TEXTS  # the copy kept its own batch size
    assert any(request.json().get("orq") for request in server.requests)
