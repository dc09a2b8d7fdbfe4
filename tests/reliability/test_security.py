"""The key stays secret, and goes only where it was meant to.

A recognisable fake key is pushed through every surface and every way a call can end; nothing
that any of them writes may contain it: exception messages (the whole chain, notes, traceback),
log records of every logger at DEBUG, OpenTelemetry spans (the client's and the gateway's, with a
real SDK), repr, str, dumps and ``to_dict``/``to_json``, LlamaIndex instrumentation events, spans
and callback payloads, and the notebooks as committed. Then the
ways the key could travel: plain http to another machine is refused, a redirect is never
followed, and the gateway that checks keys refuses the wrong one and oversized requests without
a 500.

Executed notebook outputs are searched for a fake key by tests/notebooks, which runs every
notebook with one (offline and against a gateway as orq.ai); this module checks what ships.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from llama_index.core.callbacks import CallbackManager, LlamaDebugHandler
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.span_handlers import BaseSpanHandler
from pydantic import Field, PrivateAttr

from langchain_orq import OrqEmbeddings
from llama_index_orq import OrqEmbedding
from orq_embeddings import (
    AuthenticationError,
    BadRequestError,
    OrqEmbeddingsClient,
    OrqError,
    RedirectError,
)
from orq_embeddings.gateway import GatewayConfig, ResponseFault
from tests.support.leaks import (
    every_log_record,
    everything_said_by,
    everything_said_by_spans,
    leaks,
    written_by,
)
from tests.support.scripted_server import (
    ScriptedServer,
    after,
    embedding_reply,
    reply,
    reset_mid_body,
)
from tests.support.stage import Provoke, Stage, gateway, nothing_listening, scripted
from tests.support.surfaces import (
    HASHING_64,
    KEY,
    MODEL,
    Call,
    Surface,
    core_client,
    langchain_embeddings,
    llama_index_embedding,
)

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
TEXTS = ["a passage to embed", "and another"]
HTML_PAGE = "<html><head><title>500 Internal Server Error</title></head></html>"


@pytest.fixture(name="every_log_record")
def every_log_record_fixture() -> Iterator[list[logging.LogRecord]]:
    with every_log_record() as records:
        yield records


# -- errors and logs, through every surface and every ending -------------------------------------


@dataclass(frozen=True)
class Ending:
    """One way a call can end; ``name`` completes "a call that ..."."""

    name: str
    provoke: Provoke
    texts: list[str] = field(default_factory=lambda: TEXTS)
    max_retries: int = 0
    timeout: float = 1.0
    #: Whether the call gets as far as sending (and so is traced).
    sends: bool = True


ENDINGS = [
    Ending("succeeds", gateway()),
    Ending(
        "is_retried_after_a_429",
        gateway(ResponseFault(status=429, retry_after=0, times=1)),
        max_retries=1,
    ),
    Ending("is_answered_401", gateway(ResponseFault(status=401, times=1))),
    Ending("is_answered_an_html_500", gateway(ResponseFault(status=500, body=HTML_PAGE))),
    Ending("gets_truncated_json", gateway(ResponseFault(malformed_json=True, times=1))),
    Ending("is_dropped", gateway(ResponseFault(drop_connection=True, times=1))),
    Ending("times_out", scripted(after(5.0, embedding_reply())), timeout=0.2),
    Ending("is_reset_mid_body", scripted(reset_mid_body())),
    Ending("is_redirected", scripted(reply(307, b"", {"Location": "https://else.example/x"}))),
    Ending("finds_nothing_listening", nothing_listening()),
    Ending("is_given_an_empty_text", gateway(), texts=["fine", ""], sends=False),
]


@pytest.mark.parametrize("ending", ENDINGS, ids=lambda ending: ending.name)
def test_the_key_is_in_no_error_log_record_or_span_of_a_call_that(
    ending, surface: Surface, stage: Stage, every_log_record, otel
):
    call = Call(
        base_url=ending.provoke(stage), max_retries=ending.max_retries, timeout=ending.timeout
    )
    written: list[str] = []

    try:
        surface.embed(call, ending.texts)
    except (OrqError, ValueError) as error:
        written += everything_said_by(error)

    written += written_by(every_log_record)
    spans = otel.spans()
    written += everything_said_by_spans(spans)
    assert bool(spans) == ending.sends  # a call that sent was traced: something to search
    assert leaks(written) == []


def test_the_key_reaches_the_server_it_was_meant_for(surface: Surface, server: ScriptedServer):
    surface.embed(Call(base_url=server.base_url), TEXTS)

    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"


# -- what the objects show of themselves -------------------------------------------------------


TENANT = {"identity": {"id": "tenant-1"}}
#: Everything each kind of object shows of itself, as text.
VIEWS: dict[str, dict[str, Callable[[Any], str]]] = {
    "core": {
        "repr": repr,
        "str": str,
        "config_repr": lambda client: repr(client.config),
        "config_dump": lambda client: str(client.config.model_dump()),
        "config_json": lambda client: client.config.model_dump_json(),
        "settings_json": lambda client: client.settings.model_dump_json(),
        "pickled_state_repr": lambda client: repr(client.__getstate__()),
        "copy_repr": lambda client: repr(client.with_options(orq=TENANT)),
    },
    "langchain": {
        "repr": repr,
        "str": str,
        "model_dump": lambda embeddings: str(embeddings.model_dump()),
        "model_dump_json": lambda embeddings: embeddings.model_dump_json(),
        "json_mode_dump": lambda embeddings: json.dumps(embeddings.model_dump(mode="json")),
        "copy_json": lambda embeddings: embeddings.with_orq_options(**TENANT).model_dump_json(),
        "client_repr": lambda embeddings: repr(embeddings.client),
    },
    "llama-index": {
        "repr": repr,
        "str": str,
        "to_dict": lambda embedding: str(embedding.to_dict()),
        "to_json": lambda embedding: embedding.to_json(),
        "to_payload": lambda embedding: str(embedding.to_payload()),
        "model_dump_json": lambda embedding: embedding.model_dump_json(),
        "client_repr": lambda embedding: repr(embedding.client),
    },
}


@pytest.mark.parametrize(
    ("kind", "view"),
    [(kind, view) for kind, views in VIEWS.items() for view in views],
    ids=lambda name: name,
)
def test_the_key_is_in_no_repr_str_or_serialisation(kind, view):
    made = MAKERS[kind](Call(base_url="https://api.orq.ai/v2/router"))

    assert KEY not in VIEWS[kind][view](made)


# -- LlamaIndex instrumentation ---------------------------------------------------------------


class _KeepEvents(BaseEventHandler):
    events: list[Any] = Field(default_factory=list)

    @classmethod
    def class_name(cls) -> str:
        return "KeepEvents"

    def handle(self, event: Any, **kwargs: Any) -> None:
        self.events.append(event)


class _KeepSpans(BaseSpanHandler[Any]):
    _seen: list[str] = PrivateAttr(default_factory=list)

    @classmethod
    def class_name(cls) -> str:
        return "KeepSpans"

    def new_span(self, id_, bound_args, instance=None, parent_span_id=None, tags=None, **kwargs):
        self._seen += [repr(bound_args), repr(instance), repr(tags)]

    def prepare_to_exit_span(self, id_, bound_args, instance=None, result=None, **kwargs):
        self._seen += [repr(bound_args), repr(result)]

    def prepare_to_drop_span(self, id_, bound_args, instance=None, err=None, **kwargs):
        self._seen += [repr(bound_args), repr(err), str(err)]

    def seen(self) -> list[str]:
        return self._seen


@pytest.fixture
def instrumented() -> Iterator[tuple[_KeepEvents, _KeepSpans]]:
    """Handlers on LlamaIndex's root dispatcher that keep every event and span they see."""
    events, spans = _KeepEvents(), _KeepSpans()
    root = get_dispatcher()
    root.add_event_handler(events)
    root.add_span_handler(spans)
    yield events, spans
    root.event_handlers.remove(events)
    root.span_handlers.remove(spans)


