"""``orq-embeddings embed --document-prefix / --prefixes``: on the wire, and in the checkpoint."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.bulk.test_bulk_recovery import (
    MODEL,
    TEXTS,
    embed,
    only_line,
    save_part_then_fail,
    small_job,
)
from tests.support.scripted_server import vector_for


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """The corpus of test_bulk_recovery's jobs, which save_part_then_fail expects."""
    source = tmp_path / "corpus.txt"
    source.write_text("\n".join(TEXTS) + "\n")
    return source


def test_every_row_is_sent_with_the_document_prefix(server, corpus, tmp_path):
    output = tmp_path / "vectors.npy"
    args = small_job(corpus, output, server.base_url, "--model", MODEL)
    done = embed(*args, "--document-prefix", "passage: ")
    assert done.returncode == 0, done.stderr
    assert sorted(server.inputs()) == sorted(f"passage: {text}" for text in TEXTS)
    expected = np.asarray([vector_for(f"passage: {text}") for text in TEXTS], np.float32)
    np.testing.assert_array_equal(np.load(output), expected)


def test_a_preset_gives_the_rows_its_document_prefix(server, corpus, tmp_path):
    args = small_job(corpus, tmp_path / "vectors.npy", server.base_url, "--model", MODEL)
    done = embed(*args, "--prefixes", "nomic")
    assert done.returncode == 0, done.stderr
    assert all(item.startswith("search_document: ") for item in server.inputs())


def test_a_job_with_a_prefix_continues_when_run_again_with_it(server, corpus, tmp_path):
    output = tmp_path / "vectors.npy"
    save_part_then_fail(server, corpus, output)
    # The first run had no prefix; a preset whose document side is empty changes nothing.
    args = small_job(corpus, output, server.base_url, "--model", MODEL, "--prefixes", "bge")
    again = embed(*args)
    assert again.returncode == 0, again.stderr
    assert "continuing: 60 of 100 rows were already embedded" in again.stderr


def test_an_unknown_preset_is_one_line_naming_the_flag_and_the_presets(server, corpus, tmp_path):
    args = small_job(corpus, tmp_path / "vectors.npy", server.base_url, "--model", MODEL)
    refused = embed(*args, "--prefixes", "e6")
    assert refused.returncode == 2
    assert only_line(refused.stderr) == (
        "error: --prefixes: unknown prefix preset 'e6'; "
        "the presets are 'e5', 'bge', 'nomic', 'mxbai'"
    )
    assert server.requests == []
