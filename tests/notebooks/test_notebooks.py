"""The notebooks as a reader meets them: run top to bottom, offline, on the local gateway.

Each notebook is executed once, in a fresh kernel, by ``notebooks/execute.py`` (the script that
also refreshes the committed outputs), with ``ORQ_LOCAL_GATEWAY_KEY`` set to a fake key that must
not show up anywhere in what the notebook produced.
"""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path
from types import ModuleType

import nbformat
import pytest

from orq_embeddings.gateway import GatewayConfig
from orq_embeddings_demo.corpus import QUESTIONS

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
FAKE_KEY = "sk-orq-FAKE-notebook-key-7d41c9"
#: Text outputs and one small picture each fit well within this.
MAX_COMMITTED_BYTES = 120_000
#: What a notebook prints instead of a demo when it is not on the local gateway.
SKIPPED_DEMO = "Skipped: this demo needs the local gateway"
#: The tag of a cell whose picture is drawn from the wall clock: compared by kind, not bytes.
WALL_CLOCK = "wall-clock"

# Kernel start and imports take seconds; the cells themselves well under a second each.
pytestmark = pytest.mark.timeout(300)


def _load_execute_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("notebooks_execute", NOTEBOOKS_DIR / "execute.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


execute_script = _load_execute_script()
NOTEBOOKS = execute_script.notebooks()


def code_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def printed(notebook: nbformat.NotebookNode) -> str:
    """Everything the notebook's cells printed or displayed as text."""
    return "\n".join(
        output.get("text", "") or output.get("data", {}).get("text/plain", "")
        for cell in code_cells(notebook)
        for output in cell.outputs
    )


@pytest.fixture(scope="module", params=NOTEBOOKS, ids=lambda path: path.name)
def executed(request: pytest.FixtureRequest) -> nbformat.NotebookNode:
    """A notebook freshly executed offline; any cell error fails every test that uses it."""
    return execute_script.execute(request.param, env={"ORQ_LOCAL_GATEWAY_KEY": FAKE_KEY})


def test_there_is_a_notebook_for_each_framework():
    assert [path.name for path in NOTEBOOKS] == ["langchain_orq.ipynb", "llama_index_orq.ipynb"]


def test_every_cell_runs_in_order_without_an_error(executed):
    cells = code_cells(executed)
    assert [cell.execution_count for cell in cells] == list(range(1, len(cells) + 1))
    errors = [o for cell in cells for o in cell.outputs if o.output_type == "error"]
    assert errors == []


def test_without_orq_api_key_every_demo_runs_on_the_local_gateway(executed):
    assert "the local gateway will stand in" in printed(executed)
    assert SKIPPED_DEMO not in printed(executed)


def test_the_api_key_never_appears_in_the_executed_notebook(executed):
    assert FAKE_KEY not in nbformat.writes(executed)


@pytest.fixture
def orq_gateway_config() -> GatewayConfig:
    """The gateway that stands in for orq.ai when a test sets ORQ_API_KEY: it wants the key."""
    return GatewayConfig(api_key=FAKE_KEY)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_with_orq_api_key_it_embeds_there_and_skips_the_fault_demos(path, orq_gateway):
    online = {"ORQ_API_KEY": FAKE_KEY, "ORQ_BASE_URL": orq_gateway.base_url}
    notebook = execute_script.execute(path, env=online)
    assert "orq.ai key found" in printed(notebook)
    assert printed(notebook).count(SKIPPED_DEMO) >= 6
    assert orq_gateway.counters().requests > 0
    assert FAKE_KEY not in nbformat.writes(notebook)


def test_each_corpus_question_retrieves_the_passage_written_for_it(executed):
    lines = printed(executed).splitlines()
    for question, passage_id in QUESTIONS.items():
        found = [line.split("->")[1].split()[0] for line in lines if line.startswith(question)]
        assert found == [passage_id], question


def test_shows_at_least_one_picture(executed):
    pictures = [
        output
        for cell in code_cells(executed)
        for output in cell.outputs
        if "image/png" in output.get("data", {})
    ]
    assert pictures


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_committed_notebook_is_small(path):
    assert path.stat().st_size <= MAX_COMMITTED_BYTES


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_committed_notebook_holds_the_outputs_of_a_clean_offline_run(path):
    notebook = nbformat.read(path, as_version=4)
    cells = code_cells(notebook)
    assert [cell.execution_count for cell in cells] == list(range(1, len(cells) + 1))
    assert not [o for cell in cells for o in cell.outputs if o.output_type == "error"]
    assert SKIPPED_DEMO not in printed(notebook)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_committed_notebook_has_no_timestamps(path):
    notebook = nbformat.read(path, as_version=4)
    assert [cell.id for cell in code_cells(notebook) if "execution" in cell.metadata] == []


def wall_clock_pictures_masked(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook with the pictures of cells tagged ``wall-clock`` replaced by a mark.

    Such a cell draws what the clock measured (a trace's timeline), which no two runs share to
    the pixel; everything else of it, and of the notebook, must come out the same.
    """
    masked = copy.deepcopy(notebook)
    for cell in code_cells(masked):
        if WALL_CLOCK in cell.metadata.get("tags", []):
            for output in cell.outputs:
                if "image/png" in output.get("data", {}):
                    output.data["image/png"] = "a picture drawn from the wall clock"
    return masked


def test_the_committed_notebook_is_what_make_notebooks_writes(executed, request, tmp_path):
    """Outputs in git are a clean run's, byte for byte (but for the pictures of cells tagged
    ``wall-clock``): ``make notebooks`` leaves no change."""
    committed: Path = request.node.callspec.params["executed"]
    rewritten = tmp_path / committed.name

    execute_script.save(executed, rewritten)

    reread = nbformat.read(rewritten, as_version=4)
    assert nbformat.writes(wall_clock_pictures_masked(reread)) == nbformat.writes(
        wall_clock_pictures_masked(nbformat.read(committed, as_version=4))
    ), f"{committed.name} holds outputs a run does not reproduce: run `make notebooks`, commit"


def test_a_guarded_store_refuses_the_swapped_model_that_got_every_answer_wrong(executed, request):
    if request.node.callspec.params["executed"].name != "langchain_orq.ipynb":
        pytest.skip("the guard is shown in the LangChain notebook")
    said = printed(executed)
    assert f"right first hit: {len(QUESTIONS)} of {len(QUESTIONS)} before the swap" in said
    assert (
        "this InMemoryVectorStore was built in text-embedding-3-small:1536:none, but these "
        "embeddings make text-embedding-3-large:1536:none" in said
    )
    assert "fallback to openai/text-embedding-3-large: refused: batch 1 of 1" in said
    assert "fallback to azure/text-embedding-3-small: answered astronomy-1" in said
