"""``orq-embeddings embed`` after a mistake: fixed and run again, as a user does.

Every test runs the real command in its own process, against the local gateway or, where a run
must save part of the job and then fail, the scripted server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from orq_embeddings.bulk.checkpoint import Checkpoint
from orq_embeddings.gateway import GatewayConfig
from tests.support.scripted_server import embedding_reply, reply, vector_for

MODEL = "openai/text-embedding-3-small"
TEXTS = [f"passage {i} about subject {i % 5}" for i in range(100)]
GATEWAY_KEY = "sk-orq-FAKE-bulk-recovery-3a9d"


def embed(*args: str | Path, key: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``orq-embeddings embed ARGS`` with no key from this machine's environment."""
    env = {k: v for k, v in os.environ.items() if k not in ("ORQ_API_KEY", "ORQ_BASE_URL")}
    if key is not None:
        env["ORQ_API_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "orq_embeddings.cli", "embed", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    source = tmp_path / "corpus.txt"
    source.write_text("\n".join(TEXTS) + "\n")
    return source


def small_job(corpus: Path, output: Path, base_url: str, *more: str) -> list[str | Path]:
    """The arguments of a job cut into requests of 10 rows, saved 20 rows at a time."""
    return [
        corpus,
        "-o",
        output,
        "--base-url",
        base_url,
        "--batch-size",
        "10",
        "--chunk-rows",
        "20",
        "--max-concurrency",
        "1",
        *more,
    ]


def on_gateway(source: Path, output: Path, gateway, *more: str | Path) -> list[str | Path]:
    """The arguments of a job with the defaults but the model, sent to ``gateway``."""
    return [source, "-o", output, "--model", MODEL, "--base-url", gateway.base_url, *more]


def only_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_a_wrong_model_leaves_nothing_behind_and_the_corrected_command_runs(
    corpus, tmp_path, orq_gateway
):
    output = tmp_path / "vectors.npy"
    wrong = embed(*small_job(corpus, output, orq_gateway.base_url, "--model", "openai/no-such"))
    assert wrong.returncode == 1
    assert "404" in wrong.stderr
    assert not (tmp_path / "vectors.npy.checkpoint").exists()

    fixed = embed(*small_job(corpus, output, orq_gateway.base_url, "--model", MODEL))
    assert fixed.returncode == 0, fixed.stderr
    assert "wrote 100 vectors of 1536 dimensions" in fixed.stderr
    assert np.load(output).shape == (100, 1536)


def test_a_wrong_base_url_then_the_corrected_command_runs(corpus, tmp_path, orq_gateway):
    output = tmp_path / "vectors.npy"
    nothing_there = "http://127.0.0.1:9/v2/router"
    wrong = embed(*small_job(corpus, output, nothing_there, "--model", MODEL, "--dimensions", "8"))
    assert wrong.returncode == 1
    assert "127.0.0.1:9" in wrong.stderr

    fixed = embed(
        *small_job(corpus, output, orq_gateway.base_url, "--model", MODEL, "--dimensions", "8")
    )
    assert fixed.returncode == 0, fixed.stderr
    assert np.load(output).shape == (100, 8)


def test_a_bad_key_then_the_corrected_command_runs(corpus, tmp_path, orq_gateway_pool):
    gateway = orq_gateway_pool.get(GatewayConfig(api_key=GATEWAY_KEY))
    output = tmp_path / "vectors.npy"
    job = small_job(corpus, output, gateway.base_url, "--model", MODEL, "--dimensions", "8")
    wrong = embed(*job, key="sk-orq-FAKE-revoked")
    assert wrong.returncode == 1
    assert "401" in wrong.stderr

    fixed = embed(*job, key=GATEWAY_KEY)
    assert fixed.returncode == 0, fixed.stderr
    assert "continuing" not in fixed.stderr
    assert np.load(output).shape == (100, 8)


def test_a_checkpoint_with_no_saved_row_never_blocks_another_job(corpus, tmp_path, orq_gateway):
    # What a run killed before its first chunk leaves: a manifest of its own, no chunk.
    output = tmp_path / "vectors.npy"
    Checkpoint.open(tmp_path / "vectors.npy.checkpoint", {"model": "openai/typo", "rows": 100})
    fixed = embed(
        *small_job(corpus, output, orq_gateway.base_url, "--model", MODEL, "--dimensions", "8")
    )
    assert fixed.returncode == 0, fixed.stderr
    assert np.load(output).shape == (100, 8)


def save_part_then_fail(server, corpus: Path, output: Path) -> None:
    """A first run that saves 3 chunks (60 rows) and then meets a request orq refuses."""
    server.push(*[embedding_reply() for _ in range(6)])
    server.default = reply(400, {"error": {"message": "refused"}})
    first = embed(*small_job(corpus, output, server.base_url, "--model", MODEL))
    assert first.returncode == 1
    assert "60 of 100 rows are saved" in first.stderr
    server.default = embedding_reply()


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (
            ["--model", "openai/text-embedding-3-large"],
            '--model: was "openai/text-embedding-3-small"',
        ),
        (["--model", MODEL, "--dimensions", "4"], "--dimensions: was null, now 4"),
        (["--model", MODEL, "--orq", '{"cache": {"ttl": 60}}'], "--orq: was {}, now"),
        (["--model", MODEL, "--base-url", "http://localhost:1/v2/router"], "--base-url: was"),
        (
            ["--model", MODEL, "--document-prefix", "passage: "],
            '--document-prefix: was null, now "passage: "',
        ),
        (["--model", MODEL, "--prefixes", "nomic"], '--document-prefix: was null, now "search_'),
    ],
    ids=["model", "dimensions", "orq options", "base url", "document prefix", "prefix preset"],
)
def test_changing_a_job_with_saved_rows_is_refused_with_the_choice_spelled_out(
    server, corpus, tmp_path, change, named
):
    output = tmp_path / "vectors.npy"
    save_part_then_fail(server, corpus, output)
    sent = len(server.requests)

    # A later --base-url wins over the one small_job gives.
    changed = embed(*small_job(corpus, output, server.base_url), *change)
    assert changed.returncode == 2
    message = only_line(changed.stderr)
    assert "holds 60 rows embedded by a job with other settings" in message
    assert named in message
    assert "Run that job again to continue it" in message
    assert "rerun this one with --restart to discard the saved rows" in message
    assert len(server.requests) == sent


