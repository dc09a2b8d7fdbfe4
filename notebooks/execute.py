"""Execute the notebooks top to bottom and save them with their outputs, in place.

    .venv/bin/python notebooks/execute.py                        # every notebook in this folder
    .venv/bin/python notebooks/execute.py notebooks/langchain_orq.ipynb

They always run offline: ``ORQ_API_KEY`` and ``ORQ_BASE_URL`` are left out of the kernel's
environment, so each notebook starts the local gateway, and the committed outputs depend on
nobody's orq.ai account. The test suite (``tests/notebooks``) executes them through
:func:`execute` as well, so there is one way to run them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS_DIR = Path(__file__).resolve().parent
#: Generous: the slowest cell takes well under a second on the local gateway.
CELL_TIMEOUT_SECONDS = 120
#: What would send a notebook to orq.ai instead of the local gateway.
ONLINE_VARIABLES = ("ORQ_API_KEY", "ORQ_BASE_URL")


def notebooks() -> list[Path]:
    """Every notebook in this folder, by name."""
    return sorted(NOTEBOOKS_DIR.glob("*.ipynb"))


def offline_environment(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without the orq.ai variables, plus ``overrides``."""
    environment = {k: v for k, v in os.environ.items() if k not in ONLINE_VARIABLES}
    environment.update(overrides or {})
    return environment


def execute(
    path: Path,
    *,
    env: Mapping[str, str] | None = None,
    cell_timeout: int = CELL_TIMEOUT_SECONDS,
) -> nbformat.NotebookNode:
    """Run a notebook in a fresh ``python3`` kernel in the notebook's folder; return it executed.

    Args:
        path: the notebook; it is read, not written.
        env: variables to set in the kernel, over the offline environment.
        cell_timeout: seconds any one cell may take.

    Raises:
        nbclient.exceptions.CellExecutionError: a cell raised; the message shows the cell and the
            traceback.
    """
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=cell_timeout,
        record_timing=False,  # no timestamps in the saved cells: a re-run changes only outputs
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute(env=offline_environment(env))
    coalesce_streams(notebook)
    return notebook


def coalesce_streams(notebook: nbformat.NotebookNode) -> None:
    """Join each cell's consecutive prints into one output per stream, in place.

    The kernel flushes printed text on a timer, so one print can land in two outputs; joined, a
    re-run changes only what was printed.
    """
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        joined: list[nbformat.NotebookNode] = []
        for output in cell.outputs:
            previous = joined[-1] if joined else None
            if (
                previous is not None
                and output.output_type == previous.output_type == "stream"
                and output.name == previous.name
            ):
                previous.text += output.text
            else:
                joined.append(output)
        cell.outputs = joined


def save(notebook: nbformat.NotebookNode, path: Path) -> None:
    """Write an executed notebook as ``make notebooks`` commits it."""
    nbformat.write(notebook, path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks (default: all of them)")
    paths = parser.parse_args(argv).paths or notebooks()
    for path in paths:
        started = time.perf_counter()
        save(execute(path), path)
        seconds = time.perf_counter() - started
        print(f"{path.name}: executed in {seconds:.1f} s, {path.stat().st_size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
