"""The Ray Data recipe (examples/ray_data_embed.py) on a local Ray, against the local gateway."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import pickle
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from langchain_orq import OrqEmbeddings
from llama_index_orq import OrqEmbedding
from orq_embeddings import OrqEmbeddingsClient

ray = pytest.importorskip("ray")
pq = pytest.importorskip("pyarrow.parquet")
ROOT = Path(__file__).resolve().parents[2]
RECIPE_PATH = ROOT / "examples" / "ray_data_embed.py"
DOC_PATH = ROOT / "docs" / "ray-data.md"
MODEL = "openai/text-embedding-3-small"


def load_recipe():
    spec = importlib.util.spec_from_file_location("ray_data_embed", RECIPE_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def local_ray():
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=200 * 1024 * 1024,
        log_to_driver=False,
        runtime_env={"env_vars": {"ORQ_API_KEY": ""}},
    )
    yield
    ray.shutdown()


def documented_commands() -> list[list[str]]:
    """The shell commands docs/ray-data.md tells users to run, each split as a shell would."""
    block = re.search(r"```bash\n(.*?)```", DOC_PATH.read_text(), re.DOTALL)
    assert block, "docs/ray-data.md shows no command running the recipe"
    lines = block.group(1).splitlines()
    assert all(line.startswith("python examples/ray_data_embed.py ") for line in lines), lines
    return [shlex.split(line) for line in lines]


def write_corpus(folder: Path, name: str, texts: list[str]) -> list[object]:
    """The corpus file a documented command names; returns the ids its rows should keep."""
    if name.endswith(".txt"):
        (folder / name).write_text("\n".join(texts) + "\n")
        return list(range(1, len(texts) + 1))
    assert name.endswith(".jsonl"), name
    ids = [f"doc-{n:03}" for n in range(len(texts))]
    rows = [json.dumps({"doc_id": i, "text": t}) for i, t in zip(ids, texts, strict=True)]
    (folder / name).write_text("\n".join(rows) + "\n")
    return ids


@pytest.mark.timeout(300)
@pytest.mark.parametrize("command", documented_commands(), ids=lambda command: command[2])
def test_the_documented_commands_run_at_their_defaults_and_keep_the_ids(
    command, tmp_path, orq_gateway
):
    """As written in the doc, in a folder holding the corpus it names, on 2 cores or more.

    With a whole CPU per worker, the two workers reserved both CPUs of a 2-core machine and the
    stage reading the .jsonl was never scheduled: the command hung.
    """
    python, script, corpus, *flags = command
    assert python == "python"
    texts = [f"line {n} about {'rivers' if n % 3 else 'mountains'}" for n in range(1, 41)]
    ids = write_corpus(tmp_path, corpus, texts)
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    env = {**os.environ, "ORQ_API_KEY": "sk-ray-recipe", "ORQ_BASE_URL": orq_gateway.base_url}

    finished = subprocess.run(
        [sys.executable, script, corpus, *flags],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )

    assert finished.returncode == 0, finished.stderr[-3000:]
    table = pq.read_table(tmp_path / "embeddings.parquet").sort_by("id")
    assert table.column("id").to_pylist() == ids
    assert table.column("text").to_pylist() == texts
    expected = OrqEmbeddingsClient(MODEL, base_url=orq_gateway.base_url).embed_numpy(texts)
    np.testing.assert_array_equal(np.stack(table.column("embedding").to_numpy(False)), expected)


def test_map_batches_embeds_every_row_with_the_right_vector(local_ray, orq_gateway):
    recipe = load_recipe()
    texts = [f"passage {i} about {'planets' if i % 2 else 'gardens'}" for i in range(300)]
    dataset = ray.data.from_items([{"id": i, "text": t} for i, t in enumerate(texts)])
    embedded = recipe.embed_dataset(
        dataset, MODEL, concurrency=2, batch_size=64, base_url=orq_gateway.base_url
    )
    rows = sorted(embedded.take_all(), key=lambda row: row["id"])
    assert [row["id"] for row in rows] == list(range(300))
    expected = OrqEmbeddingsClient(MODEL, base_url=orq_gateway.base_url).embed_numpy(texts)
    np.testing.assert_array_equal(np.stack([row["embedding"] for row in rows]), expected)
    assert orq_gateway.counters().requests >= 300 // 64


def test_clients_in_use_pickle_without_their_connections(orq_gateway):
    """Ray (and multiprocessing) ship callables by pickle: live pools must not go with them."""
    made = [
        OrqEmbeddingsClient(MODEL, base_url=orq_gateway.base_url),
        OrqEmbeddings(model=MODEL, base_url=orq_gateway.base_url),
        OrqEmbedding(model_name=MODEL, base_url=orq_gateway.base_url),
    ]
    core, langchain, llama_index = made
    core.embed(["warm"] * 3)
    langchain.embed_documents(["warm"])
    asyncio.run(langchain.aembed_documents(["warm"]))
    llama_index.get_text_embedding_batch(["warm"])
    for original in made:
        clone = pickle.loads(pickle.dumps(original))
        assert type(clone) is type(original)
    assert pickle.loads(pickle.dumps(core)).embed(["x"]).vectors == core.embed(["x"]).vectors
