"""``orq-embeddings embed`` run as a user runs it: interrupted, killed, and run again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.support.scripted_server import after, embedding_reply, vector_for

TEXTS = [f"line {i} of a corpus big enough to interrupt" for i in range(400)]


def start_embedding(source: Path, output: Path, base_url: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ORQ_API_KEY", "ORQ_BASE_URL")}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "orq_embeddings.cli",
            "embed",
            str(source),
            "-o",
            str(output),
            "--model",
            "openai/text-embedding-3-small",
            "--base-url",
            base_url,
            "--batch-size",
            "10",
            "--max-concurrency",
            "2",
            "--chunk-rows",
            "20",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def wait_for_chunks(checkpoint: Path, count: int, deadline: float = 20.0) -> None:
    give_up = time.monotonic() + deadline
    while len(list(checkpoint.glob("chunk-*.npy"))) < count:
        assert time.monotonic() < give_up, "the job saved no chunk in time"
        time.sleep(0.02)


@pytest.fixture
def corpus(tmp_path):
    source = tmp_path / "corpus.txt"
    source.write_text("\n".join(TEXTS) + "\n")
    return source


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "crash"])
def test_an_interrupted_run_continues_and_every_row_appears_once_in_order(
    corpus, tmp_path, server, stop
):
    # Eight quick answers (four chunks of twenty rows), then a server too slow to finish before
    # the signal, however loaded the machine: the run is always stopped part-way.
    server.push(*[embedding_reply() for _ in range(8)])
    server.default = after(30, embedding_reply())
    output = tmp_path / "vectors.npy"
    first = start_embedding(corpus, output, server.base_url)
    wait_for_chunks(tmp_path / "vectors.npy.checkpoint", 3)
    first.send_signal(stop)
    # Promptly: the stalled requests in flight are abandoned, not awaited.
    _, stderr = first.communicate(timeout=10)
    if stop == signal.SIGINT:
        assert first.returncode == 130
        assert "run the same command again to continue" in stderr
    else:
        assert first.returncode == -signal.SIGKILL
    assert not output.exists()
    sent_before = sum(len(body["input"]) for body in server.bodies())
    assert sent_before < len(TEXTS)

    server.default = embedding_reply()
    second = start_embedding(corpus, output, server.base_url)
    _, stderr = second.communicate(timeout=60)
    assert second.returncode == 0, stderr
    assert "continuing:" in stderr
    assert "wrote 400 vectors of 8 dimensions" in stderr
    np.testing.assert_array_equal(
        np.load(output), np.asarray([vector_for(t) for t in TEXTS], np.float32)
    )
    assert json.loads(output.with_suffix(".ids.json").read_text()) == list(range(1, 401))
    assert not (tmp_path / "vectors.npy.checkpoint").exists()


def test_a_run_without_a_key_for_orq_ai_explains_what_to_do(corpus, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("ORQ_API_KEY", "ORQ_BASE_URL")}
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "orq_embeddings.cli",
            "embed",
            str(corpus),
            "-o",
            str(tmp_path / "v.npy"),
            "--model",
            "openai/text-embedding-3-small",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert finished.returncode == 2
    assert finished.stderr.count("\n") == 1
    assert finished.stderr.startswith("error: no orq.ai API key")
    assert "--base-url" in finished.stderr and "base_url" not in finished.stderr
