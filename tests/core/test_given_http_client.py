"""A caller's own HTTP client (``http_client``, ``http_async_client``) carries every request.

Over real sockets on 127.0.0.1 (the scripted server), through the six surfaces: the core client
and both adapters, sync (a requests.Session or an httpx.Client) and async (an httpx.AsyncClient).
The given client's headers and hooks apply, and the client's own rules still hold: no redirect
followed, retries, the deadline, typed errors; and the given client is never closed.
"""

from __future__ import annotations

import asyncio
import gc
import pickle
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import requests
import trustme
from pydantic import ValidationError

from orq_embeddings import (
    ConfigurationError,
    OrqEmbeddingsClient,
    OrqTimeoutError,
    RedirectError,
    TLSVerificationError,
)
from tests.support.leaks import FAKE_KEY
from tests.support.scripted_server import ScriptedServer, after, drip, reply, vector_for
from tests.support.surfaces import Call, core_client, langchain_embeddings, llama_index_embedding

CA = trustme.CA()

TEXTS = ["first text", "second text", "third text"]
EXPECTED = [vector_for(text) for text in TEXTS]
CORP_HEADER = "x-corp-trace"


@dataclass
class Given:
    """A client of the caller's, with a header set on it and hooks counting what they see."""

    kind: str
    requests_seen: list[str] = field(default_factory=list)
    responses_seen: list[int] = field(default_factory=list)
    client: Any = None

    def make(self) -> Any:
        """Made inside the test's event loop for an AsyncClient, which belongs to it."""
        if self.kind == "requests":
            session = requests.Session()
            session.headers[CORP_HEADER] = "given"
            session.hooks["response"].append(
                lambda response, *args, **kwargs: self.responses_seen.append(response.status_code)
            )
            self.client = session
        elif self.kind == "httpx":
            self.client = httpx.Client(
                headers={CORP_HEADER: "given"},
                event_hooks={
                    "request": [lambda request: self.requests_seen.append(str(request.url))],
                    "response": [lambda response: self.responses_seen.append(response.status_code)],
                },
            )
        else:

            async def on_request(request: httpx.Request) -> None:
                self.requests_seen.append(str(request.url))

            async def on_response(response: httpx.Response) -> None:
                self.responses_seen.append(response.status_code)

            self.client = httpx.AsyncClient(
                headers={CORP_HEADER: "given"},
                event_hooks={"request": [on_request], "response": [on_response]},
            )
        return self.client

    def still_works(self, server: ScriptedServer) -> Any:
        """Post through the given client directly: it must still be open (a coroutine if async)."""
        url = f"{server.base_url}/embeddings"
        payload = {"model": "m", "input": ["after"]}
        if self.kind == "requests":
            return self.client.post(url, json=payload, timeout=5).status_code
        if self.kind == "httpx":
            return self.client.post(url, json=payload, timeout=5).status_code

        async def post() -> int:
            return (await self.client.post(url, json=payload, timeout=5)).status_code

        return post()

    def close(self) -> Any:
        if self.kind == "async":
            return self.client.aclose()
        self.client.close()
        return None


@dataclass(frozen=True)
class Surface:
    """One way in: how it is made with a given client, how it embeds, how it is closed."""

    name: str
    is_async: bool
    make: Callable[..., Any]
    embed: Callable[[Any, list[str]], Any]
    async_name: str = "http_async_client"

    def settings(self, given: Any, **more: Any) -> dict[str, Any]:
        return {self.async_name if self.is_async else "http_client": given, **more}


def _made_by(factory: Callable[[Call], Any]) -> Callable[..., Any]:
    """A surface's maker from its shared factory: URL, timeout, retries, then the given client."""

    def make(base_url: str, timeout: float = 5.0, max_retries: int = 1, **given: Any) -> Any:
        return factory(Call(base_url, timeout=timeout, max_retries=max_retries, more=given))

    return make


_core = _made_by(core_client)
_langchain = _made_by(langchain_embeddings)
_llama = _made_by(llama_index_embedding)


async def _core_aembed(client: Any, texts: list[str]) -> Any:
    return (await client.aembed(texts)).vectors


SURFACES = [
    Surface("core", False, _core, lambda c, texts: c.embed(texts).vectors),
    Surface("core-async", True, _core, _core_aembed),
    Surface("langchain", False, _langchain, lambda m, texts: m.embed_documents(texts)),
    Surface("langchain-async", True, _langchain, lambda m, texts: m.aembed_documents(texts)),
    Surface("llama-index", False, _llama, lambda m, texts: m.get_text_embedding_batch(texts)),
    Surface(
        "llama-index-async",
        True,
        _llama,
        lambda m, texts: m.aget_text_embedding_batch(texts),
        async_name="async_http_client",
    ),
]
CASES = [
    pytest.param(surface, kind, id=f"{surface.name}-{kind}")
    for surface in SURFACES
    for kind in (["async"] if surface.is_async else ["requests", "httpx"])
]


