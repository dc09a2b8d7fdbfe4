"""Fixtures every part of the suite uses: a scripted server on 127.0.0.1, an OpenTelemetry SDK."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.support.scripted_server import ScriptedServer

if TYPE_CHECKING:
    from tests.support.otel import Recorded


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
