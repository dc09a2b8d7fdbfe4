"""Plain HTTP to a local gateway, for tests that hold it to the published contract on its own.

These speak HTTP with httpx directly, never through the project's client, so a gateway test can
never pass only because the client and the gateway agree with each other.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx
import numpy as np

from orq_embeddings.gateway import LocalGateway

SMALL = "openai/text-embedding-3-small"
LARGE = "openai/text-embedding-3-large"
COHERE = "cohere/embed-english-v3.0"
MISTRAL = "mistral/mistral-embed"


#: One HTTP client for the whole suite: making one per request costs more than the request.
HTTP = httpx.Client(timeout=10)


class SteppedClock:
    """A monotonic clock that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def embed(
    gateway: LocalGateway,
    body: dict[str, Any],
    *,
    dialect: str = "v2/router",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST a body to the gateway's embeddings endpoint of a dialect."""
    return HTTP.post(f"{gateway.url}/{dialect}/embeddings", json=body, headers=headers)


def embed_raw(gateway: LocalGateway, content: bytes, **headers: str) -> httpx.Response:
    """POST raw bytes to the router endpoint."""
    return HTTP.post(f"{gateway.url}/v2/router/embeddings", content=content, headers=headers)


def vectors_of(response: httpx.Response) -> np.ndarray:
    """The response's vectors in index order, decoding base64 where it was sent."""
    items = sorted(response.json()["data"], key=lambda item: item["index"])
    rows = [
        np.frombuffer(base64.b64decode(item["embedding"]), dtype="<f4")
        if isinstance(item["embedding"], str)
        else np.asarray(item["embedding"], dtype=np.float32)
        for item in items
    ]
    return np.vstack(rows)


def error_of(response: httpx.Response) -> dict[str, str]:
    """The ``{"code", "message"}`` of an orq-style error body."""
    error: dict[str, str] = response.json()["error"]
    return error
