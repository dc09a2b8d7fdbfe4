"""The bulk job: formats in and out, bad rows reported, and resuming after a failure."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orq_embeddings import (
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    OrqEmbeddingsClient,
    ServerError,
)
from orq_embeddings.bulk import BadRowsError, BulkJob, run_bulk_job
from orq_embeddings.bulk.checkpoint import CheckpointConflictError
from tests.support.scripted_server import (
    embedding_payload,
    embedding_reply,
    reply,
    reply_with,
    vector_for,
)

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


def save_one_chunk_then_fail(tmp_path, client, server):
    """A run of TEXTS in chunks of 8 rows that saves the first chunk, then fails."""
    source = tmp_path / "corpus.txt"
    source.write_text("\n".join(TEXTS) + "\n")
    output = tmp_path / "out.npy"
    first_chunk = set(TEXTS[:8])

    def first_chunk_only(request):
        # By content, not by arrival order: with two requests in flight, the batches of the
        # second chunk can reach the server before the first chunk's second batch.
        inputs = request.json()["input"]
        if set(inputs if isinstance(inputs, list) else [inputs]) <= first_chunk:
            return 200, embedding_payload(request), {}
        return 500, b"", {}

    server.default = reply_with(first_chunk_only)
    with pytest.raises(ServerError):
        run(BulkJob(source, output, chunk_rows=8), client)
    return source, output


def test_a_checkpoint_of_another_job_is_refused_once_it_holds_rows(tmp_path, client, server):
    source, output = save_one_chunk_then_fail(tmp_path, client, server)
    other = OrqEmbeddingsClient("m", base_url=server.base_url, dimensions=4)
    with pytest.raises(CheckpointConflictError) as caught:
        run(BulkJob(source, output, chunk_rows=8), other)
    assert caught.value.saved_rows == 8
    assert caught.value.problems == ((("dimensions",), "was null, now 4"),)
    clone = pickle.loads(pickle.dumps(caught.value))
    assert (str(clone), clone.saved_rows) == (str(caught.value), 8)
    assert str(caught.value).endswith(
        "(dimensions: was null, now 4). Run that job again to continue it, or rerun this one "
        "with restart=True to discard the saved rows and start over"
    )


def test_a_run_that_saved_nothing_leaves_nothing_and_blocks_nothing(tmp_path, client, server):
    source = tmp_path / "corpus.txt"
    source.write_text("\n".join(TEXTS) + "\n")
    output = tmp_path / "out.npy"
    server.default = reply(404, {"error": {"message": "no such model"}})
    said: list[str] = []
    with pytest.raises(NotFoundError):
        run(BulkJob(source, output), client, said)
    assert said[-1] == "stopped before any row was saved"
    assert not (tmp_path / "out.npy.checkpoint").exists()
    server.default = embedding_reply()
    other = OrqEmbeddingsClient("other/model", base_url=server.base_url)
    assert run(BulkJob(source, output), other).rows == len(TEXTS)


def test_restart_discards_the_saved_rows_of_another_job(tmp_path, client, server):
    source, output = save_one_chunk_then_fail(tmp_path, client, server)
    server.default = embedding_reply()
    other = OrqEmbeddingsClient("other/model", base_url=server.base_url)
    said: list[str] = []
    result = run(BulkJob(source, output, chunk_rows=8, restart=True), other, said)
    assert f"restarting: discarded 8 saved rows from {output}.checkpoint" in said
    assert (result.rows, result.resumed_rows) == (len(TEXTS), 0)


def test_repeated_ids_are_refused_before_anything_is_sent(tmp_path, client, server):
    source = tmp_path / "docs.jsonl"
    source.write_text("".join(json.dumps({"id": i % 3, "text": "t"}) + "\n" for i in range(5)))
    with pytest.raises(ConfigurationError, match=r"^id_field: 2 id\(s\) in 'id' repeat") as caught:
        run(BulkJob(source, tmp_path / "out.npy", id_field="id"), client)
    assert "0 on lines 1, 4; 1 on lines 2, 5" in str(caught.value)
    assert server.requests == []


def test_chunk_rows_below_one_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="^chunk_rows: must be at least 1, got 0$"):
        BulkJob(Path("in.txt"), Path("out.npy"), chunk_rows=0)


def test_unsupported_formats_are_refused_up_front(tmp_path, client, server):
    source = tmp_path / "corpus.csv"
    source.write_text("a\n")
    with pytest.raises(ConfigurationError, match="^output: unsupported format '.csv'"):
        run(BulkJob(source, tmp_path / "out.csv"), client)
    with pytest.raises(ConfigurationError, match="^input: unsupported format '.csv'"):
        run(BulkJob(source, tmp_path / "out.npy"), client)
    assert server.requests == []
