"""The command line imports only what the chosen subcommand needs, in the dev environment too.

``orq-embeddings --help`` must be cheap (benchmarks/cli_startup.py times it); this checks what it
imports, which is what makes it cheap and what makes it work in every install.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: Imports that would make ``--help`` slow, or break it where an extra is missing.
HEAVY = (
    "numpy",
    "httpx",
    "requests",
    "pydantic",
    "tqdm",
    "uvicorn",
    "langchain_core",
    "llama_index",
    "pyarrow",
)

#: Runs the CLI in-process with ARGV, then prints which HEAVY modules got imported.
IMPORTED_BY_MAIN = """
import json, sys
from orq_embeddings.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
heavy = {heavy}
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}} & set(heavy))))
"""


def heavy_modules_imported(*argv: str) -> list[str]:
    script = IMPORTED_BY_MAIN.format(heavy=list(HEAVY))
    finished = subprocess.run(
        [sys.executable, "-c", script, *argv], capture_output=True, text=True, timeout=60
    )
    assert finished.returncode == 0, finished.stderr
    return json.loads(finished.stdout.splitlines()[-1])


def test_top_level_help_imports_nothing_heavy():
    assert heavy_modules_imported("--help") == []


@pytest.mark.parametrize(
    ("subcommand", "allowed"),
    [
        ("demo", []),
        ("gateway", ["pydantic"]),  # its config model gives the flags' defaults
        ("embed", ["httpx", "numpy", "pydantic", "requests"]),
    ],
)
def test_a_subcommands_help_imports_only_what_declaring_its_flags_needs(subcommand, allowed):
    imported = heavy_modules_imported(subcommand, "--help")

    assert set(imported) <= set(allowed)
    assert "langchain_core" not in imported and "llama_index" not in imported
    assert "uvicorn" not in imported
