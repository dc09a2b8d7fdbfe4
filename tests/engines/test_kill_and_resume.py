"""A job killed halfway resumes exactly: every id once, no request for a row already written.

The job runs in a process group of its own (tests/engines/killable_job.py, with its own Ray or
Spark) against a gateway slowed to 100 ms a request. Once a few parts are written, the whole
group is killed (SIGKILL: the machine lost, nothing gets to clean up). The rerun, on the
session's Ray or Spark, must send requests for the other rows only, and the output must then
hold every id exactly once with the vector a single client gives it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pyarrow.parquet as pq
import pytest

from orq_embeddings import OrqEmbeddingsClient
from orq_embeddings.gateway import GatewayConfig, ResponseFault
from tests.engines.conftest import MODEL
from tests.engines.killable_job import BATCH_SIZE, ROWS_PER_PART, corpus

ROOT = Path(__file__).resolve().parents[2]
ROWS = 600
#: Parts on disk before the kill: the job is well under way, and far from done.
PARTS_BEFORE_THE_KILL = 4
STARTUP_SECONDS = 150

pytestmark = pytest.mark.timeout(300)


def kill_when_parts_appear(engine: str, output: Path, base_url: str) -> None:
    """Run the job in its own process group; SIGKILL the whole group once parts are written."""
    job = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.engines.killable_job",
            engine,
            str(output),
            base_url,
            str(ROWS),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while len(list(output.glob("orq-part-*.parquet"))) < PARTS_BEFORE_THE_KILL:
            if job.poll() is not None or time.monotonic() > deadline:
                printed = job.stdout.read().decode(errors="replace") if job.stdout else ""
                pytest.fail(f"the job ended or stalled before writing parts:\n{printed[-4000:]}")
            time.sleep(0.05)
    finally:
        kill_everything_started_by(job)


def kill_everything_started_by(job: subprocess.Popen) -> None:
    """SIGKILL the job's process group, and every process it started that left the group.

    Ray's agents and Spark's JVM outlive a driver killed alone, so the whole group goes; Spark's
    Python workers put themselves in groups of their own, so they are killed by their ids.
    """
    started = psutil.Process(job.pid).children(recursive=True)
    os.killpg(job.pid, signal.SIGKILL)
    for process in started:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    psutil.wait_procs(started, timeout=30)
    job.wait(timeout=30)
    if job.stdout:
        job.stdout.close()


def resume(engine: str, output: Path, base_url: str, spark=None):
    table = corpus(ROWS)
    settings = {"base_url": base_url, "batch_size": BATCH_SIZE, "rows_per_part": ROWS_PER_PART}
    if engine == "ray":
        import ray.data

        from orq_embeddings.ray import embed_dataset

        blocks = [table.slice(start, 100) for start in range(0, ROWS, 100)]
        return embed_dataset(ray.data.from_arrow(blocks), MODEL, output, **settings)
    from orq_embeddings.spark import embed_dataframe

    return embed_dataframe(spark.createDataFrame(table.to_pandas()), MODEL, output, **settings)


@pytest.fixture
def slow_gateway(orq_gateway_pool):
    gateway = orq_gateway_pool.get(GatewayConfig(seed=5))
    gateway.inject(ResponseFault(latency_ms=100))
    return gateway


@pytest.fixture(params=["ray", "spark"])
def engine(request):
    """The engine, with the session's Ray or Spark started for the rerun."""
    session = request.getfixturevalue("ray_session" if request.param == "ray" else "spark_session")
    return request.param, getattr(session, "spark", None)


def test_a_killed_job_resumes_exactly(engine, slow_gateway, tmp_path):
    name, spark = engine
    output = tmp_path / "embeddings"
    kill_when_parts_appear(name, output, slow_gateway.url + "/v2/router")
    written = set(pq.read_table(output, columns=["id"]).column("id").to_pylist())
    assert PARTS_BEFORE_THE_KILL * ROWS_PER_PART <= len(written) < ROWS
    slow_gateway.reset()

    result = resume(name, output, slow_gateway.base_url, spark)

    texts = dict(
        zip(
            corpus(ROWS).column("id").to_pylist(),
            corpus(ROWS).column("text").to_pylist(),
            strict=True,
        )
    )
    sent = {text for request in slow_gateway.requests() for text in request.body_json()["input"]}
    assert sent == {texts[row_id] for row_id in texts if row_id not in written}
    assert (result.resumed, result.embedded) == (len(written), ROWS - len(written))
    table = pq.read_table(output).sort_by("id")
    assert table.column("id").to_pylist() == sorted(texts)
    with OrqEmbeddingsClient(MODEL, base_url=slow_gateway.base_url) as client:
        expected = client.embed_numpy([texts[row_id] for row_id in sorted(texts)])
    vectors = np.stack([np.asarray(v, np.float32) for v in table.column("embedding").to_pylist()])
    np.testing.assert_array_equal(vectors, expected)
    assert [path.name for path in output.iterdir() if path.name.startswith(".")] == []
