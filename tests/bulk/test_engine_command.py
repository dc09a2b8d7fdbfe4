"""``orq-embeddings embed --engine ray|spark``: the bulk command's files, an engine's workers.

Run as a user runs it, in a child process that starts its own local Ray or Spark. The output is
the one the command writes without an engine (same format, same order, same vectors), bad rows
are reported by line number and skipped, the failed rows are counted at the end, and what cannot
work is refused in one line before an engine starts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orq_embeddings import OrqEmbeddingsClient
from orq_embeddings.gateway import GatewayConfig

MODEL = "openai/text-embedding-3-small"
TEXTS = [f"passage {n} of a small corpus" for n in range(60)]
pytestmark = pytest.mark.timeout(240)


def embed_command(*args: str | Path, timeout: float = 200) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ORQ_API_KEY", "ORQ_BASE_URL")}
    return subprocess.run(
        [sys.executable, "-m", "orq_embeddings.cli", "embed", "--model", MODEL, *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def last_line(stderr: str) -> str:
    return stderr.strip().splitlines()[-1]


@pytest.fixture
def corpus(tmp_path) -> Path:
    """A .jsonl corpus with ids, an empty text on line 5 and a text too big alone on line 9."""
    rows = [{"id": f"doc-{n:02}", "text": text} for n, text in enumerate(TEXTS)]
    rows[4]["text"] = ""
    rows[8]["text"] = "an enormous passage " * 2_000
    source = tmp_path / "corpus.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return source


def expected_vectors(base_url: str, corpus: Path) -> tuple[list[str], np.ndarray]:
    """The ids the output keeps (lines 5 and 9 skipped) and a single client's vectors for them."""
    rows = [json.loads(line) for line in corpus.read_text().splitlines()]
    kept = [row for n, row in enumerate(rows, start=1) if n not in (5, 9)]
    with OrqEmbeddingsClient(MODEL, base_url=base_url) as client:
        vectors = client.embed_numpy([row["text"] for row in kept])
    return [row["id"] for row in kept], vectors


@pytest.mark.parametrize(
    ("engine", "suffix"), [("ray", ".npy"), ("spark", ".parquet")], ids=["ray", "spark"]
)
def test_an_engine_writes_what_the_command_writes_and_counts_the_rows_it_skipped(
    engine, suffix, corpus, tmp_path, orq_gateway_pool
):
    if engine == "spark" and shutil.which("java") is None:
        pytest.skip("Spark needs Java 17 or 21; `make test` installs default-jre-headless")
    gateway = orq_gateway_pool.get(GatewayConfig(max_body_bytes=20_000))
    output = tmp_path / f"vectors{suffix}"

    done = embed_command(
        corpus, "-o", output, "--engine", engine, "--workers", "2", "--id-field", "id",
        "--base-url", gateway.base_url, "--batch-size", "8", "--chunk-rows", "10",
        "--requests-per-minute", "600",
    )  # fmt: skip

    assert done.returncode == 0, done.stderr[-3000:]
    assert "skipping 1 row(s) cannot be embedded: line 5: text is an empty string" in done.stderr
    assert "skipped 1 row(s) cannot be embedded: line 9: refused for its size even alone" in (
        done.stderr
    )
    assert last_line(done.stderr) == (
        f"wrote 58 vectors of 1536 dimensions to {output} "
        f"({last_line(done.stderr).split('(')[1].split(' ')[0]} tokens this run, "
        "skipped 2 bad row(s))"
    )
    ids, vectors = expected_vectors(gateway.base_url, corpus)
    if suffix == ".npy":
        assert json.loads(output.with_suffix(".ids.json").read_text()) == ids
        np.testing.assert_array_equal(np.load(output), vectors)
    else:
        table = pq.read_table(output)
        assert table.column("id").to_pylist() == ids
        np.testing.assert_array_equal(np.stack(table.column("embedding").to_numpy(False)), vectors)
    assert not (tmp_path / f"vectors{suffix}.parts").exists()


def test_strict_refuses_a_bad_row_before_an_engine_starts(corpus, tmp_path, orq_gateway):
    done = embed_command(
        corpus, "-o", tmp_path / "v.npy", "--engine", "ray", "--strict", "--base-url",
        orq_gateway.base_url,
    )  # fmt: skip

    assert done.returncode == 3
    assert last_line(done.stderr) == (
        "error: 1 row(s) cannot be embedded: line 5: text is an empty string"
    )
    assert orq_gateway.counters().requests == 0


def test_a_budget_below_the_workers_is_refused_in_one_line_before_an_engine_starts(
    corpus, tmp_path, orq_gateway
):
    done = embed_command(
        corpus, "-o", tmp_path / "v.npy", "--engine", "spark", "--workers", "4",
        "--requests-per-minute", "3", "--base-url", orq_gateway.base_url,
    )  # fmt: skip

    assert done.returncode == 2
    assert done.stderr == (
        "error: --requests-per-minute: is 3, which cannot give each of the 4 concurrent tasks one "
        "request per window: raise it to at least 4, or run fewer concurrent tasks (at most 3)\n"
    )


def test_parts_of_another_corpus_are_never_mixed_in(corpus, tmp_path, orq_gateway):
    """A rerun after the corpus changed is refused while the parts of the first run are kept."""
    parts = tmp_path / "v.npy.parts"
    parts.mkdir()
    (parts / "_orq_input.json").write_text(
        json.dumps({"input_sha256": "0" * 64, "text_field": "text", "id_field": None})
    )
    pq.write_table(pa.table({"line": [1, 2]}), parts / "orq-part-earlier.parquet")

    done = embed_command(
        corpus, "-o", tmp_path / "v.npy", "--engine", "ray", "--base-url", orq_gateway.base_url
    )

    assert done.returncode == 2
    assert last_line(done.stderr) == (
        f"error: {parts} holds 2 rows embedded by a job with other settings (INPUT: its content "
        "changed). Run that job again to continue it, or rerun this one with --restart to "
        "discard the saved rows and start over"
    )