def test_restart_embeds_the_whole_job_again(server, corpus, tmp_path):
    output = tmp_path / "vectors.npy"
    save_part_then_fail(server, corpus, output)
    sent = len(server.requests)
    args = small_job(corpus, output, server.base_url, "--model", "openai/text-embedding-3-large")
    restarted = embed(*args, "--restart")
    assert restarted.returncode == 0, restarted.stderr
    assert "restarting: discarded 60 saved rows" in restarted.stderr
    assert sum(len(body["input"]) for body in server.bodies()[sent:]) == 100
    assert all(body["model"] == "openai/text-embedding-3-large" for body in server.bodies()[sent:])
    np.testing.assert_array_equal(
        np.load(output), np.asarray([vector_for(t) for t in TEXTS], np.float32)
    )


def test_the_summary_of_a_resumed_job_counts_every_run(server, corpus, tmp_path):
    output = tmp_path / "vectors.npy"
    save_part_then_fail(server, corpus, output)
    second = embed(*small_job(corpus, output, server.base_url, "--model", MODEL))
    assert second.returncode == 0, second.stderr
    # The scripted server counts one token an input: 60 in the first run, 40 in the second.
    assert (
        "wrote 100 vectors of 8 dimensions to "
        f"{output} (100 tokens over 2 runs, 60 rows from earlier runs)"
    ) in second.stderr


def test_repeated_ids_are_refused_naming_their_lines(tmp_path, orq_gateway):
    source = tmp_path / "docs.jsonl"
    ids = ["a", "b", "a", "c", "b", "a"]
    source.write_text(
        "".join(json.dumps({"doc": i, "text": f"text {n}"}) + "\n" for n, i in enumerate(ids))
    )
    finished = embed(*on_gateway(source, tmp_path / "v.npy", orq_gateway, "--id-field", "doc"))
    assert finished.returncode == 2
    assert only_line(finished.stderr) == (
        "error: --id-field: 2 id(s) in 'doc' repeat, so the output could not be joined back by "
        "id: 'a' on lines 1, 3, 6; 'b' on lines 2, 5"
    )
    assert orq_gateway.requests() == []


def test_bad_rows_are_named_by_the_text_field_in_use(tmp_path, orq_gateway):
    source = tmp_path / "docs.jsonl"
    source.write_text('{"body": "fine"}\n{"text": "wrong field"}\n{"body": ""}\n{"body": 3}\n')
    args = on_gateway(source, tmp_path / "v.jsonl", orq_gateway, "--text-field", "body")
    finished = embed(*args, "--dimensions", "8")
    assert finished.returncode == 0, finished.stderr
    assert (
        "line 2: body is missing; line 3: body is an empty string; "
        "line 4: body is a int, not a string"
    ) in finished.stderr


def test_an_output_in_a_missing_folder_is_refused_naming_the_folder(corpus, tmp_path, orq_gateway):
    output = tmp_path / "not-made" / "vectors.npy"
    finished = embed(*on_gateway(corpus, output, orq_gateway))
    assert finished.returncode == 2
    assert only_line(finished.stderr) == (
        f"error: --output: the folder {output.parent} does not exist; "
        f"create it first (mkdir -p {output.parent}) or write elsewhere"
    )
    assert not output.parent.exists()
    assert orq_gateway.requests() == []


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--batch-size", "0"], "error: --batch-size: must be at least 1, got 0"),
        (["--max-concurrency", "0"], "error: --max-concurrency: must be at least 1, got 0"),
        (["--chunk-rows", "0"], "error: --chunk-rows: must be at least 1, got 0"),
        (
            ["--requests-per-minute", "0"],
            "error: --requests-per-minute: must be at least 1, got 0",
        ),
        (["--tokens-per-minute", "-5"], "error: --tokens-per-minute: must be at least 1, got -5"),
        (["--dimensions", "0"], "error: --dimensions: must be at least 1, got 0"),
        (
            ["--orq", '{"retry": {"count": 9}}'],
            "error: retry.count in --orq: must be from 0 to 5, got 9",
        ),
        (["--orq", '{"retyr": {"count": 1}}'], "error: --orq: has no key 'retyr'; the valid keys"),
    ],
)
def test_a_setting_out_of_its_limits_is_one_line_naming_the_flag(
    corpus, tmp_path, orq_gateway, flags, says
):
    finished = embed(*on_gateway(corpus, tmp_path / "v.npy", orq_gateway, *flags))
    assert finished.returncode == 2
    assert only_line(finished.stderr).startswith(says)
    assert "_" not in finished.stderr.split("valid keys")[0]  # no batch_size, chunk_rows, ...
