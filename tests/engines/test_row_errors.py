"""A task's rows with row errors: a row the client or the server refuses alone says why, and every
other row gets the vector it would get alone. Over real sockets: the scripted server refusing any
batch that holds a long text, as a provider does, naming its index or not.

No engine is involved: this is what a Ray worker or a Spark task runs on its rows.
"""

from __future__ import annotations

import numpy as np
import pytest

from orq_embeddings import InputTooLongError, InvalidInputError, OrqEmbeddingsClient, ServerError
from orq_embeddings._engines.row_errors import embed_rows
from tests.support.scripted_server import Recorded, embedding_payload, reply, reply_with, vector_for

LONG = "LONG "


def refuse_long_texts(name_the_index: bool):
    """Refuse a batch holding a long text with a context-length 400, as OpenAI words it."""

    def answer(request: Recorded):
        inputs = request.json()["input"]
        long = [index for index, text in enumerate(inputs) if text.startswith(LONG)]
        if not long:
            return 200, embedding_payload(request), {}
        where = f"; input[{long[0]}] is too long" if name_the_index else ""
        message = f"This model's maximum context length is 8192 tokens{where}"
        error = {"error": {"message": message, "type": "invalid_request_error", "code": None}}
        return 400, error, {}

    return reply_with(answer)


def client_on(server, **settings) -> OrqEmbeddingsClient:
    return OrqEmbeddingsClient(
        "openai/text-embedding-3-small",
        base_url=server.base_url,
        encoding_format="float",
        **settings,
    )


TEXTS = [f"text {n}" for n in range(20)]


@pytest.mark.parametrize("name_the_index", [True, False], ids=["index named", "batch named"])
def test_a_row_refused_as_too_long_gets_the_reason_and_the_others_their_vectors(
    server, name_the_index
):
    server.default = refuse_long_texts(name_the_index)
    texts = list(TEXTS)
    texts[6] = LONG + "a text longer than the model takes"
    texts[13] = LONG + "another one"

    with client_on(server, batch_size=4, max_concurrency=2) as client:
        rows = embed_rows(client, texts, row_errors=True)

    assert [n for n, error in enumerate(rows.errors) if error] == [6, 13]
    assert rows.errors[6].startswith("refused as too long for the model: This model's maximum")
    assert rows.vectors[6] is None and rows.vectors[13] is None
    for n, vector in enumerate(rows.vectors):
        if n not in (6, 13):
            np.testing.assert_allclose(vector, vector_for(texts[n]), rtol=1e-6)
    assert rows.failed == 2
    sent = [text for text in server.inputs() if not text.startswith(LONG)]
    assert len(sent) >= 18  # a refused batch's other rows went again, and no row went missing


def test_rows_the_client_refuses_are_never_sent(server):
    texts = ["fine", "", "   ", None, 42, "also fine"]

    with client_on(server) as client:
        rows = embed_rows(client, texts, row_errors=True)

    assert rows.errors == [
        None,
        "text is an empty string",
        "text is only whitespace",
        "text is missing",
        "text is a int, not a string",
        None,
    ]
    assert server.inputs() == ["fine", "also fine"]


def test_without_row_errors_a_bad_row_raises_as_the_client_does(server):
    with client_on(server) as client, pytest.raises(InvalidInputError, match="input 1"):
        embed_rows(client, ["fine", ""], row_errors=False)
    server.default = refuse_long_texts(True)
    with client_on(server) as client, pytest.raises(InputTooLongError):
        embed_rows(client, ["fine", LONG + "too long"], row_errors=False)


def test_a_server_error_is_raised_after_the_retries_never_a_row_error(server):
    server.default = reply(503, {"error": {"message": "overloaded"}})

    with client_on(server, max_retries=1) as client, pytest.raises(ServerError):
        embed_rows(client, TEXTS[:3], row_errors=True)
    assert len(server.requests) == 2


def test_the_space_and_tokens_of_what_served_are_reported(server):
    with client_on(server, batch_size=2) as client:
        rows = embed_rows(client, TEXTS[:5], row_errors=True)

    assert rows.served == {"text-embedding-3-small:8:none"}
    assert rows.spaces == ["text-embedding-3-small:8:none"] * 5
    assert rows.tokens == 5
