"""What the store tests share per session: two local gateways and one PostgreSQL server."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.postgres import running_postgres
from tests.support.space_gateways import space_urls  # noqa: F401


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server with pgvector on 127.0.0.1, started once, stopped at the end."""
    with (
        tempfile.TemporaryDirectory(prefix="orq-pg-") as folder,
        running_postgres(Path(folder)) as url,
    ):
        yield url
