"""OrqEmbedding as a LlamaIndex user meets it, over real sockets on 127.0.0.1."""

from __future__ import annotations

import json
import pickle

import pytest
from llama_index.core.callbacks import CallbackManager, CBEventType, LlamaDebugHandler
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.storage.kvstore import SimpleKVStore
from pydantic import Field, ValidationError

from llama_index_orq import OrqEmbedding
from tests.support.configuration_mistakes import (
    MISTAKES,
    MODEL,
    assert_adapter_says_what_the_core_says,
)
from tests.support.leaks import FAKE_KEY
from tests.support.scripted_server import after, embedding_reply, vector_for

KEY = FAKE_KEY
TEXTS = [f"node {i} text" for i in range(25)]


@pytest.fixture
def embed_model(server):
    return OrqEmbedding(
        model_name="openai/text-embedding-3-small",
        base_url=server.base_url,
        api_key=KEY,
        embed_batch_size=6,
        max_concurrency=3,
    )


def test_class_name():
    assert OrqEmbedding.class_name() == "OrqEmbedding"


def test_all_six_methods_return_the_right_vectors(embed_model):
    assert embed_model._get_query_embedding("q") == vector_for("q")
    assert embed_model._get_text_embedding("t") == vector_for("t")
    assert embed_model._get_text_embeddings(TEXTS[:4]) == [vector_for(t) for t in TEXTS[:4]]


async def test_all_six_async_methods_return_the_right_vectors(embed_model):
    assert await embed_model._aget_query_embedding("q") == vector_for("q")
    assert await embed_model._aget_text_embedding("t") == vector_for("t")
    assert await embed_model._aget_text_embeddings(TEXTS[:4]) == [vector_for(t) for t in TEXTS[:4]]


def test_one_request_per_batch_of_embed_batch_size(embed_model, server):
    assert embed_model.get_text_embedding_batch(TEXTS) == [vector_for(t) for t in TEXTS]
    assert sorted(len(body["input"]) for body in server.bodies()) == [1, 6, 6, 6, 6]


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_batches_go_out_concurrently_but_never_beyond_max_concurrency(server, use_async):
    import asyncio

    server.default = after(0.03, embedding_reply())
    model = OrqEmbedding(
        model_name="m", base_url=server.base_url, embed_batch_size=1, max_concurrency=4
    )
    if use_async:
        vectors = asyncio.run(model.aget_text_embedding_batch(TEXTS))
    else:
        vectors = model.get_text_embedding_batch(TEXTS)
    assert vectors == [vector_for(t) for t in TEXTS]
    assert server.peak_in_flight == 4


def test_query_and_text_helpers_of_base_embedding_work(embed_model):
    assert embed_model.get_query_embedding("q") == vector_for("q")
    assert embed_model.get_text_embedding("t") == vector_for("t")


def test_model_and_api_base_are_accepted_as_llama_index_openai_names(server):
    model = OrqEmbedding(model="openai/text-embedding-3-small", api_base=server.base_url)
    assert model.model_name == "openai/text-embedding-3-small"
    assert model.base_url == server.base_url


def test_conflicting_alias_and_field_are_refused(server):
    with pytest.raises(ValidationError, match="either 'model_name' or 'model'"):
        OrqEmbedding(model="a/b", model_name="c/d", base_url=server.base_url)


def test_embed_batch_size_is_bounded_as_base_embedding_says(server):
    with pytest.raises(ValidationError, match="embed_batch_size"):
        OrqEmbedding(model_name="m", base_url=server.base_url, embed_batch_size=4096)


def test_orq_options_reach_the_wire(server):
    OrqEmbedding(
        model_name="m",
        base_url=server.base_url,
        dimensions=8,
        orq={"cache": {"ttl": 60}, "identity": {"id": "u-3"}},
    ).get_query_embedding("q")
    body = server.bodies()[0]
    assert body["cache"] == {"type": "exact_match", "ttl": 60}
    assert body["orq"] == {"identity": {"id": "u-3"}}
    assert body["dimensions"] == 8


def test_to_dict_and_to_json_leave_the_key_out_and_round_trip(embed_model, monkeypatch):
    data = embed_model.to_dict()
    assert data["class_name"] == "OrqEmbedding"
    assert "api_key" not in data
    assert KEY not in embed_model.to_json()
    monkeypatch.setenv("ORQ_API_KEY", KEY)
    again = OrqEmbedding.from_json(embed_model.to_json())
    assert again.api_key is not None
    assert again.api_key.get_secret_value() == KEY
    assert again.to_dict() == data


