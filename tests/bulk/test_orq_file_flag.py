"""``orq-embeddings embed --orq @FILE``: a file that cannot be read is a usage error, one line."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.command_line import run_cli


def run_embed(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    source = tmp_path / "corpus.txt"
    source.write_text("one\ntwo\n")
    return run_cli("embed", str(source), "-o", str(tmp_path / "out.npy"), "--model", "m", *args)


def test_a_missing_orq_file_exits_2_naming_the_file(tmp_path: Path):
    missing = tmp_path / "missing.json"

    finished = run_embed(tmp_path, "--orq", f"@{missing}")

    assert finished.returncode == 2
    assert finished.stderr.splitlines() == [
        f"orq-embeddings embed: error: argument --orq: cannot read {missing}: "
        "No such file or directory (see orq-embeddings embed --help)"
    ]
    assert not (tmp_path / "out.npy").exists()


def test_an_orq_file_that_is_a_folder_exits_2_naming_it(tmp_path: Path):
    finished = run_embed(tmp_path, "--orq", f"@{tmp_path}")

    assert finished.returncode == 2
    assert "Traceback" not in finished.stderr
    assert f"cannot read {tmp_path}: Is a directory" in finished.stderr
    assert len(finished.stderr.splitlines()) == 1


def test_a_readable_orq_file_is_used(tmp_path: Path):
    options = tmp_path / "orq.json"
    options.write_text("[1, 2]")

    finished = run_embed(tmp_path, "--orq", f"@{options}")

    # Read, then refused for what it holds: proof the file itself was opened.
    assert finished.returncode == 2
    assert "argument --orq: must be a JSON object" in finished.stderr
