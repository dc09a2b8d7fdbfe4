"""One local Ray and one local Spark for the whole session, both on 127.0.0.1 only.

Starting either takes seconds (Ray ~5 s, Spark's JVM ~5-10 s), so each starts once, on first use,
and stops when the session ends. Their workers inherit ``ORQ_API_KEY`` as it is while they start:
:data:`ENV_KEY`, which the tests of the key look for everywhere afterwards.

Spark needs Java: ``make test`` installs Debian's default-jre-headless where java is missing, and
the Spark tests are skipped, saying so, only where no java can be had.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from orq_embeddings._engines.local_sessions import start_ray, start_spark
from tests.support.engines import ENV_KEY, SPARK_TASKS, EngineJob, key_in_environment


@dataclass(frozen=True)
class RaySession:
    """The session's Ray: where it keeps its logs."""

    session_dir: Path


@pytest.fixture(scope="session")
def ray_session() -> Iterator[RaySession]:
    """A local Ray of 2 CPUs for the session, its object store capped (it would take 30% of RAM)."""
    pytest.importorskip("ray")
    import ray.data

    with key_in_environment(ENV_KEY):
        context = start_ray(2, object_store_memory=200 * 1024 * 1024)
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield RaySession(Path(context.address_info["session_dir"]))
    ray.shutdown()


@dataclass(frozen=True)
class SparkSessionInfo:
    """The session's Spark, where it writes its event log, and its scratch space."""

    spark: Any
    event_log: Path
    local_dir: Path


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkSessionInfo]:
    """A local Spark of :data:`SPARK_TASKS` tasks with its UI and event log on (the key's tests
    read both), skipped only where no java can be had."""
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip(
            "Spark needs Java 17 or 21 and no java is on PATH: `make test` installs Debian's "
            "default-jre-headless where apt-get can; install it (or any JRE 17+) to run these"
        )
    event_log = tmp_path_factory.mktemp("spark-events")
    local_dir = tmp_path_factory.mktemp("spark-local")
    with key_in_environment(ENV_KEY):
        spark = start_spark(
            SPARK_TASKS,
            app_name="orq-embeddings-tests",
            **{
                "spark.ui.enabled": "true",
                "spark.ui.port": "0",
                "spark.eventLog.enabled": "true",
                "spark.eventLog.dir": event_log.as_uri(),
                "spark.eventLog.compress": "false",
                "spark.local.dir": str(local_dir),
            },
        )
    yield SparkSessionInfo(spark, event_log, local_dir)
    spark.stop()


@pytest.fixture
def spark(spark_session: SparkSessionInfo) -> Any:
    """The session's Spark."""
    return spark_session.spark


@pytest.fixture(params=["ray", "spark"])
def engine(request: pytest.FixtureRequest) -> EngineJob:
    """Each engine's job in turn, on the session's Ray or Spark."""
    if request.param == "ray":
        request.getfixturevalue("ray_session")
        return EngineJob("ray")
    return EngineJob("spark", request.getfixturevalue("spark_session").spark)
