"""The bulk job: formats in and out, bad rows reported, and resuming after a failure."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orq_embeddings import AuthenticationError, OrqEmbeddingsClient, ServerError
from orq_embeddings.bulk import BadRowsError, BulkJob, run_bulk_job
from tests.support.scripted_server import embedding_reply, reply, vector_for

TEXTS = [f"row {i} about topic {i % 7}" for i in range(50)]


@pytest.fixture
def client(server):
    with OrqEmbeddingsClient(
        "m", base_url=server.base_url, batch_size=4, max_concurrency=2, max_retries=0
    ) as made:
        yield made


def expected(texts):
    return np.asarray([vector_for(t) for t in texts], dtype=np.float32)


def run(job, client, said=None):
    return run_bulk_job(job, client, say=(said if said is not None else []).append, progress=False)


def test_txt_to_npy_with_line_numbers_as_ids(tmp_path, client):
    source = tmp_path / "corpus.txt"
    source.write_text("\n".join(TEXTS) + "\n")
    result = run(BulkJob(source, tmp_path / "out.npy", chunk_rows=8), client)
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), expected(TEXTS))
    assert json.loads((tmp_path / "out.ids.json").read_text()) == list(range(1, 51))
    assert (result.rows, result.dimensions) == (50, 8)
    assert not (tmp_path / "out.npy.checkpoint").exists()


def test_jsonl_with_id_field_to_jsonl(tmp_path, client):
    source = tmp_path / "docs.jsonl"
    source.write_text(
        "".join(json.dumps({"doc": f"d{i}", "body": t}) + "\n" for i, t in enumerate(TEXTS))
    )
    run(BulkJob(source, tmp_path / "out.jsonl", text_field="body", id_field="doc"), client)
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [row["id"] for row in rows] == [f"d{i}" for i in range(50)]
    np.testing.assert_array_equal(
        np.asarray([row["embedding"] for row in rows], np.float32), expected(TEXTS)
    )


def test_parquet_to_parquet(tmp_path, client):
    source = tmp_path / "docs.parquet"
    pq.write_table(pa.table({"id": list(range(100, 150)), "text": TEXTS}), source)
    run(BulkJob(source, tmp_path / "out.parquet", id_field="id", chunk_rows=16), client)
    table = pq.read_table(tmp_path / "out.parquet")
    assert table.column("id").to_pylist() == list(range(100, 150))
    np.testing.assert_array_equal(
        np.asarray(table.column("embedding").to_pylist(), np.float32), expected(TEXTS)
    )


def test_bad_rows_are_reported_by_line_number_and_not_embedded(tmp_path, client, server):
    source = tmp_path / "corpus.jsonl"
    source.write_text(
        '{"text": "fine"}\n{"text": ""}\nnot json\n{"body": "x"}\n'
        '{"text": "   "}\n{"text": 5}\n{"text": "also fine"}\n'
    )
    said: list[str] = []
    result = run(BulkJob(source, tmp_path / "out.jsonl"), client, said)
    assert [row.line for row in result.bad_rows] == [2, 3, 4, 5, 6]
    assert "5 row(s) cannot be embedded" in said[0]
    assert "line 2: text is an empty string" in said[0]
    assert "line 3: line is not valid JSON" in said[0]
    assert "line 4: text is missing" in said[0]
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [row["id"] for row in rows] == [1, 7]
    assert [text for body in server.bodies() for text in body["input"]] == ["fine", "also fine"]


def test_strict_refuses_bad_rows_before_sending_anything(tmp_path, client, server):
    source = tmp_path / "corpus.txt"
    source.write_text("fine\n\nfine\n")
    with pytest.raises(BadRowsError, match="line 2: text is an empty string"):
        run(BulkJob(source, tmp_path / "out.npy", strict=True), client)
    assert server.requests == []


def test_a_failed_run_keeps_finished_chunks_and_a_rerun_completes(tmp_path, client, server):
    source = tmp_path / "corpus.txt"
    source.write_text("\n".join(TEXTS) + "\n")
    job = BulkJob(source, tmp_path / "out.npy", chunk_rows=8)
    server.default = reply(401, {"error": {"code": "invalid_api_key", "message": "revoked"}})
    # Six good requests of four rows (three chunks of eight) before the key "is revoked".
    server.push(*[embedding_reply() for _ in range(6)])
    client_one = OrqEmbeddingsClient(
        "m", base_url=server.base_url, batch_size=4, max_concurrency=1, max_retries=0
    )
    said: list[str] = []
    with pytest.raises(AuthenticationError):
        run(job, client_one, said)
    assert "24 of 50 rows are saved" in said[-1]
    assert not job.output.exists()

    server.default = embedding_reply()
    first_requests = len(server.requests)
    said.clear()
    result = run(job, client, said)
    assert result.resumed_rows == 24
    assert "continuing: 24 of 50" in said[0]
    resent = [text for body in server.bodies()[first_requests:] for text in body["input"]]
    assert sorted(resent) == sorted(TEXTS[24:])  # each missing row sent once, none again
    np.testing.assert_array_equal(np.load(job.output), expected(TEXTS))


def test_a_checkpoint_of_another_job_is_refused(tmp_path, client, server):
    source = tmp_path / "corpus.txt"
    source.write_text("\n".join(TEXTS) + "\n")
    output = tmp_path / "out.npy"
    server.default = reply(500)
    with pytest.raises(ServerError):
        run(BulkJob(source, output), client)
    other = OrqEmbeddingsClient("m", base_url=server.base_url, dimensions=4)
    with pytest.raises(ValueError, match="different job.*settings"):
        run(BulkJob(source, output), other)


def test_unsupported_formats_are_refused_up_front(tmp_path, client, server):
    source = tmp_path / "corpus.csv"
    source.write_text("a\n")
    with pytest.raises(ValueError, match="unsupported output"):
        run(BulkJob(source, tmp_path / "out.csv"), client)
    with pytest.raises(ValueError, match="unsupported input"):
        run(BulkJob(source, tmp_path / "out.npy"), client)
    assert server.requests == []
