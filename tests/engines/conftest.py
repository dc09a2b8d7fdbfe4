"""One local Ray and one local Spark for the whole session, both on 127.0.0.1 only.

Starting either takes seconds (Ray ~5 s, Spark's JVM ~5-10 s), so each starts once, on first use,
and stops when the session ends. Their workers inherit ``ORQ_API_KEY`` as it is while they start:
:data:`ENV_KEY`, which the tests of the key look for everywhere afterwards.

Spark needs Java: ``make test`` installs Debian's default-jre-headless where java is missing, and
the Spark tests are skipped, saying so, only where no java can be had.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from orq_embeddings import OrqEmbeddingsClient
from orq_embeddings._engines.local_sessions import start_ray, start_spark
from tests.support.leaks import FAKE_KEY

#: The key the workers and tasks find in their environment.
ENV_KEY = FAKE_KEY
#: A key a test hands to a job explicitly, as its ``api_key``.
GIVEN_KEY = "sk-orq-FAKE-given-to-the-job-3b9d1e07"
MODEL = "openai/text-embedding-3-small"
#: Tasks the session's Spark runs at once (``local[4]``): the work waits on HTTP, not on cores.
SPARK_TASKS = 4


@contextmanager
def key_in_environment(key: str) -> Iterator[None]:
    """``ORQ_API_KEY`` is ``key`` while an engine starts (its workers keep it), then as it was."""
    before = os.environ.get("ORQ_API_KEY")
    os.environ["ORQ_API_KEY"] = key
    try:
        yield
    finally:
        if before is None:
            del os.environ["ORQ_API_KEY"]
        else:
            os.environ["ORQ_API_KEY"] = before


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


# -- one job, run the same way on either engine ------------------------------------------------

TEXTS = [f"passage {n} about {'rivers' if n % 3 else 'mountains'}" for n in range(120)]


def single_client_vectors(base_url: str, texts: list[str], model: str = MODEL) -> np.ndarray:
    """What one client in this process gives ``texts``: what every engine must give them too."""
    with OrqEmbeddingsClient(model, base_url=base_url) as client:
        return client.embed_numpy(texts)


def vectors_of(column: list) -> np.ndarray:
    """An ``embedding`` column's vectors as one float32 array."""
    return np.stack([np.asarray(vector, dtype=np.float32) for vector in column])


@dataclass(frozen=True)
class EngineJob:
    """An engine's job (``embed_dataset``, ``embed_dataframe``), called the same way on both.

    Attributes:
        name: ``"ray"`` or ``"spark"``.
        spark: the session's Spark, for Spark's job.
    """

    name: str
    spark: Any = None

    def run(
        self,
        ids: list,
        texts: list,
        output: Path,
        *,
        pieces: int = 3,
        model: str = MODEL,
        **settings,
    ) -> Any:
        """Embed the rows, handed over in ``pieces`` blocks or partitions, into ``output``."""
        table = pa.table({"id": pa.array(ids, type=None if ids else pa.int64()), "text": texts})
        size = max(1, -(-len(ids) // pieces))
        if self.name == "ray":
            import ray.data

            from orq_embeddings.ray import embed_dataset

            blocks = [table.slice(start, size) for start in range(0, len(ids), size)] or [table]
            return embed_dataset(ray.data.from_arrow(blocks), model, output, **settings)
        from orq_embeddings.spark import embed_dataframe

        frame = self.spark.createDataFrame(table).repartition(pieces)
        return embed_dataframe(frame, model, output, **settings)

    def runners(self, count: int) -> dict[str, int]:
        """The setting that runs ``count`` workers (Ray) or concurrent tasks (Spark)."""
        return {"workers" if self.name == "ray" else "concurrent_tasks": count}

    @property
    def runners_noun(self) -> str:
        return "workers" if self.name == "ray" else "concurrent tasks"


@pytest.fixture(params=["ray", "spark"])
def engine(request: pytest.FixtureRequest) -> EngineJob:
    """Each engine's job in turn, on the session's Ray or Spark."""
    if request.param == "ray":
        request.getfixturevalue("ray_session")
        return EngineJob("ray")
    return EngineJob("spark", request.getfixturevalue("spark_session").spark)
