"""Each notebook's install cell, run as written into a fresh venv, brings everything it imports.

The cell says ``pip install -qU "orq-embeddings[...]" ...``; here the wheel stands in for
``orq-embeddings`` and the rest of the line is installed as written. Then every import statement
of the notebook's code cells runs in that venv.
"""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path

import nbformat
import pytest

from .installs import ROOT, Install, make_venv

pytestmark = pytest.mark.timeout(600)

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
INSTALL_LINE = re.compile(r"^pip install -qU (.+)$", re.MULTILINE)
DISTRIBUTION = re.compile(r"^orq-embeddings\[(?P<extras>[^\]]+)\]$")


def install_of(notebook: nbformat.NotebookNode) -> Install:
    """The :class:`Install` the notebook's install cell asks for."""
    lines = [
        found.group(1)
        for cell in notebook.cells
        if cell.cell_type == "markdown"
        for found in INSTALL_LINE.finditer(cell.source)
    ]
    assert len(lines) == 1, f"expected one install line, found {lines}"
    ours, *others = shlex.split(lines[0])
    named = DISTRIBUTION.match(ours)
    assert named, f"the install line starts with {ours!r}, not orq-embeddings[...]"
    return Install(extras=tuple(named.group("extras").split(",")), also=tuple(others))


def import_statements(notebook: nbformat.NotebookNode) -> list[str]:
    """Every ``import`` and ``from ... import`` of the code cells, as source."""
    statements = []
    for cell in notebook.cells:
        if cell.cell_type == "code":
            for node in ast.walk(ast.parse(cell.source)):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    statements.append(ast.unparse(node))
    return statements


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_the_install_cell_brings_every_import_of_the_notebook(path: Path, distributions, tmp_path):
    notebook = nbformat.read(path, as_version=4)
    statements = import_statements(notebook)
    assert any("matplotlib" in statement for statement in statements)  # what was missing once
    installed = make_venv(tmp_path / "venv", install_of(notebook), distributions.wheel)

    finished = installed.run("python", "-c", "\n".join(statements))

    assert finished.returncode == 0, f"{path.name}: {finished.stderr[-2000:]}"
