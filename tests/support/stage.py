"""Where a call meets its fault, and the truth its vectors are held to.

:class:`Stage` arms a fault at one of three places (the local gateway, the scripted raw-socket
server, a port where nothing listens) and then reports what that place saw: how many attempts
reached it, and which vectors a correct call returns. :class:`Reference` is the truth for the
local gateway: each text's *single-text* embedding, from a gateway no test touches.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx
import pytest

from orq_embeddings.gateway import LocalGateway, ProviderFault, ResponseFault
from tests.support.scripted_server import Action, ScriptedServer, vector_for
from tests.support.surfaces import MODEL


class Reference:
    """Single-text embeddings, one request per text, from a gateway of its own (memoised).

    The local gateway's vectors are a pure function of model and text, so a vector that came
    back through batching, concurrency, retries or faults must equal its text's exactly.
    """

    def __init__(self, gateway: LocalGateway) -> None:
        self._url = f"{gateway.base_url}/embeddings"
        self._http = httpx.Client(timeout=10)
        self._known: dict[str, list[float]] = {}

    def vector(self, text: str) -> list[float]:
        if text not in self._known:
            response = self._http.post(
                self._url, json={"input": text, "model": MODEL, "encoding_format": "float"}
            )
            response.raise_for_status()
            (item,) = response.json()["data"]
            self._known[text] = item["embedding"]
        return self._known[text]

    def vectors(self, texts: Sequence[str]) -> list[list[float]]:
        return [self.vector(text) for text in texts]

    def close(self) -> None:
        self._http.close()


class Stage:
    """The places a fault can come from, and what the one in use saw of the call."""

    def __init__(
        self,
        gateway: LocalGateway,
        server: ScriptedServer,
        closed_port: int,
        reference: Reference,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        self.gateway = gateway
        self.server = server
        self._closed_port = closed_port
        self._reference = reference
        self._caplog = caplog
        self._attempts: Callable[[], int] = self._nothing_provoked
        self._truth: Callable[[Sequence[str]], list[list[float]]] = self._nothing_provoked

    @staticmethod
    def _nothing_provoked(*_: Any) -> Any:
        raise AssertionError("the case provoked no fault")

    def at_gateway(self, *faults: ProviderFault | ResponseFault) -> str:
        if faults:
            self.gateway.inject(*faults)
        self._attempts = self._gateway_requests
        self._truth = self._reference.vectors
        return self.gateway.base_url

    def at_scripted_server(self, *actions: Action) -> str:
        self.server.push(*actions)
        self._attempts = lambda: len(self.server.requests)
        self._truth = lambda texts: [vector_for(text) for text in texts]
        return self.server.base_url

    def at_closed_port(self) -> str:
        # Nothing listens, so nothing can count the attempts: the client logs each retry.
        self._attempts = lambda: (
            1 + sum(record.getMessage().startswith("retrying") for record in self._caplog.records)
        )
        return f"http://127.0.0.1:{self._closed_port}/v2/router"

    def attempts(self) -> int:
        """Requests that reached the server."""
        return self._attempts()

    def expected_vectors(self, texts: Sequence[str]) -> list[list[float]]:
        return self._truth(texts)

    def _gateway_requests(self) -> int:
        # A request the client gave up on is counted when the gateway finishes it: poll until
        # none is in flight.
        deadline = time.monotonic() + 5
        while (counters := self.gateway.counters()).in_flight:
            assert time.monotonic() < deadline, "the gateway never finished its requests"
            time.sleep(0.01)
        return counters.requests


#: Arms a fault on the stage and returns the base URL a call must use to meet it.
Provoke = Callable[[Stage], str]


def gateway(*faults: ProviderFault | ResponseFault) -> Provoke:
    """At the local gateway (no faults: a plain, correct answer)."""
    return lambda stage: stage.at_gateway(*faults)


def scripted(*actions: Action) -> Provoke:
    """At the scripted server: these actions, then valid answers (items in reverse order)."""
    return lambda stage: stage.at_scripted_server(*actions)


def nothing_listening() -> Provoke:
    """At a port of 127.0.0.1 that refuses connections."""
    return lambda stage: stage.at_closed_port()
