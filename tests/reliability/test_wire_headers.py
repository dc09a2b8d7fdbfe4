"""What goes on the wire besides the body: the same headers from both transports, checked early.

``default_headers`` that no request could carry (non-ASCII, CR/LF, a name that is no token, a
header that frames the request) are refused when the client is made, naming the header and
never echoing its value, which may be a credential; before, they failed at call time as a raw
UnicodeEncodeError or a retried "connection reset", differently in sync and async.
"""

from __future__ import annotations

import asyncio

import pytest

from orq_embeddings import OrqEmbeddingsClient
from orq_embeddings.config import DEFAULT_MAX_RESPONSE_BYTES
from tests.support.surfaces import KEY, MODEL, Call

EXTRA_HEADERS = {"X-ORQ-IDENTITY-ID": "user-9", "X-Tenant": "tenant 42\twith a tab"}


def test_both_transports_send_exactly_the_same_headers(server):
    with OrqEmbeddingsClient(
        MODEL, api_key=KEY, base_url=server.base_url, default_headers=EXTRA_HEADERS
    ) as client:
        client.embed(["a passage"])

        async def embed() -> None:
            async with client:
                await client.aembed(["a passage"])

        asyncio.run(embed())

    sync_sent, async_sent = (request.headers for request in server.requests)
    assert sync_sent == async_sent
    assert sync_sent["x-tenant"] == "tenant 42\twith a tab"
    assert sync_sent["accept-encoding"] == "gzip, deflate"


@pytest.mark.parametrize(
    ("headers", "says"),
    [
        (
            {"X-Team": "tok3n-café"},
            r"default_headers: header 'X-Team' has a character .* position 9",
        ),
        ({"X-Team": "tok3n\r\nX-Injected: 1"}, r"default_headers: header 'X-Team' has a character"),
        ({"X-Team": "tok3n\nb"}, r"default_headers: header 'X-Team' has a character"),
        ({"X Team": "a"}, r"default_headers: invalid header name 'X Team'"),
        ({"X-Téam": "a"}, r"default_headers: invalid header name 'X-Téam'"),
        ({"X-Team:": "a"}, r"default_headers: invalid header name 'X-Team:'"),
        ({"Content-Length": "1"}, r"header 'Content-Length' must not be set here"),
        ({"host": "elsewhere.example"}, r"header 'host' must not be set here"),
    ],
    ids=["non-ascii", "crlf", "lf", "space-in-name", "non-ascii-name", "colon", "length", "host"],
)
def test_default_headers_no_request_could_carry_are_refused_at_construction(
    surface, server, headers, says
):
    call = Call(base_url=server.base_url, default_headers={**headers, "X-Secret": "s3cr3t"})

    with pytest.raises(ValueError, match=says) as refused:
        surface.embed(call, ["a passage"])

    assert server.requests == []
    assert "s3cr3t" not in str(refused.value) and "tok3n" not in str(refused.value)


def test_the_default_response_cap_holds_the_largest_honest_answer():
    # 2,048 inputs x 3,072 dimensions as float JSON: at most 23 characters and a comma a value.
    largest_honest = 2048 * 3072 * 24 + 2048 * 60
    assert largest_honest < DEFAULT_MAX_RESPONSE_BYTES < 2 * largest_honest
