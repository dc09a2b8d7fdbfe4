"""Property: whatever options a user gives, the client refuses them up front or sends a valid body.

Every generated option set goes through the real client to a scripted server on 127.0.0.1, in
both dialects; each body the server receives is checked against the oracle (orq-ai-sdk 4.17's
models made strict for the router, the spec's documented body for the legacy gateway).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings

from orq_embeddings import ConfigurationError, OrqEmbeddingsClient
from tests.support.scripted_server import ScriptedServer, reply_with

from . import strategies
from .oracle import GATEWAY_BODY, ROUTER_BODY, problems

#: Option sets per base URL: 1.3-2.3 s each here (a fifth to a third of them are sent).
EXAMPLES = 500

ORACLE_BY_DIALECT = {"v2/router": ROUTER_BODY, "v3/router": ROUTER_BODY, "v2/gateway": GATEWAY_BODY}


def _answer_in_the_asked_dimensions(request: Any) -> tuple[int, Any, dict[str, str]]:
    """A valid response whatever ``dimensions`` asked for: the body sent is what is under test."""
    body = request.json()
    width = body.get("dimensions") or 8
    data = [
        {"object": "embedding", "index": index, "embedding": [0.5] * width}
        for index in range(len(body["input"]))
    ]
    return 200, {"object": "list", "model": body["model"], "data": data}, {}


@pytest.fixture(scope="module")
def recording_server():
    with ScriptedServer(default=reply_with(_answer_in_the_asked_dimensions)) as server:
        yield server


@pytest.mark.parametrize("path", list(ORACLE_BY_DIALECT))
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    orq=strategies.orq_options,
    extra=strategies.client_settings,
    inputs=strategies.inputs,
    model=strategies.model_ids,
)
def test_the_client_sends_only_bodies_the_schema_accepts(
    recording_server: ScriptedServer, path: str, orq: Any, extra: Any, inputs: Any, model: str
) -> None:
    try:
        client = OrqEmbeddingsClient(
            model,
            base_url=f"{recording_server.origin}/{path}",
            orq=orq,
            max_retries=0,
            **extra,
        )
    except ConfigurationError as refused:  # UnsupportedOptionError is one too
        # Refused up front, so nothing was sent; what the refusal says is tested in tests/core.
        event(f"refused: {type(refused).__name__}")
        return
    event("sent")
    sent = len(recording_server.requests)
    with client:
        client.embed(inputs)
    (body,) = [request.json() for request in recording_server.requests[sent:]]
    assert problems(ORACLE_BY_DIALECT[path], body) == [], body