@pytest.mark.parametrize("fails", [False, True], ids=["succeeds", "fails"])
@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_the_key_is_in_no_llama_index_event_span_or_callback_payload(
    orq_gateway, instrumented, fails, use_async
):
    if fails:
        orq_gateway.inject(ResponseFault(status=401, times=1))
    events, spans = instrumented
    debug = LlamaDebugHandler()
    embedding = llama_index_embedding(Call(base_url=orq_gateway.base_url, max_retries=0))
    embedding.callback_manager = CallbackManager([debug])

    def embed() -> Any:
        if use_async:
            return asyncio.run(embedding.aget_text_embedding_batch(TEXTS))
        return embedding.get_text_embedding_batch(TEXTS)

    if fails:
        with pytest.raises(AuthenticationError):
            embed()
    else:
        embed()

    shown = [event.model_dump_json() for event in events.events]
    shown += [repr(event) for event in events.events]
    shown += spans.seen()
    shown += [repr(pair) for pair in debug.get_events()]
    assert len(events.events) > 0
    assert leaks(shown) == []


# -- the notebooks as committed ------------------------------------------------------------------

#: What a credential looks like in text: a bearer token, or an ``sk-`` key of real length.
CREDENTIAL = re.compile(r"Bearer\s+[\w.~+/-]{8,}|\bsk-[\w-]{16,}")


