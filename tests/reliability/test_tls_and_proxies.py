"""https with a CA of the network's own, and proxies: on every surface, over real sockets.

A CA made by trustme signs the certificate of a TLS server on 127.0.0.1 (the scripted server
wrapped in TLS); :class:`~tests.support.recording_proxy.RecordingProxy` records what a client
asked it to carry. The machine's own CA variables (REQUESTS_CA_BUNDLE, SSL_CERT_FILE) are
cleared first, so each test states the trust it relies on.
"""

from __future__ import annotations

import asyncio
import datetime
import ssl
from collections.abc import Iterator

import numpy as np
import pytest
import trustme

from orq_embeddings import OrqConnectionError, OrqEmbeddingsClient, TLSVerificationError
from tests.support.leaks import everything_said_by
from tests.support.recording_proxy import RecordingProxy
from tests.support.scripted_server import ScriptedServer, vector_for
from tests.support.surfaces import KEY, MODEL, Call, Surface, core_client

TEXTS = ["alpha", "beta", "gamma"]
CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE", "SSL_CERT_DIR")
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy")


@pytest.fixture(autouse=True)
def no_machine_trust(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CA_VARIABLES + PROXY_VARIABLES + ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_bundle(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "network-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def serving(ca: trustme.CA, *identities: str, **validity: datetime.datetime) -> ScriptedServer:
    """A scripted server on 127.0.0.1 whose TLS certificate ``ca`` issued for ``identities``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*identities, **validity).configure_cert(context)
    return ScriptedServer(tls=context)


@pytest.fixture(scope="module")
def other_ca_bundle(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The bundle of a CA that signed nothing the tests serve."""
    path = tmp_path_factory.mktemp("other-ca") / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def tls_server(ca: trustme.CA) -> Iterator[ScriptedServer]:
    with serving(ca, "127.0.0.1", "localhost") as server:
        yield server


@pytest.fixture
def proxy() -> Iterator[RecordingProxy]:
    with RecordingProxy() as recording:
        yield recording


def assert_the_right_vectors(vectors: list[list[float]]) -> None:
    assert np.allclose(vectors, [vector_for(text) for text in TEXTS])


# -- trust -------------------------------------------------------------------------------------


def test_a_ca_bundle_given_as_verify_is_trusted(surface: Surface, tls_server, ca_bundle):
    vectors = surface.embed(Call(base_url=tls_server.base_url, more={"verify": ca_bundle}), TEXTS)

    assert_the_right_vectors(vectors)
    assert tls_server.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_an_unknown_ca_is_a_tls_error_after_one_attempt(surface: Surface, tls_server):
    with pytest.raises(TLSVerificationError) as caught:
        surface.embed(Call(base_url=tls_server.base_url, max_retries=2), TEXTS)

    message = str(caught.value)
    assert caught.value.host == "127.0.0.1"
    assert "certificate of 127.0.0.1" in message
    assert all(hint in message for hint in ("verify=", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"))
    assert tls_server.accepted == 1, "a refused certificate is not retried"
    assert tls_server.requests == []


def test_verify_false_checks_no_certificate(surface: Surface, tls_server):
    vectors = surface.embed(Call(base_url=tls_server.base_url, more={"verify": False}), TEXTS)

    assert_the_right_vectors(vectors)


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"])
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_ca_bundle_variable_is_trusted_by_both_transports(
    variable, mode, tls_server, ca_bundle, monkeypatch
):
    monkeypatch.setenv(variable, ca_bundle)

    assert_the_right_vectors(embed_with_core(mode, Call(base_url=tls_server.base_url)))


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_requests_ca_bundle_wins_over_ssl_cert_file(
    mode, tls_server, ca_bundle, other_ca_bundle, monkeypatch
):
    monkeypatch.setenv("SSL_CERT_FILE", ca_bundle)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", other_ca_bundle)

    with pytest.raises(TLSVerificationError, match="from REQUESTS_CA_BUNDLE"):
        embed_with_core(mode, Call(base_url=tls_server.base_url, max_retries=0))


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_an_explicit_verify_wins_over_the_variables(
    mode, tls_server, ca_bundle, other_ca_bundle, monkeypatch
):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", other_ca_bundle)
    monkeypatch.setenv("SSL_CERT_FILE", other_ca_bundle)

    call = Call(base_url=tls_server.base_url, more={"verify": ca_bundle})
    assert_the_right_vectors(embed_with_core(mode, call))


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_certificate_for_another_host_is_a_tls_error_naming_the_host(mode, ca, ca_bundle):
    with serving(ca, "gateway.example") as server:
        call = Call(base_url=server.base_url, max_retries=2, more={"verify": ca_bundle})
        with pytest.raises(TLSVerificationError, match="certificate of 127.0.0.1") as caught:
            embed_with_core(mode, call)

    assert "mismatch" in str(caught.value)
    assert server.accepted == 1


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_an_expired_certificate_is_a_tls_error(mode, ca, ca_bundle):
    now = datetime.datetime.now(datetime.timezone.utc)
    past = {
        "not_before": now - datetime.timedelta(days=30),
        "not_after": now - datetime.timedelta(days=1),
    }
    with serving(ca, "127.0.0.1", **past) as server:
        call = Call(base_url=server.base_url, more={"verify": ca_bundle})
        with pytest.raises(TLSVerificationError, match="expired"):
            embed_with_core(mode, call)


def test_a_ca_variable_naming_no_file_is_refused_when_made(monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", "/no/such/bundle.pem")

    with pytest.raises(ValueError, match="SSL_CERT_FILE names no file or directory"):
        OrqEmbeddingsClient(MODEL, base_url="http://127.0.0.1:9/v2/router")


def embed_with_core(mode: str, call: Call) -> list[list[float]]:
    if mode == "sync":
        with core_client(call) as client:
            return client.embed(TEXTS).vectors

    async def embed() -> list[list[float]]:
        async with core_client(call) as client:
            return (await client.aembed(TEXTS)).vectors

    return asyncio.run(embed())


# -- proxies -----------------------------------------------------------------------------------


def test_an_explicit_proxy_carries_plain_http(surface: Surface, server, proxy):
    vectors = surface.embed(Call(base_url=server.base_url, more={"proxy": proxy.url}), TEXTS)

    assert_the_right_vectors(vectors)
    carried = proxy.seen[0]
    assert (carried.method, carried.target) == ("POST", f"{server.base_url}/embeddings")
    assert carried.headers["authorization"] == f"Bearer {KEY}"
    assert server.requests[0].json()["input"] == TEXTS


def test_an_explicit_proxy_tunnels_https(surface: Surface, tls_server, ca_bundle, proxy):
    call = Call(base_url=tls_server.base_url, more={"proxy": proxy.url, "verify": ca_bundle})

    assert_the_right_vectors(surface.embed(call, TEXTS))
    assert [(c.method, c.target) for c in proxy.seen][:1] == [
        ("CONNECT", f"127.0.0.1:{tls_server.port}")
    ]
    assert all(KEY not in str(c) for c in proxy.seen), "a tunnel shows the proxy no header"


def test_the_environments_proxy_is_not_used_for_this_machine(
    surface: Surface, server, proxy, monkeypatch
):
    for name in PROXY_VARIABLES:
        monkeypatch.setenv(name, proxy.url)

    assert_the_right_vectors(surface.embed(Call(base_url=server.base_url), TEXTS))
    assert proxy.seen == []
    assert len(server.requests) == 1


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_proxy_credentials_reach_the_proxy_and_nothing_else(mode, server, proxy, closed_port):
    with_credentials = proxy.url_with_credentials("alice", "hunter2-proxy")
    embed_with_core(mode, Call(base_url=server.base_url, more={"proxy": with_credentials}))
    assert proxy.seen[0].headers["proxy-authorization"].startswith("Basic ")
    assert "proxy-authorization" not in server.requests[0].headers

    unreachable = f"http://alice:hunter2-proxy@127.0.0.1:{closed_port}"
    call = Call(base_url=server.base_url, max_retries=0, more={"proxy": unreachable})
    client = core_client(call)
    with pytest.raises(OrqConnectionError) as caught:
        embed_with_core(mode, call)
    said = " ".join(
        [*everything_said_by(caught.value), repr(client), str(client.config.model_dump())]
    )
    assert "hunter2-proxy" not in said