def _core_client(model: Any) -> OrqEmbeddingsClient:
    return model if isinstance(model, OrqEmbeddingsClient) else model.client


def run(surface: Surface, given: Given, scenario: Callable[[Callable[..., Any]], Any]) -> Any:
    """Run ``scenario(embed)`` on the surface, in one event loop if it is async.

    ``embed(server_url, texts, **settings)`` makes the surface on the given client and embeds;
    it returns the vectors and the surface, already closed (and its core client dropped).
    """
    if not surface.is_async:

        def embed(base_url: str, texts: list[str], **settings: Any) -> Any:
            model = surface.make(base_url, **surface.settings(given.client, **settings))
            try:
                return surface.embed(model, texts)
            finally:
                _core_client(model).close()

        given.make()
        try:
            return scenario(embed)
        finally:
            given.close()

    async def main() -> Any:
        async def embed(base_url: str, texts: list[str], **settings: Any) -> Any:
            model = surface.make(base_url, **surface.settings(given.client, **settings))
            try:
                return await surface.embed(model, texts)
            finally:
                await _core_client(model).aclose()

        given.make()
        try:
            return await scenario(embed)
        finally:
            await given.close()

    return asyncio.run(main())


# -- the given client carries the request -----------------------------------------------------


@pytest.mark.parametrize(("surface", "kind"), CASES)
def test_the_given_client_carries_the_request_with_its_headers_and_hooks(surface, kind, server):
    given = Given(kind)

    def sync_body(embed):
        return embed(server.base_url, TEXTS), given.still_works(server)

    async def async_body(embed):
        return await embed(server.base_url, TEXTS), await given.still_works(server)

    vectors, after_close = run(surface, given, async_body if surface.is_async else sync_body)

    assert vectors == EXPECTED
    sent = server.requests[0]
    assert sent.headers[CORP_HEADER] == "given", "the given client's own header did not arrive"
    assert sent.headers["authorization"] == f"Bearer {FAKE_KEY}"
    assert sent.json()["input"] == TEXTS
    assert given.responses_seen[0] == 200, "the given client's response hook did not run"
    if kind != "requests":
        assert given.requests_seen[0] == f"{server.base_url}/embeddings"
    # Our client was closed; the given one is the caller's and still sends.
    assert after_close == 200
    assert len(server.requests) == 2


@pytest.mark.parametrize(("surface", "kind"), CASES)
def test_a_redirect_is_not_followed_through_the_given_client(surface, kind, server):
    server.push(reply(307, b"", {"Location": "https://attacker.example/v2/router/embeddings"}))
    given = Given(kind)

    def sync_body(embed):
        with pytest.raises(RedirectError, match="attacker.example"):
            embed(server.base_url, ["a"], max_retries=0)

    async def async_body(embed):
        with pytest.raises(RedirectError, match="attacker.example"):
            await embed(server.base_url, ["a"], max_retries=0)

    run(surface, given, async_body if surface.is_async else sync_body)
    assert len(server.requests) == 1
    assert given.responses_seen == [307]


@pytest.mark.parametrize(("surface", "kind"), CASES)
def test_a_503_is_retried_through_the_given_client(surface, kind, server):
    server.push(reply(503, {"error": {"message": "busy"}}, {"Retry-After": "0"}))
    given = Given(kind)

    def sync_body(embed):
        return embed(server.base_url, TEXTS)

    async def async_body(embed):
        return await embed(server.base_url, TEXTS)

    vectors = run(surface, given, async_body if surface.is_async else sync_body)

    assert vectors == EXPECTED
    assert given.responses_seen == [503, 200]
    assert all(sent.headers[CORP_HEADER] == "given" for sent in server.requests)


@pytest.mark.parametrize("stall", ["dripping body", "silent server"])
@pytest.mark.parametrize(("surface", "kind"), CASES)
def test_a_slow_server_is_a_timeout_through_the_given_client(surface, kind, stall, server):
    timeout = 0.4
    # A dripped body: each byte comes well within a read's timeout, so only the deadline
    # checked between chunks ends it. A silent server: the read's timeout does.
    server.push(
        drip(b'{"data": []}' * 40, every=0.02)
        if stall == "dripping body"
        else after(3.0, reply(200, b"{}"))
    )
    given = Given(kind)

    def sync_body(embed):
        with pytest.raises(OrqTimeoutError, match="within 0.4 s"):
            embed(server.base_url, ["a"], timeout=timeout, max_retries=0)

    async def async_body(embed):
        with pytest.raises(OrqTimeoutError, match="within 0.4 s"):
            await embed(server.base_url, ["a"], timeout=timeout, max_retries=0)

    started = time.monotonic()
    run(surface, given, async_body if surface.is_async else sync_body)
    # The documented bound with a given sync client: the timeout plus one read's wait.
    assert time.monotonic() - started < 2 * timeout + 0.6


