"""OrqEmbeddings in LangChain against the local orq gateway: no key, no network."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_classic.embeddings import CacheBackedEmbeddings
from langchain_core.stores import InMemoryByteStore
from langchain_core.vectorstores import InMemoryVectorStore
from langchain_tests.integration_tests import EmbeddingsIntegrationTests

from langchain_orq import OrqEmbeddings
from orq_embeddings.demo import QUESTIONS, load_corpus

MODEL = "openai/text-embedding-3-small"
CORPUS = load_corpus()


class TestOrqEmbeddingsStandardIntegration(EmbeddingsIntegrationTests):
    """LangChain's standard integration suite, unmodified, pointed at the gateway by env var."""

    @pytest.fixture(autouse=True)
    def _on_the_local_gateway(self, orq_gateway, monkeypatch):
        monkeypatch.setenv("ORQ_BASE_URL", orq_gateway.base_url)
        monkeypatch.delenv("ORQ_API_KEY", raising=False)

    @property
    def embeddings_class(self) -> type[OrqEmbeddings]:
        return OrqEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model": MODEL}


@pytest.fixture
def embeddings(orq_gateway):
    return OrqEmbeddings(model=MODEL, base_url=orq_gateway.base_url)


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


def test_orq_options_arrive_in_the_router_dialect(orq_gateway):
    OrqEmbeddings(model=MODEL, base_url=orq_gateway.base_url, orq=OPTIONS).embed_query("hi")
    (request,) = orq_gateway.requests()
    body = request.body_json()
    assert request.path == "/v2/router/embeddings"
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
