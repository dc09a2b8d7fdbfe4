"""A Ray or Spark started on this machine listens on 127.0.0.1 only, as local_sessions promises.

Ray keeps every process on loopback only because of an environment variable read when it is
imported (see orq_embeddings/_engines/local_sessions.py); if a release stops honouring it, these
fail, naming what listens where.
"""

from __future__ import annotations

import psutil
import pytest

LOOPBACK = {"127.0.0.1", "::1", "::ffff:127.0.0.1"}


def listening_addresses() -> dict[str, set[str]]:
    """What every process started by this one listens on, by its name."""
    found: dict[str, set[str]] = {}
    for child in psutil.Process().children(recursive=True):
        try:
            connections = child.net_connections(kind="inet")
            name = child.name()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        for connection in connections:
            if connection.status == psutil.CONN_LISTEN:
                found.setdefault(name, set()).add(connection.laddr.ip)
    return found


def test_a_local_ray_listens_on_loopback_only(ray_session):
    import ray

    assert ray.util.get_node_ip_address() == "127.0.0.1"
    listening = listening_addresses()
    assert any("gcs" in name or "raylet" in name for name in listening), listening
    exposed = {name: ips - LOOPBACK for name, ips in listening.items() if ips - LOOPBACK}
    assert exposed == {}


def test_a_local_spark_listens_on_loopback_only(spark):
    spark.range(4).count()  # its Python workers are started, too
    listening = listening_addresses()
    assert any("java" in name for name in listening), listening
    exposed = {name: ips - LOOPBACK for name, ips in listening.items() if ips - LOOPBACK}
    assert exposed == {}


@pytest.mark.parametrize("name", ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "RAY_USAGE_STATS_ENABLED"])
def test_ray_is_kept_local_by_the_variables_set_before_it_is_imported(name):
    import os

    from orq_embeddings._engines.local_sessions import RAY_ON_THIS_MACHINE

    assert os.environ[name] == RAY_ON_THIS_MACHINE[name]
