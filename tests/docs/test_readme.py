"""The README's code, run as a reader would run it, against the local gateway.

Each fenced python block is a test of its own: a script is saved to a file and run with
``python`` in a fresh process; a block marked as a notebook cell runs in a fresh Jupyter kernel,
where top-level ``await`` works as in Jupyter. Either way ``ORQ_BASE_URL`` points at a local
gateway on 127.0.0.1 and no ``ORQ_API_KEY`` is set, as the README's Quickstart says to try it.
A block the README marks as one that cannot run is reported as skipped, with its reason.

The model the examples use fails its first calls, as a provider does in an outage: each example
must get through it the way the README says (a retry of the same model) without mixing vector
spaces, which an example falling back to another model would do (its search then fails on
vectors of two lengths).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from orq_embeddings.gateway import ProviderFault
from tests.docs.readme_blocks import README, Block, python_blocks

BLOCKS = python_blocks(README.read_text(encoding="utf-8"))
README_MODEL = "openai/text-embedding-3-small"
#: Failed attempts of the model: more than orq's own retries by default (two), so an example
#: whose orq options fall back to another model does fall back.
OUTAGE_ATTEMPTS = 3
#: Imports of LangChain and LlamaIndex take seconds; a kernel start a few more.
RUN_TIMEOUT_SECONDS = 180

pytestmark = pytest.mark.timeout(RUN_TIMEOUT_SECONDS + 30)


def offline_environment(base_url: str) -> dict[str, str]:
    """This process's environment with the clients pointed at the local gateway, and no key."""
    environment = {k: v for k, v in os.environ.items() if k != "ORQ_API_KEY"}
    environment["ORQ_BASE_URL"] = base_url
    return environment


def run_as_script(block: Block, folder: Path, env: dict[str, str]) -> None:
    script = folder / "example.py"
    script.write_text(block.code, encoding="utf-8")
    finished = subprocess.run(
        [sys.executable, str(script)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
    )
    assert finished.returncode == 0, (
        f"{block.name} failed as a script:\n{finished.stdout}\n{finished.stderr}"
    )


def run_as_notebook_cell(block: Block, folder: Path, env: dict[str, str]) -> None:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(block.code)])
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=RUN_TIMEOUT_SECONDS,
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute(env=env)  # a cell that raises raises CellExecutionError, with its traceback
    outputs = notebook.cells[0].outputs
    assert not [output for output in outputs if output.output_type == "error"]


@pytest.mark.parametrize("block", BLOCKS, ids=[block.name for block in BLOCKS])
def test_the_readme_block_runs_as_written(block, tmp_path, orq_gateway):
    if block.mode == "cannot run":
        pytest.skip(f"{block.name}: the README marks it as one that cannot run: {block.reason}")
    orq_gateway.inject(ProviderFault(model=README_MODEL, status=503, times=OUTAGE_ATTEMPTS))
    env = offline_environment(orq_gateway.base_url)
    if block.mode == "notebook":
        run_as_notebook_cell(block, tmp_path, env)
    else:
        run_as_script(block, tmp_path, env)
    # A block that starts a gateway of its own sends to that one instead.
    assert orq_gateway.requests() or "LocalGateway(" in block.code, (
        f"{block.name} ran but sent nothing to the gateway the test pointed it at"
    )


def test_the_readme_has_its_examples_and_a_notebook_one():
    modes = [block.mode for block in BLOCKS]
    assert modes.count("script") >= 4
    assert modes.count("notebook") >= 1


def test_a_mistyped_marker_is_an_error_not_a_silent_skip():
    text = "<!-- readme-test: skip -->\n```python\nprint(1)\n```\n"
    with pytest.raises(ValueError, match="README.md:2: unknown marker"):
        python_blocks(text)


def test_markers_and_plain_blocks_are_read_as_they_say():
    text = (
        "```bash\nmake test\n```\n"
        "```python\nprint('script')\n```\n"
        "<!-- readme-test: notebook -->\n```python\nawait x()\n```\n"
        "<!-- readme-test: cannot run: needs a GPU -->\n```python\nrun()\n```\n"
    )
    blocks = python_blocks(text)
    assert [(b.line, b.mode, b.reason, b.code) for b in blocks] == [
        (4, "script", "", "print('script')\n"),
        (8, "notebook", "", "await x()\n"),
        (12, "cannot run", "needs a GPU", "run()\n"),
    ]
