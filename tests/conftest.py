"""Fixtures every part of the suite uses: a scripted server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.scripted_server import ScriptedServer


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    """A scripted HTTP server on a free loopback port, stopped after the test."""
    with ScriptedServer() as running:
        yield running
