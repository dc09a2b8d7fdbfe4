"""OrqEmbedding in LlamaIndex against the local orq gateway: indexes, pipelines, retries.

Every test that reaches the router runs against both ``/v2/router`` and ``/v3/router``: orq's
newer router is a first-class base URL.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from urllib.parse import urlsplit

import llama_index.core
import pytest
from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.ingestion import IngestionPipeline
from llama_index.core.node_parser import SentenceSplitter

from llama_index_orq import OrqEmbedding
from orq_embeddings import AuthenticationError
from orq_embeddings.gateway import ResponseFault
from orq_embeddings_demo.corpus import QUESTIONS, load_corpus

MODEL = "openai/text-embedding-3-small"
CORPUS = load_corpus()
DOCUMENTS = [Document(text=p.text, metadata={"id": p.id}, id_=p.id) for p in CORPUS]


@pytest.fixture(params=["v2/router", "v3/router"])
def router_url(request, orq_gateway):
    """The local gateway's router base URL, once per router version."""
    return f"{orq_gateway.url}/{request.param}"


@pytest.fixture
def embed_model(router_url):
    return OrqEmbedding(model_name=MODEL, base_url=router_url, embed_batch_size=8)


def assert_retrieves_answers(index):
    retriever = index.as_retriever(similarity_top_k=1)
    for question, answer in QUESTIONS.items():
        (best,) = retriever.retrieve(question)
        assert best.node.metadata["id"] == answer, question


def test_vector_store_index_retrieves_the_right_node(embed_model):
    assert_retrieves_answers(VectorStoreIndex.from_documents(DOCUMENTS, embed_model=embed_model))


def test_settings_embed_model_is_used(embed_model, orq_gateway):
    previous = Settings._embed_model
    Settings.embed_model = embed_model
    try:
        assert_retrieves_answers(VectorStoreIndex.from_documents(DOCUMENTS))
    finally:
        Settings._embed_model = previous
    assert orq_gateway.counters().requests > 0


def test_use_async_runs_on_a_fresh_loop_and_retrieves_the_right_node(embed_model, orq_gateway):
    index = VectorStoreIndex.from_documents(DOCUMENTS, embed_model=embed_model, use_async=True)
    assert_retrieves_answers(index)
    assert orq_gateway.counters().peak_in_flight <= embed_model.max_concurrency


async def test_use_async_inside_a_running_loop(embed_model):
    # LlamaIndex runs the async work on a fresh loop in another thread when one is running, as
    # in Jupyter; the client must not carry a connection from one loop into the other.
    index = await asyncio.to_thread(
        VectorStoreIndex.from_documents, DOCUMENTS, embed_model=embed_model, use_async=True
    )
    assert_retrieves_answers(index)


def test_show_progress_shows_a_bar(embed_model, capsys):
    VectorStoreIndex.from_documents(DOCUMENTS, embed_model=embed_model, show_progress=True)
    assert "Generating embeddings" in capsys.readouterr().err


def pipeline(embed_model):
    return IngestionPipeline(
        transformations=[SentenceSplitter(chunk_size=64, chunk_overlap=0), embed_model]
    )


def assert_embedded(nodes, embed_model):
    assert len(nodes) >= len(CORPUS)
    for node in nodes[:5]:
        assert node.embedding == embed_model.get_text_embedding(node.get_content("embed"))


def test_ingestion_pipeline_runs(embed_model):
    assert_embedded(pipeline(embed_model).run(documents=DOCUMENTS), embed_model)


async def test_ingestion_pipeline_runs_async(embed_model):
    assert_embedded(await pipeline(embed_model).arun(documents=DOCUMENTS), embed_model)


def test_ingestion_pipeline_runs_in_two_worker_processes(embed_model, monkeypatch):
    # The workers unpickle SentenceSplitter's tiktoken encoder, which fetches its BPE file from
    # the internet unless TIKTOKEN_CACHE_DIR points at a copy; llama-index ships one and sets the
    # variable only while it builds its own tokenizer, so spawned workers must inherit it.
    monkeypatch.setenv(
        "TIKTOKEN_CACHE_DIR",
        str(Path(llama_index.core.__file__).parent / "_static" / "tiktoken_cache"),
    )
    nodes = pipeline(embed_model).run(documents=DOCUMENTS, num_workers=2)
    assert_embedded(nodes, embed_model)


def test_orq_options_reach_the_gateway(orq_gateway, router_url):
    OrqEmbedding(
        model_name=MODEL,
        base_url=router_url,
        orq={"name": "ingest", "cache": {"ttl": 60}, "identity": {"id": "team-search"}},
    ).get_text_embedding_batch(["a", "b"])
    (request,) = orq_gateway.requests()
    assert request.path == f"{urlsplit(router_url).path}/embeddings"
    assert request.body_json()["name"] == "ingest"
    assert request.cache == "miss"
    assert "team-search" in orq_gateway.identities()


def test_a_429_is_retried(embed_model, orq_gateway):
    orq_gateway.inject(ResponseFault(status=429, retry_after=0, times=1))
    assert embed_model.get_query_embedding("q") == embed_model.get_query_embedding("q")
    assert orq_gateway.counters().responses_by_status == {429: 1, 200: 2}


def test_a_401_is_not_retried(orq_gateway, router_url):
    orq_gateway.inject(ResponseFault(status=401, times=5))
    model = OrqEmbedding(model_name=MODEL, base_url=router_url)
    with pytest.raises(AuthenticationError):
        model.get_query_embedding("q")
    assert orq_gateway.counters().requests == 1


def test_calls_from_many_threads_share_one_limit(orq_gateway, router_url):
    model = OrqEmbedding(
        model_name=MODEL, base_url=router_url, embed_batch_size=2, max_concurrency=3
    )
    texts = [p.text for p in CORPUS]
    expected = model.get_text_embedding_batch(texts)
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(model.get_text_embedding_batch(texts)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 4
    assert orq_gateway.counters().peak_in_flight <= 3


def test_the_retry_cap_and_budget_are_fields_that_reach_the_client(router_url):
    model = OrqEmbedding(
        model_name=MODEL, base_url=router_url, max_retry_after=5, retry_wait_budget=7
    )
    assert (model.client.config.max_retry_after, model.client.config.retry_wait_budget) == (5, 7)
    assert model.client.retry_policy.max_retry_after == 5
