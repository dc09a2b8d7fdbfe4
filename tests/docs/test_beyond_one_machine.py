"""docs/beyond-one-machine.md's Python, run as a reader would run it, against the local gateway.

Each fenced python block runs as a script in a fresh process, in a folder holding the
``passages.parquet`` the examples read, with ``ORQ_BASE_URL`` pointing at a local gateway on
127.0.0.1 and no key. Each script starts its own Ray or Spark as written (``ray.init()``,
``SparkSession.builder.getOrCreate()``); the environment keeps them on 127.0.0.1, as the suite's
own are (tests/conftest.py), and Spark's web UI off.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.docs.readme_blocks import Block, python_blocks

DOC = Path(__file__).resolve().parents[2] / "docs" / "beyond-one-machine.md"
BLOCKS = python_blocks(DOC.read_text(encoding="utf-8"))
ROWS = 30
RUN_TIMEOUT_SECONDS = 200

pytestmark = pytest.mark.timeout(RUN_TIMEOUT_SECONDS + 30)


def engine_of(block: Block) -> str:
    return "spark" if "pyspark" in block.code else "ray"


def test_the_doc_shows_both_engines():
    assert sorted({engine_of(block) for block in BLOCKS}) == ["ray", "spark"]


@pytest.mark.parametrize("block", BLOCKS, ids=lambda block: f"line {block.line} {engine_of(block)}")
def test_each_example_runs_as_a_script(block: Block, tmp_path: Path, orq_gateway):
    if engine_of(block) == "spark" and shutil.which("java") is None:
        pytest.skip("Spark needs Java 17 or 21; `make test` installs default-jre-headless")
    pq.write_table(
        pa.table({"id": list(range(ROWS)), "text": [f"passage {n}" for n in range(ROWS)]}),
        tmp_path / "passages.parquet",
    )
    (tmp_path / "example.py").write_text(block.code, encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if k != "ORQ_API_KEY"}
    environment.update(
        ORQ_BASE_URL=orq_gateway.base_url,
        SPARK_LOCAL_IP="127.0.0.1",
        PYSPARK_PYTHON=sys.executable,
        PYSPARK_SUBMIT_ARGS="--conf spark.ui.enabled=false --conf spark.driver.host=127.0.0.1 "
        "--conf spark.driver.bindAddress=127.0.0.1 pyspark-shell",
    )

    finished = subprocess.run(
        [sys.executable, "example.py"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
    )

    assert finished.returncode == 0, f"line {block.line} failed:\n{finished.stderr[-4000:]}"
    if "embed_data" in block.code:
        assert finished.stdout.strip().endswith(f"{ROWS} rows, 0 failed, 0 from earlier runs")
        assert len(pq.read_table(tmp_path / "embeddings")) == ROWS
    assert orq_gateway.counters().requests > 0
