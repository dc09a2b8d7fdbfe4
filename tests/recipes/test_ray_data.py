"""The Ray Data recipe (examples/ray_data_embed.py) on a local Ray, against the local gateway."""

from __future__ import annotations

import asyncio
import importlib.util
import pickle
from pathlib import Path

import numpy as np
import pytest

from langchain_orq import OrqEmbeddings
from llama_index_orq import OrqEmbedding
from orq_embeddings import OrqEmbeddingsClient

ray = pytest.importorskip("ray")
RECIPE_PATH = Path(__file__).resolve().parents[2] / "examples" / "ray_data_embed.py"
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
