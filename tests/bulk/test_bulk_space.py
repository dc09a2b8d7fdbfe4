"""A bulk job's vectors are in one vector space, and every output format says which."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from orq_embeddings import EmbeddingSpace, EmbeddingSpaceError, OrqEmbeddingsClient, ServerError
from orq_embeddings.bulk import BulkJob, run_bulk_job
from orq_embeddings.bulk.outputs import output_space, space_path_for
from orq_embeddings.space import STAMP_KEY
from tests.bulk.test_bulk_recovery import MODEL, TEXTS, embed, only_line, small_job
from tests.support.scripted_server import embedding_reply, reply

#: What the scripted server serves ``m`` as: its vectors have 8 dimensions.
SERVED = EmbeddingSpace("m", 8)


def served_by(model: str):
    return embedding_reply(edit=lambda payload: {**payload, "model": model})


@pytest.fixture
def corpus(tmp_path):
    source = tmp_path / "corpus.txt"
    source.write_text("\n".join(TEXTS) + "\n")
    return source


@pytest.fixture
def client(server):
    with OrqEmbeddingsClient(
        "m", base_url=server.base_url, batch_size=10, max_concurrency=1, max_retries=0
    ) as made:
        yield made


def run(corpus, output, client, said=None):
    job = BulkJob(corpus, output, chunk_rows=20)
    return run_bulk_job(job, client, say=(said if said is not None else []).append, progress=False)


@pytest.mark.parametrize("suffix", [".npy", ".jsonl", ".parquet"])
def test_every_output_format_records_the_space_of_its_vectors(tmp_path, corpus, client, suffix):
    output = tmp_path / f"vectors{suffix}"
    run(corpus, output, client)
    assert output_space(output) == SERVED


def test_npy_and_jsonl_keep_the_space_in_a_sidecar_and_parquet_in_its_schema(
    tmp_path, corpus, client
):
    run(corpus, tmp_path / "vectors.npy", client)
    sidecar = json.loads(space_path_for(tmp_path / "vectors.npy").read_text())
    assert sidecar == {STAMP_KEY: "orq-embeddings-space/1 m:8:none"}
    assert space_path_for(tmp_path / "vectors.npy").name == "vectors.space.json"
    run(corpus, tmp_path / "vectors.parquet", client)
    metadata = pq.read_schema(tmp_path / "vectors.parquet").metadata
    assert metadata[STAMP_KEY.encode()] == b"orq-embeddings-space/1 m:8:none"


def test_a_job_served_in_two_spaces_fails_naming_both_and_writes_no_output(
    tmp_path, corpus, client, server
):
    output = tmp_path / "vectors.npy"
    server.push(*[served_by("m") for _ in range(4)])
    server.default = served_by("mistral-embed")
    said: list[str] = []
    with pytest.raises(EmbeddingSpaceError) as refused:
        run(corpus, output, client, said)
    message = str(refused.value)
    assert "this job's rows came from two vector spaces: m:8:none (the first batch, 40 rows" in (
        message
    )
    assert "and mistral-embed:8:none, which served batch 5 of 10 (inputs 40-49)" in message
    assert "One output holds one space, so none was written" in message
    assert not output.exists() and not space_path_for(output).exists()
    assert "40 of 100 rows are saved" in said[-1]

    server.default = served_by("m")  # the primary serves again: the job continues in its space
    result = run(corpus, output, client)
    assert (result.resumed_rows, output_space(output)) == (40, SERVED)


def test_a_rerun_served_in_another_space_is_refused_before_it_saves_a_row(
    tmp_path, corpus, client, server
):
    output = tmp_path / "vectors.jsonl"
    server.push(*[served_by("m") for _ in range(2)])
    server.default = reply(503, {"error": {"message": "down"}})
    with pytest.raises(ServerError, match="503"):
        run(corpus, output, client)
    server.default = served_by("mistral-embed")
    with pytest.raises(EmbeddingSpaceError, match=r"m:8:none \(the first batch, 20 rows"):
        run(corpus, output, client)
    assert not output.exists()


def test_the_command_says_so_in_one_line(tmp_path, corpus, server):
    output = tmp_path / "vectors.npy"
    server.push(served_by("text-embedding-3-small"))
    server.default = served_by("mistral-embed")
    failed = embed(*small_job(corpus, output, server.base_url, "--model", MODEL))
    assert failed.returncode == 1
    assert failed.stderr.splitlines()[-1].startswith(
        "error: this job's rows came from two vector spaces: text-embedding-3-small:8:none"
    )
    assert not output.exists()


def test_the_space_flag_binds_the_job(tmp_path, corpus, server):
    output = tmp_path / "vectors.npy"
    server.default = served_by("mistral-embed")
    args = small_job(corpus, output, server.base_url, "--model", MODEL)
    failed = embed(*args, "--space", "text-embedding-3-small:8:none")
    assert failed.returncode == 1
    assert "the client is bound to text-embedding-3-small:8:none, but mistral-embed:8:none" in (
        failed.stderr
    )


def test_a_space_flag_naming_another_model_than_the_model_flag_is_a_settings_error(
    tmp_path, corpus, server
):
    args = small_job(corpus, tmp_path / "vectors.npy", server.base_url, "--model", MODEL)
    refused = embed(*args, "--space", "mistral-embed:8:none")
    assert refused.returncode == 2
    assert only_line(refused.stderr).endswith(
        "--space: mistral-embed:8:none names the model mistral-embed, but the client calls "
        "openai/text-embedding-3-small, so every answer would be refused. Bind the space of the "
        "model these settings call, or set them to the space's"
    )
    assert server.requests == []


def test_a_space_flag_that_is_no_space_is_refused_by_the_parser(tmp_path, corpus, server):
    args = small_job(corpus, tmp_path / "vectors.npy", server.base_url, "--model", MODEL)
    refused = embed(*args, "--space", "text-embedding-3-small")
    assert refused.returncode == 2
    assert "argument --space: 'text-embedding-3-small' is not an embedding space" in only_line(
        refused.stderr.splitlines()[-1]
    )