def test_there_is_a_notebook_to_ship():
    assert NOTEBOOKS


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_a_committed_notebook_holds_no_credential(notebook):
    assert CREDENTIAL.findall(notebook.read_text(encoding="utf-8")) == []


# -- where the key may travel ------------------------------------------------------------------

NOT_THIS_MACHINE = [
    "api.orq.ai",
    "10.0.0.5",
    "0.0.0.0",
    "localhost.attacker.example",
    "127.0.0.1.nip.io",
    "[2001:db8::1]",
]
MAKERS: dict[str, Callable[[Call], Any]] = {
    "core": core_client,
    "langchain": langchain_embeddings,
    "llama-index": llama_index_embedding,
}
FROM_THE_ENVIRONMENT: dict[str, Callable[[], Any]] = {
    "core": lambda: OrqEmbeddingsClient(MODEL),
    "langchain": lambda: OrqEmbeddings(model=MODEL),
    "llama-index": lambda: OrqEmbedding(model_name=MODEL),
}


@pytest.mark.parametrize("host", NOT_THIS_MACHINE)
@pytest.mark.parametrize("kind", list(MAKERS))
def test_plain_http_to_another_machine_is_refused_when_made(kind, host):
    with pytest.raises(ValueError, match="refusing to send the API key over plain http") as caught:
        MAKERS[kind](Call(base_url=f"http://{host}/v2/router"))

    assert leaks(everything_said_by(caught.value)) == []


@pytest.mark.parametrize("kind", list(MAKERS))
def test_plain_http_to_another_machine_is_refused_from_the_environment(kind, monkeypatch):
    monkeypatch.setenv("ORQ_API_KEY", KEY)
    monkeypatch.setenv("ORQ_BASE_URL", "http://api.orq.ai/v2/router")

    with pytest.raises(ValueError, match="refusing to send the API key over plain http"):
        FROM_THE_ENVIRONMENT[kind]()


@pytest.mark.parametrize("kind", list(MAKERS))
def test_a_key_of_the_wrong_type_is_not_echoed_in_the_error(kind):
    with pytest.raises(ValueError, match="api_key") as caught:
        MAKERS[kind](Call(base_url="https://api.orq.ai/v2/router", api_key=(KEY,)))  # type: ignore[arg-type]

    assert leaks(everything_said_by(caught.value)) == []


DUMPS: dict[str, Callable[[Any], str]] = {
    "core": lambda client: str(client.config.model_dump()) + client.config.model_dump_json(),
    "langchain": lambda embeddings: str(embeddings.model_dump()) + embeddings.model_dump_json(),
}


