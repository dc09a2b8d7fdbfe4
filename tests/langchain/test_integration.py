"""OrqEmbeddings in LangChain against the local orq gateway: no key, no network.

Every test that reaches the router runs against both ``/v2/router`` and ``/v3/router``: orq's
newer router is a first-class base URL.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from langchain_classic.embeddings import CacheBackedEmbeddings
from langchain_core.stores import InMemoryByteStore
from langchain_core.vectorstores import InMemoryVectorStore
from langchain_tests.integration_tests import EmbeddingsIntegrationTests

from langchain_orq import OrqEmbeddings
from orq_embeddings_demo.corpus import QUESTIONS, load_corpus

MODEL = "openai/text-embedding-3-small"
CORPUS = load_corpus()


@pytest.fixture(params=["v2/router", "v3/router"])
def router_url(request, orq_gateway):
    """The local gateway's router base URL, once per router version."""
    return f"{orq_gateway.url}/{request.param}"


class TestOrqEmbeddingsStandardIntegration(EmbeddingsIntegrationTests):
    """LangChain's standard integration suite, unmodified, pointed at the gateway by env var."""

    @pytest.fixture(autouse=True)
    def _on_the_local_gateway(self, router_url, monkeypatch):
        monkeypatch.setenv("ORQ_BASE_URL", router_url)
        monkeypatch.delenv("ORQ_API_KEY", raising=False)

    @property
    def embeddings_class(self) -> type[OrqEmbeddings]:
        return OrqEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model": MODEL}


@pytest.fixture
def embeddings(router_url):
    return OrqEmbeddings(model=MODEL, base_url=router_url)


@pytest.fixture
def store(embeddings):
    return InMemoryVectorStore.from_texts(
        [p.text for p in CORPUS], embeddings, metadatas=[{"id": p.id} for p in CORPUS]
    )


@pytest.mark.parametrize(("question", "answer"), QUESTIONS.items())
def test_in_memory_vector_store_retrieves_the_passage_that_answers(store, question, answer):
    (best,) = store.similarity_search(question, k=1)
    assert best.metadata["id"] == answer


async def test_async_retrieval_agrees_with_sync(store):
    for question, answer in QUESTIONS.items():
        (best,) = await store.asimilarity_search(question, k=1)
        assert best.metadata["id"] == answer


def test_cache_backed_embeddings_embed_each_text_once(embeddings, orq_gateway):
    cached = CacheBackedEmbeddings.from_bytes_store(
        embeddings, InMemoryByteStore(), namespace=MODEL, key_encoder="sha256"
    )
    texts = [p.text for p in CORPUS]
    first = cached.embed_documents(texts)
    sent = orq_gateway.counters().requests
    again = cached.embed_documents(texts)
    assert again == first
    assert orq_gateway.counters().requests == sent
    assert first == embeddings.embed_documents(texts)


OPTIONS = {
    "name": "rag-ingest",
    "fallbacks": [{"model": "openai/text-embedding-3-large"}],
    "retry": {"count": 2, "on_codes": [503]},
    "cache": {"type": "exact_match", "ttl": 600},
    "timeout": {"call_timeout": 5000},
    "identity": {"id": "user-7", "display_name": "Ada"},
}


def test_orq_options_arrive_in_the_router_dialect(orq_gateway, router_url):
    OrqEmbeddings(model=MODEL, base_url=router_url, orq=OPTIONS).embed_query("hi")
    (request,) = orq_gateway.requests()
    body = request.body_json()
    assert request.path == f"{urlsplit(router_url).path}/embeddings"
    assert body["name"] == "rag-ingest"
    assert body["fallbacks"] == [{"model": "openai/text-embedding-3-large"}]
    assert body["retry"] == {"count": 2, "on_codes": [503]}
    assert body["orq"] == {"identity": {"id": "user-7", "display_name": "Ada"}}
    assert request.cache == "miss"
    assert orq_gateway.identities()["user-7"].display_name == "Ada"


def test_orq_options_arrive_in_the_gateway_dialect(orq_gateway):
    OrqEmbeddings(model=MODEL, base_url=orq_gateway.gateway_base_url, orq=OPTIONS).embed_query("hi")
    (request,) = orq_gateway.requests()
    body = request.body_json()
    assert request.path == "/v2/gateway/embeddings"
    assert set(body) == {"input", "model", "encoding_format", "orq"}
    assert body["orq"]["contact"] == {"id": "user-7", "display_name": "Ada"}
    assert body["orq"]["retry"] == {"count": 2, "on_codes": [503]}
    assert orq_gateway.identities()["user-7"].display_name == "Ada"


def test_the_retry_cap_and_budget_are_fields_that_reach_the_client(router_url):
    embeddings = OrqEmbeddings(
        model=MODEL, base_url=router_url, max_retry_after=5, retry_wait_budget=7
    )
    config = embeddings.client.config
    assert (config.max_retry_after, config.retry_wait_budget) == (5, 7)
    assert embeddings.client.retry_policy.max_retry_after == 5