@pytest.mark.parametrize("kind", ["requests", "httpx", "async"])
def test_the_given_client_checks_tls_with_its_own_trust(kind, tmp_path, monkeypatch):
    """Its own CA settings decide: trusted by the given client, the server answers; not trusted,
    the refusal is a TLSVerificationError saying the given client checked it."""
    # requests lets REQUESTS_CA_BUNDLE override a Session's own verify: not what is tested here.
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.delenv(name, raising=False)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    CA.issue_cert("127.0.0.1").configure_cert(context)
    bundle = tmp_path / "ca.pem"
    CA.cert_pem.write_to_path(str(bundle))
    setting = "http_async_client" if kind == "async" else "http_client"

    def given(trusting: bool) -> Any:
        if kind == "requests":
            session = requests.Session()
            session.verify = str(bundle) if trusting else True
            return session
        trust = ssl.create_default_context(cafile=str(bundle) if trusting else None)
        return (httpx.AsyncClient if kind == "async" else httpx.Client)(verify=trust)

    async def embed(client: Any, base_url: str) -> Any:
        core = _core(base_url, max_retries=0, **{setting: client})
        try:
            if kind == "async":
                return (await core.aembed(["a"])).vectors
            return core.embed(["a"]).vectors
        finally:
            core.close()
            await client.aclose() if kind == "async" else client.close()

    with ScriptedServer(tls=context) as server:
        assert asyncio.run(embed(given(trusting=True), server.base_url)) == [vector_for("a")]
        with pytest.raises(TLSVerificationError, match=f"the given {setting} checked it"):
            asyncio.run(embed(given(trusting=False), server.base_url))


# -- the given client outlives ours ----------------------------------------------------------


@pytest.mark.parametrize("kind", ["requests", "httpx"])
def test_a_given_client_outlives_a_deleted_client(kind, server):
    given = Given(kind)
    given.make()
    try:
        client = _core(server.base_url, http_client=given.client)
        copy = client.with_options(user="tenant-1")
        assert copy.embed(TEXTS).vectors == EXPECTED
        del client, copy
        gc.collect()

        assert given.still_works(server) == 200
    finally:
        given.close()


def test_a_given_async_client_outlives_a_closed_client(server):
    given = Given("async")

    async def main() -> int:
        given.make()
        try:
            async with _core(server.base_url, http_async_client=given.client) as client:
                assert (await client.aembed(TEXTS)).vectors == EXPECTED
            assert not given.client.is_closed
            return await given.still_works(server)
        finally:
            await given.close()

    assert asyncio.run(main()) == 200


# -- what is refused ---------------------------------------------------------------------------

LOOPBACK = "http://127.0.0.1:9/v2/router"


def _surface_errors(make: Callable[..., Any]) -> type[Exception]:
    return ConfigurationError if make is _core else ValidationError


MAKERS = [
    pytest.param(_core, "http_async_client", id="core"),
    pytest.param(_langchain, "http_async_client", id="langchain"),
    pytest.param(_llama, "async_http_client", id="llama-index"),
]


@pytest.mark.parametrize(("make", "async_name"), MAKERS)
def test_an_async_client_as_http_client_is_refused(make, async_name):
    async_client = httpx.AsyncClient()
    with pytest.raises(_surface_errors(make), match=r"http_client.*got httpx\.AsyncClient"):
        make(LOOPBACK, http_client=async_client)


@pytest.mark.parametrize(("make", "async_name"), MAKERS)
def test_a_sync_client_as_the_async_client_is_refused(make, async_name):
    with pytest.raises(
        _surface_errors(make), match=r"must be an httpx.AsyncClient, got requests.sessions.Session"
    ):
        make(LOOPBACK, **{async_name: requests.Session()})


@pytest.mark.parametrize(("make", "async_name"), MAKERS)
def test_a_closed_client_is_refused(make, async_name):
    closed = httpx.Client()
    closed.close()
    with pytest.raises(_surface_errors(make), match="http_client.*is closed"):
        make(LOOPBACK, http_client=closed)


@pytest.mark.parametrize(("make", "async_name"), MAKERS)
@pytest.mark.parametrize(
    "setting", [{"verify": False}, {"proxy": "http://proxy.example:3128"}], ids=["verify", "proxy"]
)
def test_verify_or_proxy_beside_a_given_client_is_refused(make, async_name, setting):
    name = next(iter(setting))
    for given in ({"http_client": requests.Session()}, {async_name: httpx.AsyncClient()}):
        with pytest.raises(_surface_errors(make), match=f"{name} cannot be set together with http"):
            make(LOOPBACK, **given, **setting)


@pytest.mark.parametrize(("make", "async_name"), MAKERS)
def test_a_given_client_is_kept_out_of_repr_and_dumps_and_refuses_to_pickle(make, async_name):
    session = requests.Session()
    model = make(LOOPBACK, http_client=session)
    config = _core_client(model).config

    assert config.http_client is session
    assert "Session" not in repr(model) and "Session" not in repr(config)
    assert "http_client" not in config.model_dump()
    if make is not _core:
        assert "http_client" not in model.model_dump()
    with pytest.raises(TypeError, match="cannot be pickled with a given http_client"):
        pickle.dumps(model)
