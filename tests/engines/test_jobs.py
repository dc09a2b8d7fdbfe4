"""An engine's job, on Ray (``embed_dataset``) and on Spark (``embed_dataframe``) alike.

Each test runs on both engines, on the session's local Ray and Spark, against the local gateway.
Killing a running job is in test_kill_and_resume.py, the budget's figures in
test_shared_budget.py, the key in test_secrets.py; each engine's building block in test_ray.py
and test_spark.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from orq_embeddings import ConfigurationError
from orq_embeddings._engines.job import MixedSpacesError, TaskFailedError
from orq_embeddings.gateway import GatewayConfig, ResponseFault
from tests.support.engines import TEXTS, EngineJob, single_client_vectors, vectors_of

ROWS = len(TEXTS)


@dataclass(frozen=True)
class FinishedJob:
    engine: EngineJob
    result: Any
    output: Path
    gateway: Any


@pytest.fixture
def finished_job(engine, orq_gateway_pool, tmp_path) -> FinishedJob:
    """120 rows in parts of at most 25, and the gateway they were embedded by."""
    gateway = orq_gateway_pool.get(GatewayConfig(seed=1))
    output = tmp_path / "embeddings"
    result = engine.run(
        list(range(ROWS)),
        TEXTS,
        output,
        pieces=4,
        rows_per_part=25,
        base_url=gateway.base_url,
        batch_size=16,
    )
    return FinishedJob(engine, result, output, gateway)


def test_every_row_gets_the_vector_a_single_client_gives_it_and_the_job_says_so(finished_job):
    table = pq.read_table(finished_job.output).sort_by("id")
    result = finished_job.result

    assert table.column("id").to_pylist() == list(range(ROWS))
    expected = single_client_vectors(finished_job.gateway.base_url, TEXTS)
    np.testing.assert_array_equal(vectors_of(table.column("embedding").to_pylist()), expected)
    assert table.column("error").null_count == ROWS
    assert (result.rows, result.embedded, result.resumed, result.failed) == (ROWS, ROWS, 0, 0)
    assert result.tokens > 0
    assert result.served == "text-embedding-3-small:1536:none"
    assert set(table.column("embedding_space").to_pylist()) == {result.served}
    parts = list(finished_job.output.glob("orq-part-*.parquet"))
    assert all(pq.ParquetFile(part).metadata.num_rows <= 25 for part in parts)
    assert (finished_job.output / "_orq_finished.json").exists()
    assert [p.name for p in finished_job.output.iterdir() if p.name.startswith(".")] == []


def test_a_rerun_of_a_finished_job_sends_no_request(finished_job):
    finished_job.gateway.reset()

    again = finished_job.engine.run(
        list(range(ROWS)), TEXTS, finished_job.output, base_url=finished_job.gateway.base_url
    )

    assert (again.rows, again.embedded, again.resumed) == (ROWS, 0, ROWS)
    assert finished_job.gateway.counters().requests == 0


def test_a_rerun_embeds_only_the_ids_not_yet_written(engine, orq_gateway, tmp_path):
    output = tmp_path / "embeddings"
    ids = [f"doc-{n:03}" for n in range(ROWS)]
    engine.run(ids[:50], TEXTS[:50], output, base_url=orq_gateway.base_url)
    orq_gateway.reset()

    result = engine.run(ids, TEXTS, output, base_url=orq_gateway.base_url, batch_size=8)

    sent = [text for request in orq_gateway.requests() for text in request.body_json()["input"]]
    assert sorted(sent) == sorted(TEXTS[50:])
    assert (result.embedded, result.resumed) == (ROWS - 50, 50)
    table = pq.read_table(output).sort_by("id")
    assert table.column("id").to_pylist() == ids
    np.testing.assert_array_equal(
        vectors_of(table.column("embedding").to_pylist()),
        single_client_vectors(orq_gateway.base_url, TEXTS),
    )


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"tokens_per_minute": 1}, "tokens_per_minute: is 1, which cannot give each of the 2"),
        ({"id_column": "doc_id"}, "id_column: 'doc_id' is not a column"),
        ({"text_column": "body"}, "text_column: 'body' is not a column"),
        ({"ids": [1, 2, 2, 3, 3, 4]}, "are done: 2 \\(2 rows\\), 3 \\(2 rows\\)"),
        ({"ids": [1, None, 3, 4, 5, 6]}, "is null on 1 row"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"rows_per_part": 0}, "rows_per_part: must be at least 1"),
    ],
    ids=lambda value: str(value) if isinstance(value, str) else "-".join(value),
)
def test_bad_settings_are_refused_before_any_request(engine, orq_gateway, tmp_path, change, named):
    change = dict(change)  # the same parameters serve both engines
    ids = change.pop("ids", list(range(6)))
    with pytest.raises(ConfigurationError, match=named):
        engine.run(
            ids,
            TEXTS[:6],
            tmp_path / "out",
            base_url=orq_gateway.base_url,
            **engine.runners(2),
            **change,
        )
    assert orq_gateway.counters().requests == 0


def test_a_budget_below_one_request_per_runner_says_how_to_fix_it(engine, orq_gateway, tmp_path):
    with pytest.raises(ConfigurationError) as refused:
        engine.run(
            list(range(6)),
            TEXTS[:6],
            tmp_path / "out",
            requests_per_minute=3,
            base_url=orq_gateway.base_url,
            **engine.runners(4),
        )
    assert str(refused.value) == (
        f"requests_per_minute: is 3, which cannot give each of the 4 {engine.runners_noun} one "
        f"request per window: raise it to at least 4, or run fewer {engine.runners_noun} "
        "(at most 3)"
    )
    assert orq_gateway.counters().requests == 0


def test_with_row_errors_a_row_that_cannot_be_embedded_says_why_and_the_rest_are_embedded(
    engine, orq_gateway_pool, tmp_path
):
    """An empty text, and a text too large for the server even alone (a 413), among good ones."""
    gateway = orq_gateway_pool.get(GatewayConfig(max_body_bytes=20_000))
    texts = list(TEXTS[:40])
    texts[3] = "   "
    texts[17] = "a very long passage " * 2_000

    result = engine.run(
        list(range(40)),
        texts,
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
    assert table.column("embedding")[3].as_py() is None
    good = [n for n in range(40) if n not in (3, 17)]
    np.testing.assert_array_equal(
        vectors_of(table.take(good).column("embedding").to_pylist()),
        single_client_vectors(gateway.base_url, [texts[n] for n in good]),
    )
    assert result.failed == 2


def test_without_row_errors_a_bad_row_fails_the_job_naming_the_clients_error(
    engine, orq_gateway, tmp_path
):
    texts = list(TEXTS[:8])
    texts[5] = ""
    with pytest.raises(TaskFailedError) as failed:
        engine.run(list(range(8)), texts, tmp_path / "out", pieces=1, base_url=orq_gateway.base_url)

    assert failed.value.error_type == "orq_embeddings.errors.InvalidInputError"
    assert "is an empty string" in failed.value.reason


def test_server_errors_fail_the_job_after_the_retries_never_as_row_errors(
    engine, orq_gateway, tmp_path
):
    orq_gateway.inject(ResponseFault(status=503))
    with pytest.raises(TaskFailedError, match="ServerError: .* answered 503"):
        engine.run(
            list(range(8)),
            TEXTS[:8],
            tmp_path / "out",
            pieces=1,
            row_errors=True,
            max_retries=1,
            base_url=orq_gateway.base_url,
            **engine.runners(1),
        )
    assert orq_gateway.counters().requests == 2  # the attempt and its one retry
    assert list((tmp_path / "out").glob("orq-part-*")) == []


def test_a_job_served_from_two_vector_spaces_refuses_to_finish(engine, orq_gateway_pool, tmp_path):
    """A load balancer between two models of one width: each task reports its spaces."""
    gateway = orq_gateway_pool.get(GatewayConfig(seed=3))
    balanced = {
        "load_balancer": [
            {"model": "cohere/embed-english-v3.0", "weight": 1},
            {"model": "mistral/mistral-embed", "weight": 1},
        ]
    }
    with pytest.raises(MixedSpacesError, match="2 vector spaces"):
        engine.run(
            list(range(24)),
            TEXTS[:24],
            tmp_path / "out",
            model="cohere/embed-english-v3.0",
            rows_per_part=6,
            batch_size=1,
            orq=balanced,
            base_url=gateway.base_url,
        )
    assert not (tmp_path / "out" / "_orq_finished.json").exists()


def test_an_input_without_rows_finishes_with_nothing_to_do(engine, orq_gateway, tmp_path):
    result = engine.run([], [], tmp_path / "out", base_url=orq_gateway.base_url)

    assert (result.rows, result.embedded) == (0, 0)
    assert orq_gateway.counters().requests == 0
