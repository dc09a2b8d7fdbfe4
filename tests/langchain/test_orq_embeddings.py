"""OrqEmbeddings as a LangChain user meets it, over real sockets on 127.0.0.1."""

from __future__ import annotations

import pickle

import pytest
from pydantic import ValidationError

from langchain_orq import OrqEmbeddings
from orq_embeddings import ConfigurationError
from tests.support.configuration_mistakes import (
    MISTAKES,
    MODEL,
    assert_adapter_says_what_the_core_says,
)
from tests.support.leaks import FAKE_KEY
from tests.support.scripted_server import after, embedding_reply, vector_for

KEY = FAKE_KEY
TEXTS = [f"chunk {i} of a long document" for i in range(30)]


@pytest.fixture
def embeddings(server):
    return OrqEmbeddings(
        model="openai/text-embedding-3-small",
        base_url=server.base_url,
        api_key=KEY,
        chunk_size=7,
        max_concurrency=3,
    )


def test_embed_documents_returns_one_vector_per_text_in_order(embeddings, server):
    assert embeddings.embed_documents(TEXTS) == [vector_for(t) for t in TEXTS]
    assert sorted(len(body["input"]) for body in server.bodies()) == [2, 7, 7, 7, 7]


async def test_aembed_documents_returns_one_vector_per_text_in_order(embeddings):
    assert await embeddings.aembed_documents(TEXTS) == [vector_for(t) for t in TEXTS]


def test_embed_query_and_aembed_query_agree(embeddings):
    import asyncio

    assert embeddings.embed_query("q") == asyncio.run(embeddings.aembed_query("q"))
    assert embeddings.embed_query("q") == vector_for("q")


def test_chunk_size_and_max_concurrency_bound_the_requests(server):
    server.default = after(0.02, embedding_reply())
    OrqEmbeddings(
        model="m", base_url=server.base_url, chunk_size=2, max_concurrency=2
    ).embed_documents(TEXTS)
    assert server.peak_in_flight == 2
    assert max(len(body["input"]) for body in server.bodies()) == 2


def test_every_setting_reaches_the_wire(server):
    OrqEmbeddings(
        model="openai/text-embedding-3-small",
        base_url=server.base_url,
        dimensions=8,
        encoding_format="float",
        user="u-1",
        default_headers={"X-Team": "search"},
        orq={
            "fallbacks": [{"model": "openai/text-embedding-3-large"}],
            "retry": {"count": 2, "on_codes": [429]},
            "cache": {"ttl": 600},
            "load_balancer": [{"model": "openai/text-embedding-3-small", "weight": 1}],
            "timeout": {"call_timeout": 5000},
            "identity": {"id": "u-1"},
            "name": "rag",
        },
    ).embed_query("hello")
    (request,) = server.requests
    assert request.headers["x-team"] == "search"
    assert request.json() == {
        "input": ["hello"],
        "model": "openai/text-embedding-3-small",
        "encoding_format": "float",
        "dimensions": 8,
        "user": "u-1",
        "name": "rag",
        "fallbacks": [{"model": "openai/text-embedding-3-large"}],
        "retry": {"count": 2, "on_codes": [429]},
        "cache": {"type": "exact_match", "ttl": 600},
        "load_balancer": {
            "type": "weight_based",
            "models": [{"model": "openai/text-embedding-3-small", "weight": 1.0}],
        },
        "timeout": {"call_timeout": 5000},
        "orq": {"identity": {"id": "u-1"}},
    }


def test_the_gateway_base_url_speaks_the_gateway_dialect(server):
    OrqEmbeddings(
        model="m",
        base_url=f"{server.origin}/v2/gateway",
        orq={"identity": {"id": "u-1"}, "name": "rag"},
    ).embed_query("hello")
    (request,) = server.requests
    assert request.path == "/v2/gateway/embeddings"
    assert request.json()["orq"] == {"name": "rag", "contact": {"id": "u-1"}}


