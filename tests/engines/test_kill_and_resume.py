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

from orq_embeddings.gateway import GatewayConfig, ResponseFault
from tests.engines.killable_job import BATCH_SIZE, ROWS_PER_PART, corpus
from tests.support.engines import single_client_vectors, vectors_of

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


@pytest.fixture
def slow_gateway(orq_gateway_pool):
    gateway = orq_gateway_pool.get(GatewayConfig(seed=5))
    gateway.inject(ResponseFault(latency_ms=100))
    return gateway


def test_a_killed_job_resumes_exactly(engine, slow_gateway, tmp_path):
    output = tmp_path / "embeddings"
    kill_when_parts_appear(engine.name, output, slow_gateway.base_url)
    written = set(pq.read_table(output, columns=["id"]).column("id").to_pylist())
    assert PARTS_BEFORE_THE_KILL * ROWS_PER_PART <= len(written) < ROWS
    slow_gateway.reset()

    rows = corpus(ROWS)
    result = engine.run(
        rows.column("id").to_pylist(),
        rows.column("text").to_pylist(),
        output,
        pieces=6,
        base_url=slow_gateway.base_url,
        batch_size=BATCH_SIZE,
        rows_per_part=ROWS_PER_PART,
    )

    ids, texts = rows.column("id").to_pylist(), rows.column("text").to_pylist()
    sent = {text for request in slow_gateway.requests() for text in request.body_json()["input"]}
    assert sent == {text for row_id, text in zip(ids, texts, strict=True) if row_id not in written}
    assert (result.resumed, result.embedded) == (len(written), ROWS - len(written))
    table = pq.read_table(output).sort_by("id")
    assert table.column("id").to_pylist() == ids
    np.testing.assert_array_equal(
        vectors_of(table.column("embedding").to_pylist()),
        single_client_vectors(slow_gateway.base_url, texts),
    )
    assert [path.name for path in output.iterdir() if path.name.startswith(".")] == []