@pytest.mark.parametrize("kind", list(DUMPS))
def test_default_header_values_stay_out_of_dumps(kind):
    made = MAKERS[kind](
        Call(base_url="https://api.orq.ai/v2/router", default_headers={"X-Api-Key": "hdr-secret"})
    )

    assert "hdr-secret" not in DUMPS[kind](made)


ADAPTER_CALLS: dict[str, Callable[[Any], Any]] = {
    "langchain": lambda adapter: adapter.embed_documents(TEXTS),
    "llama-index": lambda adapter: adapter.get_text_embedding_batch(TEXTS),
}


@pytest.mark.parametrize("kind", list(ADAPTER_CALLS))
def test_an_adapter_switched_to_plain_http_to_another_machine_refuses_to_send(kind, server):
    adapter = MAKERS[kind](Call(base_url=server.base_url))
    adapter.base_url = "http://api.orq.ai/v2/router"

    with pytest.raises(ValueError, match="refusing to send the API key over plain http"):
        ADAPTER_CALLS[kind](adapter)
    assert server.requests == []


@pytest.mark.parametrize("kind", list(MAKERS))
def test_a_key_read_with_its_newline_is_refused_when_made_without_showing_it(kind):
    with pytest.raises(ValueError, match="api_key has a character an HTTP header") as caught:
        MAKERS[kind](Call(base_url="https://api.orq.ai/v2/router", api_key=KEY + "\n"))

    assert leaks(everything_said_by(caught.value)) == []


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_to_another_origin_sends_it_nothing(status, surface: Surface, server):
    with ScriptedServer() as elsewhere:
        server.push(reply(status, b"", {"Location": f"{elsewhere.base_url}/embeddings"}))

        with pytest.raises(RedirectError, match=f"answered {status}, redirecting to"):
            surface.embed(Call(base_url=server.base_url), TEXTS)

        assert len(server.requests) == 1
        assert elsewhere.requests == []


# -- the gateway checks keys and sizes without a 500 ---------------------------------------------


@pytest.fixture
def orq_gateway_config() -> GatewayConfig:
    """The suite's gateway, with small limits on inputs and bytes per request."""
    return GatewayConfig(api_key=KEY, models=(HASHING_64,), max_inputs=8, max_body_bytes=4_096)


def test_a_wrong_key_is_an_authentication_error_after_one_attempt(surface: Surface, orq_gateway):
    wrong = "sk-orq-FAKE-wrong-key-0b5d"

    with pytest.raises(AuthenticationError, match="401 invalid_api_key") as caught:
        surface.embed(Call(base_url=orq_gateway.base_url, api_key=wrong), TEXTS)

    assert orq_gateway.counters().responses_by_status == {401: 1}
    assert [text for text in everything_said_by(caught.value) if wrong in text] == []


def test_too_many_inputs_is_a_bad_request_naming_the_limit_after_one_attempt(
    surface: Surface, orq_gateway
):
    with pytest.raises(BadRequestError, match="400 invalid_request_body: .*at most 8"):
        surface.embed(
            Call(base_url=orq_gateway.base_url, batch_size=9), [f"t{i}" for i in range(9)]
        )

    assert orq_gateway.counters().responses_by_status == {400: 1}


def test_an_oversized_body_is_a_bad_request_naming_the_limit_after_one_attempt(
    surface: Surface, orq_gateway
):
    with pytest.raises(BadRequestError, match="413 request_too_large: .*max_body_bytes"):
        surface.embed(Call(base_url=orq_gateway.base_url), ["x" * 5_000])

    assert orq_gateway.counters().responses_by_status == {413: 1}


def test_a_chunked_body_growing_past_the_limit_is_a_413_not_a_500(orq_gateway):
    def growing() -> Iterator[bytes]:
        yield b'{"model": "%s", "input": ["' % MODEL.encode()
        for _ in range(10):
            yield b"x" * 1_000
        yield b'"]}'

    response = httpx.post(
        f"{orq_gateway.base_url}/embeddings",
        content=growing(),
        headers={"Authorization": f"Bearer {KEY}"},
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
