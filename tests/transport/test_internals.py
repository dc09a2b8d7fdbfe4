"""Each private name the transports reach (orq_embeddings/_transport/internals.py), exercised
over a real socket with the installed versions of httpx, httpcore, anyio and h11.

A dependency that drops or renames one of them fails here, by name, and the transport raises
InternalsChanged instead of quietly losing the rule the name serves.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
from collections.abc import AsyncIterator
from typing import Any

import httpcore
import httpx
import pytest

from orq_embeddings._transport import internals
from orq_embeddings._transport.internals import InternalsChanged
from tests.support.recording_proxy import RecordingProxy
from tests.support.scripted_server import (
    embedding_reply,
    raw_response,
    refuse_early,
    with_bytes_after,
)

BODY = json.dumps({"model": "openai/text-embedding-3-small", "input": ["a"]}).encode()


async def _trace(event: str, info: dict[str, Any]) -> None:
    """A trace extension: the key by which a request in flight is found in the pool."""


@contextlib.asynccontextmanager
async def _answered(client: httpx.AsyncClient, url: str) -> AsyncIterator[Any]:
    """The connection of a request whose body was read to its end, before it is closed.

    The body is read as the async transport reads it: the stream itself, which leaves the
    response (and with it the connection) open, as ``aread()`` would not.
    """
    request = client.build_request("POST", url, content=BODY)
    request.extensions["trace"] = _trace
    response = await client.send(request, stream=True)
    try:
        async for _ in response.stream:  # type: ignore[union-attr]
            pass
        yield internals.connection_of(client, _trace)
    finally:
        await response.aclose()


async def test_the_connection_a_request_travels_on_is_found_in_httpcores_pool(server):
    async with httpx.AsyncClient() as client:
        async with _answered(client, f"{server.base_url}/embeddings") as connection:
            assert type(connection).__name__ == "AsyncHTTP11Connection"
            # h11's buffer is read: nothing beyond this response.
            assert internals.retire_if_bytes_left_over(connection) is False
        assert internals.connection_of(client, _trace) is None  # no longer in flight


async def test_the_connection_is_found_through_a_forward_proxy_too(server):
    with RecordingProxy() as proxy:
        async with (
            httpx.AsyncClient(proxy=proxy.url, trust_env=False) as client,
            _answered(client, f"{server.base_url}/embeddings") as connection,
        ):
            assert type(connection).__name__ == "AsyncHTTP11Connection"
            assert internals.retire_if_bytes_left_over(connection) is False
        assert [carried.method for carried in proxy.seen] == ["POST"]


async def test_bytes_beyond_a_response_are_seen_in_h11s_buffer_and_the_socket_is_shut(server):
    extra = raw_response(200, b'{"leftover": true}')
    server.push(with_bytes_after(lambda request: extra, embedding_reply()))
    async with (
        httpx.AsyncClient() as client,
        _answered(client, f"{server.base_url}/embeddings") as connection,
    ):
        assert internals.retire_if_bytes_left_over(connection) is True
    assert len(server.requests) == 1


async def test_an_upload_reads_anyios_socket_stream_and_sees_an_early_answer(server):
    server.default = refuse_early(413, {"error": {"code": "too_large", "message": "no"}})
    seen: dict[str, Any] = {}

    async with httpx.AsyncClient() as client:

        async def upload() -> AsyncIterator[bytes]:
            connection = internals.connection_of(client, _trace)
            stream = internals.read_while_sending(connection)
            seen["stream"] = stream
            try:
                yield b"x" * 1024
                for _ in range(200):  # the server answers as soon as the head is in
                    if internals.answer_waiting(stream):
                        seen["answered"] = True
                        raise httpcore.WriteError("answered before the body was sent")
                    await asyncio.sleep(0.01)
                yield b"x"
            finally:
                internals.stop_reading(stream)

        request = client.build_request(
            "POST",
            f"{server.base_url}/embeddings",
            content=upload(),
            headers={"Content-Length": str(10 * 1024 * 1024)},
        )
        request.extensions["trace"] = _trace
        response = await client.send(request)

    assert type(seen["stream"]).__name__ == "SocketStream"
    assert seen.get("answered") is True
    assert response.status_code == 413


async def test_a_private_name_gone_is_an_error_naming_the_library_and_what_it_was_for():
    client = httpx.AsyncClient()
    mounts = client._mounts
    del client._mounts  # as an httpx release that renamed it would leave it
    try:
        with pytest.raises(InternalsChanged) as raised:
            internals.connection_of(client, _trace)
    finally:
        client._mounts = mounts
        await client.aclose()

    message = str(raised.value)
    assert message.startswith(f"httpx {httpx.__version__} has no AsyncClient._mounts")
    assert "bytes left after a response are never read as the next one's answer" in message


def test_an_overridden_name_gone_is_refused_when_the_module_loads():
    class OldResponse:  # an http.client without the method the sync transport overrides
        pass

    with pytest.raises(InternalsChanged, match=r"^Python [\d.]+ \(http\.client\) has no OldRes"):
        internals._require(OldResponse, ("_read_status",), "http.client", "a 1xx is skipped")
    # and the installed Python still has every one of them
    assert callable(http.client.HTTPResponse._read_status)
    assert callable(http.client.HTTPResponse._close_conn)
    assert callable(http.client._read_headers)


def test_the_sync_response_is_the_one_that_skips_informational_responses():
    from orq_embeddings._transport.reporting_connections import FinalResponse

    assert issubclass(FinalResponse, internals.InformationalSkippingResponse)
    assert "_read_status" not in vars(FinalResponse)  # the override lives in internals only
