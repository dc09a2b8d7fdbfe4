"""A recognisable key, pushed through every path that writes text: it must never come out."""

from __future__ import annotations

import logging
import traceback

import pytest

from orq_embeddings import OrqError
from tests.support.scripted_server import after, embedding_reply, reply

KEY = "sk-orq-FAKE-7d2c9e1b0a3f"


@pytest.mark.parametrize(
    "action",
    [
        reply(401, {"error": {"code": "invalid_api_key", "message": "Invalid API key"}}),
        reply(500, b"<html><title>oops</title></html>"),
        reply(200, b'{"data": nul'),
        reply(307, b"", {"Location": "https://elsewhere.example/"}),
        after(1.0, embedding_reply()),
        embedding_reply(),
    ],
    ids=["401", "html-500", "truncated", "redirect", "timeout", "success"],
)
def test_the_key_is_in_no_log_record_exception_or_traceback(
    make_client, server, caplog, action, embed
):
    server.default = action
    client = make_client(api_key=KEY, timeout=0.2, max_retries=1)
    written: list[str] = [repr(client), str(client)]
    with caplog.at_level(logging.DEBUG):
        try:
            embed(client, ["a", "b"])
        except OrqError as error:
            written += [
                str(error),
                repr(error),
                *getattr(error, "__notes__", []),
                "".join(traceback.format_exception(error)),
                repr(vars(error)),
            ]
    written += [record.getMessage() for record in caplog.records]
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert not [text for text in written if KEY in text]


def test_debug_logging_names_batches_and_trace_ids(make_client, server, caplog):
    server.default = embedding_reply(headers={"x-orq-trace-id": "trace-42"})
    with caplog.at_level(logging.DEBUG, logger="orq_embeddings"):
        make_client(api_key=KEY).embed(["a"])
    assert any("trace-42" in record.getMessage() for record in caplog.records)