def test_from_dict_gets_a_working_model(embed_model):
    again = OrqEmbedding.from_dict(embed_model.to_dict())
    assert again.get_text_embedding("t") == vector_for("t")


def test_a_pickle_round_trip_keeps_the_key_and_works(embed_model, server):
    clone = pickle.loads(pickle.dumps(embed_model))
    assert clone.get_text_embedding_batch(TEXTS[:8]) == [vector_for(t) for t in TEXTS[:8]]
    assert server.requests[-1].headers["authorization"] == f"Bearer {KEY}"


def test_the_key_is_in_no_repr_payload_or_callback_event(embed_model):
    debug = LlamaDebugHandler()
    embed_model.callback_manager = CallbackManager([debug])
    embed_model.get_text_embedding_batch(TEXTS)
    events = debug.get_event_pairs(CBEventType.EMBEDDING)
    assert len(events) == 5
    written = [
        repr(embed_model),
        str(embed_model),
        json.dumps(embed_model.to_payload()),
        str(embed_model.to_dict()),
        *(repr(pair) for pair in events),
    ]
    assert not [text for text in written if KEY in text]


class _Recorder(BaseEventHandler):
    events: list = Field(default_factory=list)

    @classmethod
    def class_name(cls) -> str:
        return "Recorder"

    def handle(self, event, **kwargs):
        self.events.append(event)


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_instrumentation_events_carry_each_batch_and_no_key(embed_model, use_async):
    import asyncio

    recorder = _Recorder(events=[])
    root = get_dispatcher()
    root.add_event_handler(recorder)
    try:
        if use_async:
            asyncio.run(embed_model.aget_text_embedding_batch(TEXTS))
        else:
            embed_model.get_text_embedding_batch(TEXTS)
    finally:
        root.event_handlers.remove(recorder)
    ends = [e for e in recorder.events if e.class_name() == "EmbeddingEndEvent"]
    assert [len(e.chunks) for e in ends] == [6, 6, 6, 6, 1]
    assert [chunk for e in ends for chunk in e.chunks] == TEXTS
    assert not [e for e in recorder.events if KEY in e.model_dump_json()]


def test_an_embeddings_cache_is_honoured(embed_model, server):
    embed_model.embeddings_cache = SimpleKVStore()
    first = embed_model.get_text_embedding_batch(TEXTS[:5])
    sent = len(server.requests)
    assert embed_model.get_text_embedding_batch(TEXTS[:5]) == first
    assert len(server.requests) == sent


def test_show_progress_prints_a_bar(embed_model, capsys):
    embed_model.get_text_embedding_batch(TEXTS, show_progress=True)
    assert "25/25" in capsys.readouterr().err


def test_requests_follow_fields_changed_after_construction(embed_model, server):
    embed_model.embed_batch_size = 10
    embed_model.get_text_embedding_batch(TEXTS)
    assert sorted(len(body["input"]) for body in server.bodies()) == [5, 10, 10]


def test_with_orq_options_is_a_tenant_copy_sharing_the_pool(embed_model, server):
    tenant = embed_model.with_orq_options(identity={"id": "tenant-42"})
    tenant.get_query_embedding("q")
    embed_model.get_query_embedding("q")
    tenant_body, base_body = server.bodies()
    assert tenant_body["orq"] == {"identity": {"id": "tenant-42"}}
    assert "orq" not in base_body
    assert tenant.client._resources is embed_model.client._resources


@pytest.mark.parametrize("mistake", MISTAKES.values(), ids=MISTAKES.keys())
def test_a_configuration_mistake_carries_the_cores_message(monkeypatch, mistake):
    monkeypatch.delenv("ORQ_API_KEY", raising=False)
    assert_adapter_says_what_the_core_says(
        lambda **settings: OrqEmbedding(model_name=MODEL, **settings), mistake
    )


def test_a_misspelled_setting_is_refused_naming_the_one_meant():
    # llama-index's own embeddings ignore unknown keyword arguments; a typo would be lost silently.
    with pytest.raises(ValidationError) as refused:
        OrqEmbedding(model_name=MODEL, base_url="http://127.0.0.1:9/v2/router", embed_batchsize=10)
    said = str(refused.value)
    assert "there is no setting 'embed_batchsize'" in said
    assert "(did you mean 'embed_batch_size'?)" in said
