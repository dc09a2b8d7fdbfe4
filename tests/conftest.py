"""Fixtures every part of the suite uses: a scripted server on 127.0.0.1, an OpenTelemetry SDK.

Ray reads where to listen when it is first imported, so the suite's local Ray (tests/engines) is
kept on 127.0.0.1 here, before any test module can import it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from orq_embeddings._engines.local_sessions import keep_ray_on_this_machine
from tests.support.scripted_server import ScriptedServer

if TYPE_CHECKING:
    from tests.support.otel import Recorded

# The suite's Ray is its own, never a cluster the developer's shell points at; it writes no token
# file in $HOME for a Ray that lives as long as the session, on loopback only.
os.environ.pop("RAY_ADDRESS", None)
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
keep_ray_on_this_machine()


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    """A scripted HTTP server on a free loopback port, stopped after the test."""
    with ScriptedServer() as running:
        yield running


@pytest.fixture
def otel() -> Iterator[Recorded]:
    """A real OpenTelemetry SDK for the test's process, its spans and metrics kept in memory."""
    from tests.support.otel import recording

    with recording() as recorded:
        yield recorded