def test_timeout_is_accepted_as_the_name_openai_users_know(server):
    assert OrqEmbeddings(model="m", base_url=server.base_url, timeout=5).request_timeout == 5


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"chunksize": 10}, "chunksize"),
        ({"openai_api_key": "x"}, "openai_api_key"),
        ({"chunk_size": 0}, "chunk_size"),
        ({"orq": {"retry": {"count": 9}}}, "orq.retry.count"),
    ],
)
def test_unknown_or_invalid_arguments_are_a_clear_error(server, kwargs, named):
    with pytest.raises(ValidationError, match=named):
        OrqEmbeddings(model="m", base_url=server.base_url, **kwargs)


def test_a_missing_key_for_orq_ai_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("ORQ_API_KEY", raising=False)
    monkeypatch.delenv("ORQ_BASE_URL", raising=False)
    with pytest.raises(ValidationError, match="no orq.ai API key"):
        OrqEmbeddings(model="openai/text-embedding-3-small")


def test_with_orq_options_is_a_tenant_copy_sharing_the_pool(embeddings, server):
    tenant = embeddings.with_orq_options(identity={"id": "tenant-42"}, name="search")
    tenant.embed_query("q")
    embeddings.embed_query("q")
    tenant_body, base_body = server.bodies()
    assert tenant_body["orq"] == {"identity": {"id": "tenant-42"}}
    assert tenant_body["name"] == "search"
    assert "orq" not in base_body
    assert tenant.orq is not None
    assert tenant.orq.identity is not None
    assert tenant.client._resources is embeddings.client._resources


def test_progress_bar_advances_per_batch_when_asked(server, capsys):
    OrqEmbeddings(
        model="m", base_url=server.base_url, chunk_size=10, show_progress_bar=True
    ).embed_documents(TEXTS)
    shown = capsys.readouterr().err
    assert "Embedding" in shown
    assert "30/30" in shown


async def test_progress_bar_advances_in_async_too(server, capsys):
    await OrqEmbeddings(
        model="m", base_url=server.base_url, chunk_size=10, show_progress_bar=True
    ).aembed_documents(TEXTS)
    assert "30/30" in capsys.readouterr().err


def test_no_progress_bar_by_default(embeddings, capsys):
    embeddings.embed_documents(TEXTS)
    assert capsys.readouterr().err == ""


def test_a_pickle_round_trip_gives_a_working_object(embeddings, server):
    clone = pickle.loads(pickle.dumps(embeddings))
    assert clone.embed_documents(TEXTS[:3]) == [vector_for(t) for t in TEXTS[:3]]
    assert server.requests[-1].headers["authorization"] == f"Bearer {KEY}"


def test_requests_follow_fields_changed_after_construction(embeddings, server):
    embeddings.dimensions = 8
    embeddings.model_copy(update={"user": "u-9"}).embed_query("b")
    embeddings.embed_query("a")
    copied, assigned = server.bodies()
    assert copied["user"] == "u-9"
    assert assigned["dimensions"] == 8
    assert "user" not in assigned


@pytest.mark.parametrize("mistake", MISTAKES.values(), ids=MISTAKES.keys())
def test_a_configuration_mistake_carries_the_cores_message(monkeypatch, mistake):
    monkeypatch.delenv("ORQ_API_KEY", raising=False)
    assert_adapter_says_what_the_core_says(
        lambda **settings: OrqEmbeddings(model=MODEL, **settings), mistake
    )


def test_with_orq_options_refuses_bad_options_with_a_configuration_error(embeddings):
    with pytest.raises(ConfigurationError, match=r"^orq.retry.count: must be from 0 to 5, got 9$"):
        embeddings.with_orq_options(retry={"count": 9})


def test_a_misspelled_setting_is_refused_naming_the_one_meant():
    with pytest.raises(ValidationError) as refused:
        OrqEmbeddings(
            model="openai/text-embedding-3-small",
            base_url="http://127.0.0.1:9/v2/router",
            chunksize=10,
        )
    said = str(refused.value)
    assert "there is no setting 'chunksize'" in said
    assert "(did you mean 'chunk_size'?)" in said
