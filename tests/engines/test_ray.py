"""orq_embeddings.ray on a local Ray, against the local gateway: the building block and the job.

The Ray is the session's (tests/engines/conftest.py); each job is a few seconds of Ray's own
start-up, so one finished job serves several tests. Killing a running job is in
test_kill_and_resume.py, the shared budget's figures in test_shared_budget.py, the key in
test_secrets.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orq_embeddings import ConfigurationError, OrqEmbeddingsClient
from orq_embeddings.gateway import GatewayConfig, ResponseFault
from tests.engines.conftest import MODEL

ray = pytest.importorskip("ray")
orq_ray = pytest.importorskip("orq_embeddings.ray")

pytestmark = pytest.mark.usefixtures("ray_session")

ROWS = 120
TEXTS = [f"passage {n} about {'rivers' if n % 3 else 'mountains'}" for n in range(ROWS)]


def dataset_of(ids: list, texts: list, blocks: int = 4, **columns: list):
    """The rows as a Ray dataset of ``blocks`` blocks (its units of parallelism)."""
    table = pa.table({"id": ids, "text": texts, **columns})
    size = -(-len(ids) // blocks)
    return ray.data.from_arrow([table.slice(start, size) for start in range(0, len(ids), size)])


def vectors_of(table: pa.Table) -> np.ndarray:
    return np.stack(
        [np.asarray(v, dtype=np.float32) for v in table.column("embedding").to_pylist()]
    )


def single_client_vectors(base_url: str, texts: list[str]) -> np.ndarray:
    with OrqEmbeddingsClient(MODEL, base_url=base_url) as client:
        return client.embed_numpy(texts)


@dataclass(frozen=True)
class FinishedJob:
    result: Any
    output: Path
    gateway: Any


@pytest.fixture(scope="module")
def finished_job(orq_gateway_pool, tmp_path_factory) -> FinishedJob:
    """One job of 120 rows, 2 workers, 30 rows a part; and the gateway it ran against."""
    gateway = orq_gateway_pool.get(GatewayConfig(seed=1))
    output = tmp_path_factory.mktemp("ray-job") / "embeddings"
    result = orq_ray.embed_dataset(
        dataset_of(list(range(ROWS)), TEXTS),
        MODEL,
        output,
        workers=2,
        rows_per_part=30,
        base_url=gateway.base_url,
        batch_size=16,
    )
    return FinishedJob(result, output, gateway)


def test_the_job_gives_every_row_the_vector_a_single_client_gives_it(finished_job):
    table = pq.read_table(finished_job.output).sort_by("id")

    assert table.column("id").to_pylist() == list(range(ROWS))
    expected = single_client_vectors(finished_job.gateway.base_url, TEXTS)
    np.testing.assert_array_equal(vectors_of(table), expected)
    assert table.column("error").null_count == ROWS


def test_the_job_says_what_it_did(finished_job):
    result, output = finished_job.result, finished_job.output

    assert (result.rows, result.embedded, result.resumed, result.failed) == (ROWS, ROWS, 0, 0)
    assert result.tokens > 0
    assert result.served == "text-embedding-3-small (1536 dimensions)"
    assert (output / "_orq_finished.json").exists()
    assert len(list(output.glob("orq-part-*.parquet"))) == ROWS // 30


def test_a_rerun_of_a_finished_job_sends_no_request(finished_job):
    output, gateway = finished_job.output, finished_job.gateway
    gateway.reset()

    again = orq_ray.embed_dataset(
        dataset_of(list(range(ROWS)), TEXTS), MODEL, output, base_url=gateway.base_url
    )

    assert (again.rows, again.embedded, again.resumed) == (ROWS, 0, ROWS)
    assert gateway.counters().requests == 0


def test_a_rerun_embeds_only_the_ids_not_yet_written(orq_gateway, tmp_path):
    output = tmp_path / "embeddings"
    ids = [f"doc-{n:03}" for n in range(ROWS)]
    orq_ray.embed_dataset(
        dataset_of(ids[:50], TEXTS[:50]), MODEL, output, base_url=orq_gateway.base_url
    )
    orq_gateway.reset()

    result = orq_ray.embed_dataset(
        dataset_of(ids, TEXTS), MODEL, output, base_url=orq_gateway.base_url, batch_size=8
    )

    sent = [text for request in orq_gateway.requests() for text in request.body_json()["input"]]
    assert sorted(sent) == sorted(TEXTS[50:])
    assert (result.embedded, result.resumed) == (ROWS - 50, 50)
    table = pq.read_table(output).sort_by("id")
    assert table.column("id").to_pylist() == ids
    np.testing.assert_array_equal(
        vectors_of(table), single_client_vectors(orq_gateway.base_url, TEXTS)
    )


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"requests_per_minute": 3, "workers": 4}, "requests_per_minute"),
        ({"tokens_per_minute": 1, "workers": 2}, "tokens_per_minute"),
        ({"id_column": "doc_id"}, "id_column"),
        ({"text_column": "body"}, "text_column"),
        ({"ids": [1, 2, 2, 3, 3, 4]}, "repeats ids"),
        ({"ids": [1, None, 3, 4, 5, 6]}, "is null on 1 row"),
        ({"max_concurrency": 0}, "max_concurrency"),
    ],
    ids=lambda value: str(value) if isinstance(value, str) else "-".join(value),
)
def test_bad_settings_are_refused_before_any_request(orq_gateway, tmp_path, change, named):
    ids = change.pop("ids", list(range(6)))
    with pytest.raises(ConfigurationError, match=named):
        orq_ray.embed_dataset(
            dataset_of(ids, TEXTS[:6], blocks=2),
            MODEL,
            tmp_path / "out",
            base_url=orq_gateway.base_url,
            **change,
        )
    assert orq_gateway.counters().requests == 0


def test_a_budget_below_one_request_per_worker_says_how_to_fix_it(orq_gateway, tmp_path):
    with pytest.raises(ConfigurationError) as refused:
        orq_ray.embed_dataset(
            dataset_of(list(range(6)), TEXTS[:6]),
            MODEL,
            tmp_path / "out",
            workers=4,
            requests_per_minute=3,
            base_url=orq_gateway.base_url,
        )
    assert str(refused.value) == (
        "requests_per_minute: is 3, which cannot give each of the 4 workers one request per "
        "window: raise it to at least 4, or run fewer workers (at most 3)"
    )


def test_with_row_errors_a_row_that_cannot_be_embedded_says_why_and_the_rest_are_embedded(
    orq_gateway_pool, tmp_path
):
    """An empty text, and a text too large for the server even alone (a 413), among good ones."""
    gateway = orq_gateway_pool.get(GatewayConfig(max_body_bytes=20_000))
    texts = list(TEXTS[:40])
    texts[3] = "   "
    texts[17] = "a very long passage " * 2_000
    result = orq_ray.embed_dataset(
        dataset_of(list(range(40)), texts),
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
    assert table.column("embedding")[3].as_py() is None
    good = [n for n in range(40) if n not in (3, 17)]
    np.testing.assert_array_equal(
        vectors_of(table.take(good)),
        single_client_vectors(gateway.base_url, [texts[n] for n in good]),
    )
    assert result.failed == 2


def test_without_row_errors_a_bad_row_fails_the_job_as_the_client_would(orq_gateway, tmp_path):
    texts = list(TEXTS[:8])
    texts[5] = ""
    with pytest.raises(orq_ray.TaskFailedError) as failed:
        orq_ray.embed_dataset(
            dataset_of(list(range(8)), texts, blocks=1),
            MODEL,
            tmp_path / "out",
            base_url=orq_gateway.base_url,
        )
    assert failed.value.error_type == "orq_embeddings.errors.InvalidInputError"
    assert "input 5 is an empty string" in failed.value.reason


def test_server_errors_fail_the_job_after_the_retries_never_as_row_errors(orq_gateway, tmp_path):
    orq_gateway.inject(ResponseFault(status=503))
    with pytest.raises(orq_ray.TaskFailedError, match="ServerError: .* answered 503"):
        orq_ray.embed_dataset(
            dataset_of(list(range(8)), TEXTS[:8], blocks=1),
            MODEL,
            tmp_path / "out",
            row_errors=True,
            max_retries=1,
            base_url=orq_gateway.base_url,
        )
    assert orq_gateway.counters().requests == 2  # the attempt and its one retry
    assert list((tmp_path / "out").glob("orq-part-*")) == []


def test_a_job_served_from_two_vector_spaces_refuses_to_finish(orq_gateway_pool, tmp_path):
    """A load balancer between two models of one width: each task reports its spaces."""
    gateway = orq_gateway_pool.get(GatewayConfig(seed=3))
    balanced = {
        "load_balancer": [
            {"model": "cohere/embed-english-v3.0", "weight": 1},
            {"model": "mistral/mistral-embed", "weight": 1},
        ]
    }
    with pytest.raises(orq_ray.MixedSpacesError, match="2 vector spaces"):
        orq_ray.embed_dataset(
            dataset_of(list(range(24)), TEXTS[:24]),
            "cohere/embed-english-v3.0",
            tmp_path / "out",
            rows_per_part=6,
            batch_size=1,
            orq=balanced,
            base_url=gateway.base_url,
        )
    assert not (tmp_path / "out" / "_orq_finished.json").exists()


def test_embed_batch_adds_the_vectors_and_keeps_every_other_column(orq_gateway):
    dataset = dataset_of(list(range(60)), TEXTS[:60], source=["a", "b"] * 30)
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


def test_embed_batch_refuses_a_key_given_as_it_is(orq_gateway):
    with pytest.raises(TypeError, match=r"ray\.put\(key\)"):
        orq_ray.EmbedBatch(MODEL, base_url=orq_gateway.base_url, api_key="sk-in-the-plan")


def test_a_dataset_without_rows_finishes_with_nothing_to_do(orq_gateway, tmp_path):
    empty = ray.data.from_arrow(
        pa.table({"id": pa.array([], pa.int64()), "text": pa.array([], pa.string())})
    )
    result = orq_ray.embed_dataset(empty, MODEL, tmp_path / "out", base_url=orq_gateway.base_url)

    assert (result.rows, result.embedded) == (0, 0)
    assert orq_gateway.counters().requests == 0
