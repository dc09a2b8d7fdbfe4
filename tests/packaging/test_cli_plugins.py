"""Subcommands from other packages (the ``orq_embeddings.commands`` entry points)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.support.command_line import run_cli


def install_fake_plugin(site: Path, target: str) -> None:
    """A distribution's metadata on ``site`` declaring the ``broken`` subcommand at ``target``."""
    info = site / "broken_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[orq_embeddings.commands]\nbroken = {target}\n")


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        ("no_such_module_4f1:COMMAND", "cannot be loaded (ModuleNotFoundError: "),
        ("os:sep", "is a str, not an orq_embeddings.cli.Subcommand"),
    ],
)
def test_a_broken_plugin_is_ignored_with_one_warning_and_help_still_works(
    tmp_path, target, problem
):
    install_fake_plugin(tmp_path, target)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}

    finished = run_cli("--help", env=env)

    assert finished.returncode == 0
    assert "gateway" in finished.stdout and "embed" in finished.stdout
    assert "broken" not in finished.stdout
    (warning,) = finished.stderr.splitlines()
    assert warning.startswith(
        f"orq-embeddings: warning: ignoring the subcommand 'broken' ({target}): "
    )
    assert problem in warning
