"""orq_embeddings.spark's building blocks on a local Spark (local[4]): ``EmbedPartitions`` in
``mapInPandas``, ``with_embeddings``, and the number of tasks the budget is split over.

The job (``embed_dataframe``) is tested on both engines alike in test_jobs.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from orq_embeddings import ConfigurationError
from tests.support.engines import MODEL, SPARK_TASKS, TEXTS, single_client_vectors, vectors_of

orq_spark = pytest.importorskip("orq_embeddings.spark")


def test_the_budget_is_split_over_the_sessions_tasks_unless_the_caller_says(spark):
    assert orq_spark.concurrent_tasks(spark) == SPARK_TASKS
    assert orq_spark.concurrent_tasks(spark, 2) == 2
    frame = spark.createDataFrame(list(enumerate(TEXTS[:6])), ["id", "text"])
    with pytest.raises(ConfigurationError) as refused:
        orq_spark.with_embeddings(frame, MODEL, requests_per_minute=3)
    assert str(refused.value) == (
        "requests_per_minute: is 3, which cannot give each of the 4 concurrent tasks one request "
        "per window: raise it to at least 4, or run fewer concurrent tasks (at most 3)"
    )


def test_with_embeddings_adds_the_vectors_and_keeps_every_other_column(spark, orq_gateway):
    frame = spark.createDataFrame(
        [(n, text, "ab"[n % 2]) for n, text in enumerate(TEXTS[:60])], ["id", "text", "source"]
    )
    embedded = orq_spark.with_embeddings(
        frame, MODEL, base_url=orq_gateway.base_url, batch_size=7, requests_per_minute=1000
    )

    assert embedded.columns == ["id", "text", "source", "embedding", "embedding_space"]
    assert embedded.rdd.getNumPartitions() <= SPARK_TASKS
    rows = embedded.orderBy("id").toPandas()
    assert rows["source"].tolist() == ["a", "b"] * 30
    np.testing.assert_array_equal(
        vectors_of(rows["embedding"].tolist()),
        single_client_vectors(orq_gateway.base_url, TEXTS[:60]),
    )
    assert set(rows["embedding_space"]) == {"text-embedding-3-small:1536:none"}


def test_embed_partitions_is_the_function_for_map_in_pandas(spark, orq_gateway):
    texts = list(TEXTS[:10])
    texts[4] = ""
    frame = spark.createDataFrame(list(enumerate(texts)), ["id", "text"])
    embed = orq_spark.EmbedPartitions(MODEL, base_url=orq_gateway.base_url, row_errors=True)

    rows = frame.mapInPandas(embed, embed.schema(frame.schema)).orderBy("id").collect()

    assert [row["error"] for row in rows] == [None] * 4 + ["text is an empty string"] + [None] * 5
    assert rows[4]["embedding"] is None
    assert len(rows[0]["embedding"]) == 1536
    assert [row["embedding_space"] for row in rows] == (
        ["text-embedding-3-small:1536:none"] * 4 + [None] + ["text-embedding-3-small:1536:none"] * 5
    )


def test_embed_partitions_refuses_a_key_given_as_it_is():
    with pytest.raises(TypeError, match="broadcast"):
        orq_spark.EmbedPartitions(MODEL, api_key="sk-in-every-task")
