"""orq_embeddings.ray's building blocks on a local Ray: ``EmbedBatch`` in ``map_batches``.

The job (``embed_dataset``) is tested on both engines alike in test_jobs.py.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from orq_embeddings import ConfigurationError
from tests.support.engines import MODEL, TEXTS, single_client_vectors

ray = pytest.importorskip("ray")
orq_ray = pytest.importorskip("orq_embeddings.ray")

pytestmark = pytest.mark.usefixtures("ray_session")


def test_embed_batch_adds_the_vectors_and_keeps_every_other_column(orq_gateway):
    table = pa.table({"id": list(range(60)), "text": TEXTS[:60], "source": ["a", "b"] * 30})
    dataset = ray.data.from_arrow([table.slice(start, 15) for start in range(0, 60, 15)])
    rows = dataset.map_batches(
        orq_ray.EmbedBatch,
        fn_constructor_kwargs={"model": MODEL, "base_url": orq_gateway.base_url, "batch_size": 7},
        compute=ray.data.ActorPoolStrategy(size=2),
        num_cpus=0.25,
        batch_format="pyarrow",
    ).take_all()

    rows.sort(key=lambda row: row["id"])
    assert [row["source"] for row in rows] == ["a", "b"] * 30
    np.testing.assert_array_equal(
        np.stack([row["embedding"] for row in rows]),
        single_client_vectors(orq_gateway.base_url, TEXTS[:60]),
    )
    assert {row["embedding_space"] for row in rows} == {"text-embedding-3-small:1536:none"}


def test_embed_batch_with_row_errors_gives_a_bad_row_an_error_and_no_vector(orq_gateway):
    texts = list(TEXTS[:10])
    texts[4] = ""
    table = orq_ray.EmbedBatch(MODEL, base_url=orq_gateway.base_url, row_errors=True)(
        pa.table({"text": texts})
    )

    assert (
        table.column("error").to_pylist() == [None] * 4 + ["text is an empty string"] + [None] * 5
    )
    assert table.column("embedding")[4].as_py() is None
    assert table.column("embedding_space")[4].as_py() is None  # no vector, no space
    assert table.column("embedding_space")[0].as_py() == "text-embedding-3-small:1536:none"


def test_embed_batch_refuses_a_key_given_as_it_is(orq_gateway):
    with pytest.raises(TypeError, match=r"ray\.put\(key\)"):
        orq_ray.EmbedBatch(MODEL, base_url=orq_gateway.base_url, api_key="sk-in-the-plan")


def test_a_rate_budget_below_one_request_per_worker_is_refused_before_its_actor_starts():
    with pytest.raises(ConfigurationError, match="cannot give each of the 5 workers"):
        orq_ray.RateBudget.start(workers=5, requests_per_minute=4)
