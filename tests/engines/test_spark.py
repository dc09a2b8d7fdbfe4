"""orq_embeddings.spark on a local Spark (local[4]), against the local gateway.

The Spark is the session's (tests/engines/conftest.py). Killing a running job is in
test_kill_and_resume.py, the split budget's figures in test_shared_budget.py, the key in
test_secrets.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from orq_embeddings import ConfigurationError, OrqEmbeddingsClient
from orq_embeddings.gateway import GatewayConfig, ResponseFault
from tests.engines.conftest import MODEL, SPARK_TASKS

orq_spark = pytest.importorskip("orq_embeddings.spark")

ROWS = 120
TEXTS = [f"passage {n} about {'rivers' if n % 3 else 'mountains'}" for n in range(ROWS)]


def frame_of(spark, ids: list, texts: list, partitions: int = 3):
    return spark.createDataFrame(list(zip(ids, texts, strict=True)), ["id", "text"]).repartition(
        partitions
    )


def vectors_of(column: list) -> np.ndarray:
    return np.stack([np.asarray(v, dtype=np.float32) for v in column])


def single_client_vectors(base_url: str, texts: list[str]) -> np.ndarray:
    with OrqEmbeddingsClient(MODEL, base_url=base_url) as client:
        return client.embed_numpy(texts)


@dataclass(frozen=True)
class FinishedJob:
    result: Any
    output: Path
    gateway: Any


@pytest.fixture(scope="module")
def finished_job(spark_session, orq_gateway_pool, tmp_path_factory) -> FinishedJob:
    """One job of 120 rows in 4 tasks, 25 rows a part; and the gateway it ran against."""
    gateway = orq_gateway_pool.get(GatewayConfig(seed=2))
    output = tmp_path_factory.mktemp("spark-job") / "embeddings"
    result = orq_spark.embed_dataframe(
        frame_of(spark_session.spark, list(range(ROWS)), TEXTS),
        MODEL,
        output,
        rows_per_part=25,
        base_url=gateway.base_url,
        batch_size=16,
    )
    return FinishedJob(result, output, gateway)


def test_the_job_gives_every_row_the_vector_a_single_client_gives_it(finished_job, spark):
    table = spark.read.parquet(str(finished_job.output)).orderBy("id").toPandas()

    assert table["id"].tolist() == list(range(ROWS))
    expected = single_client_vectors(finished_job.gateway.base_url, TEXTS)
    np.testing.assert_array_equal(vectors_of(table["embedding"].tolist()), expected)
    assert table["error"].isna().all()


def test_the_job_says_what_it_did_and_its_parts_are_whole_files(finished_job):
    result, output = finished_job.result, finished_job.output

    assert (result.rows, result.embedded, result.resumed, result.failed) == (ROWS, ROWS, 0, 0)
    assert result.served == "text-embedding-3-small (1536 dimensions)"
    parts = sorted(output.glob("orq-part-*.parquet"))
    assert sum(pq.ParquetFile(part).metadata.num_rows for part in parts) == ROWS
    assert all(pq.ParquetFile(part).metadata.num_rows <= 25 for part in parts)
    assert [path.name for path in output.iterdir() if path.name.startswith(".")] == []


def test_a_rerun_of_a_finished_job_sends_no_request(finished_job, spark):
    finished_job.gateway.reset()

    again = orq_spark.embed_dataframe(
        frame_of(spark, list(range(ROWS)), TEXTS),
        MODEL,
        finished_job.output,
        base_url=finished_job.gateway.base_url,
    )

    assert (again.rows, again.embedded, again.resumed) == (ROWS, 0, ROWS)
    assert finished_job.gateway.counters().requests == 0


def test_a_rerun_embeds_only_the_ids_not_yet_written(spark, orq_gateway, tmp_path):
    output = tmp_path / "embeddings"
    ids = [f"doc-{n:03}" for n in range(ROWS)]
    orq_spark.embed_dataframe(
        frame_of(spark, ids[:50], TEXTS[:50]), MODEL, output, base_url=orq_gateway.base_url
    )
    orq_gateway.reset()

    result = orq_spark.embed_dataframe(
        frame_of(spark, ids, TEXTS), MODEL, output, base_url=orq_gateway.base_url, batch_size=8
    )

    sent = [text for request in orq_gateway.requests() for text in request.body_json()["input"]]
    assert sorted(sent) == sorted(TEXTS[50:])
    assert (result.embedded, result.resumed) == (ROWS - 50, 50)
    table = pq.read_table(output).sort_by("id")
    assert table.column("id").to_pylist() == ids


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"requests_per_minute": 3}, "requests_per_minute"),
        ({"requests_per_minute": 5, "concurrent_tasks": 8}, "requests_per_minute"),
        ({"tokens_per_minute": 2}, "tokens_per_minute"),
        ({"concurrent_tasks": 0}, "concurrent_tasks"),
        ({"id_column": "doc_id"}, "id_column"),
        ({"text_column": "body"}, "text_column"),
        ({"ids": [1, 2, 2, 3, 3, 4]}, "are done: 2 \\(2 rows\\), 3 \\(2 rows\\)"),
        ({"ids": [1, None, 3, 4, 5, 6]}, "is null on 1 row"),
        ({"dimensions": 0}, "dimensions"),
    ],
    ids=lambda value: str(value) if isinstance(value, str) else "-".join(value),
)
def test_bad_settings_are_refused_before_any_request(spark, orq_gateway, tmp_path, change, named):
    ids = change.pop("ids", list(range(6)))
    with pytest.raises(ConfigurationError, match=named):
        orq_spark.embed_dataframe(
            frame_of(spark, ids, TEXTS[:6]),
            MODEL,
            tmp_path / "out",
            base_url=orq_gateway.base_url,
            **change,
        )
    assert orq_gateway.counters().requests == 0


def test_the_budget_is_split_over_the_sessions_tasks_unless_the_caller_says(spark):
    assert orq_spark.concurrent_tasks(spark) == SPARK_TASKS
    assert orq_spark.concurrent_tasks(spark, 2) == 2
    with pytest.raises(ConfigurationError) as refused:
        orq_spark.with_embeddings(
            frame_of(spark, list(range(6)), TEXTS[:6]), MODEL, requests_per_minute=3
        )
    assert str(refused.value) == (
        "requests_per_minute: is 3, which cannot give each of the 4 concurrent tasks one request "
        "per window: raise it to at least 4, or run fewer concurrent tasks (at most 3)"
    )


def test_with_row_errors_a_row_that_cannot_be_embedded_says_why_and_the_rest_are_embedded(
    spark, orq_gateway_pool, tmp_path
):
    gateway = orq_gateway_pool.get(GatewayConfig(max_body_bytes=20_000))
    texts = list(TEXTS[:40])
    texts[3] = "   "
    texts[17] = "a very long passage " * 2_000
    result = orq_spark.embed_dataframe(
        frame_of(spark, list(range(40)), texts),
        MODEL,
        tmp_path / "out",
        row_errors=True,
        rows_per_part=10,
        batch_size=8,
        base_url=gateway.base_url,
    )

    table = pq.read_table(tmp_path / "out").sort_by("id")
    errors = table.column("error").to_pylist()
    assert errors[3] == "text is only whitespace"
    assert errors[17].startswith("refused for its size even alone: ")
    assert [n for n, error in enumerate(errors) if error is not None] == [3, 17]
    good = [n for n in range(40) if n not in (3, 17)]
    np.testing.assert_array_equal(
        vectors_of(table.take(good).column("embedding").to_pylist()),
        single_client_vectors(gateway.base_url, [texts[n] for n in good]),
    )
    assert result.failed == 2


def test_without_row_errors_a_bad_row_fails_the_job_naming_the_clients_error(
    spark, orq_gateway, tmp_path
):
    texts = list(TEXTS[:8])
    texts[5] = ""
    with pytest.raises(orq_spark.TaskFailedError) as failed:
        orq_spark.embed_dataframe(
            frame_of(spark, list(range(8)), texts, partitions=1),
            MODEL,
            tmp_path / "out",
            base_url=orq_gateway.base_url,
        )
    assert failed.value.error_type == "orq_embeddings.errors.InvalidInputError"
    assert "is an empty string" in failed.value.reason


def test_server_errors_fail_the_job_after_the_retries_never_as_row_errors(
    spark, orq_gateway, tmp_path
):
    orq_gateway.inject(ResponseFault(status=503))
    with pytest.raises(orq_spark.TaskFailedError, match="ServerError: .* answered 503"):
        orq_spark.embed_dataframe(
            frame_of(spark, list(range(8)), TEXTS[:8], partitions=1),
            MODEL,
            tmp_path / "out",
            row_errors=True,
            max_retries=1,
            concurrent_tasks=1,
            base_url=orq_gateway.base_url,
        )
    assert orq_gateway.counters().requests == 2  # the attempt and its one retry
    assert list((tmp_path / "out").glob("orq-part-*")) == []


def test_a_job_served_from_two_vector_spaces_refuses_to_finish(spark, orq_gateway_pool, tmp_path):
    gateway = orq_gateway_pool.get(GatewayConfig(seed=3))
    balanced = {
        "load_balancer": [
            {"model": "cohere/embed-english-v3.0", "weight": 1},
            {"model": "mistral/mistral-embed", "weight": 1},
        ]
    }
    with pytest.raises(orq_spark.MixedSpacesError, match="2 vector spaces"):
        orq_spark.embed_dataframe(
            frame_of(spark, list(range(24)), TEXTS[:24]),
            "cohere/embed-english-v3.0",
            tmp_path / "out",
            rows_per_part=6,
            batch_size=1,
            orq=balanced,
            base_url=gateway.base_url,
        )
    assert not (tmp_path / "out" / "_orq_finished.json").exists()


def test_with_embeddings_adds_the_vectors_and_keeps_every_other_column(spark, orq_gateway):
    frame = spark.createDataFrame(
        [(n, text, "ab"[n % 2]) for n, text in enumerate(TEXTS[:60])], ["id", "text", "source"]
    )
    embedded = orq_spark.with_embeddings(
        frame, MODEL, base_url=orq_gateway.base_url, batch_size=7, requests_per_minute=1000
    )

    assert embedded.columns == ["id", "text", "source", "embedding"]
    rows = embedded.orderBy("id").toPandas()
    assert rows["source"].tolist() == ["a", "b"] * 30
    np.testing.assert_array_equal(
        vectors_of(rows["embedding"].tolist()),
        single_client_vectors(orq_gateway.base_url, TEXTS[:60]),
    )


def test_embed_partitions_is_the_function_for_map_in_pandas(spark, orq_gateway):
    texts = list(TEXTS[:10])
    texts[4] = ""
    frame = spark.createDataFrame(list(enumerate(texts)), ["id", "text"])
    embed = orq_spark.EmbedPartitions(MODEL, base_url=orq_gateway.base_url, row_errors=True)

    rows = frame.mapInPandas(embed, embed.schema(frame.schema)).orderBy("id").collect()

    assert [row["error"] for row in rows] == [None] * 4 + ["text is an empty string"] + [None] * 5
    assert rows[4]["embedding"] is None
    assert len(rows[0]["embedding"]) == 1536


def test_embed_partitions_refuses_a_key_given_as_it_is():
    with pytest.raises(TypeError, match="broadcast"):
        orq_spark.EmbedPartitions(MODEL, api_key="sk-in-every-task")
