"""The job's output directory and its checks, without an engine: parts whole or absent, one job's
rows only, every id once, one vector space; the budget rule; a failed task's error named."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orq_embeddings import ConfigurationError
from orq_embeddings._engines.budget import JobBudget
from orq_embeddings._engines.job import (
    MixedSpacesError,
    TaskFailedError,
    check_ids,
    finish_job,
)
from orq_embeddings._engines.parts import (
    OutputConflictError,
    OutputDirectory,
    part_name,
    part_table,
)

SPACE = "text-embedding-3-small:4:none"
MANIFEST = {"model": "openai/text-embedding-3-small", "id_column": "id"}


def write(directory: OutputDirectory, ids: list, space: str = SPACE, errors=None) -> str:
    vectors = [np.full(4, float(i), np.float32) for i in range(len(ids))]
    errors = errors or [None] * len(ids)
    vectors = [None if error else vector for vector, error in zip(vectors, errors, strict=True)]
    name = part_name(ids)
    spaces = [None if error else space for error in errors]
    directory.write_part(part_table("id", pa.array(ids), vectors, errors, spaces), name)
    return name


@pytest.fixture
def directory(tmp_path) -> OutputDirectory:
    out = OutputDirectory(tmp_path / "out")
    out.prepare(MANIFEST)
    return out


def test_a_part_appears_whole_under_a_name_its_ids_give(directory, tmp_path):
    name = write(directory, [1, 2, 3])

    assert name == part_name([1, 2, 3]) != part_name([1, 2, 4])
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["_orq_job.json", name]
    table = pq.read_table(tmp_path / "out")  # readers skip the _ and . files
    assert table.column_names == ["id", "embedding", "error", "embedding_space"]
    assert table.column("embedding").type == pa.list_(pa.float32())


def test_a_rerun_with_other_settings_is_refused_once_parts_are_written(directory, tmp_path):
    write(directory, [1, 2])

    with pytest.raises(OutputConflictError) as refused:
        OutputDirectory(tmp_path / "out").prepare({**MANIFEST, "model": "openai/other"})
    assert 'model: was "openai/text-embedding-3-small", now "openai/other"' in str(refused.value)
    assert "holds 1 part(s) of that job" in str(refused.value)


def test_restart_discards_the_parts_and_a_job_without_parts_is_taken_over(directory, tmp_path):
    write(directory, [1, 2])
    OutputDirectory(tmp_path / "out").prepare({**MANIFEST, "model": "b"}, restart=True)

    assert directory.parts() == []
    OutputDirectory(tmp_path / "out").prepare({**MANIFEST, "model": "c"})
    assert json.loads((tmp_path / "out" / "_orq_job.json").read_text())["model"] == "c"


def test_a_directory_holding_files_no_job_wrote_is_refused(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "part-00000.snappy.parquet").write_bytes(b"someone else's")

    with pytest.raises(OutputConflictError, match="holds files this job did not write"):
        OutputDirectory(tmp_path / "out").prepare(MANIFEST)


def test_what_a_kill_left_half_written_is_removed_by_the_next_run(directory, tmp_path):
    write(directory, [1])
    (tmp_path / "out" / f".{part_name([2])}.tmp").write_bytes(b"PAR1 half a part")
    directory.finish({"rows": 1})

    OutputDirectory(tmp_path / "out").prepare(MANIFEST)

    names = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert names == ["_orq_job.json", part_name([1])]


def test_an_id_in_two_parts_is_kept_once(directory):
    write(directory, [1, 2, 3])
    write(directory, [3, 4])

    assert directory.drop_repeated_ids() == 1
    assert sorted(directory.scan().ids.to_pylist()) == [1, 2, 3, 4]


def test_finishing_checks_every_id_is_in_and_counts_the_failed_rows(directory):
    write(directory, [1, 2], errors=[None, "text is an empty string"])
    write(directory, [3])

    result = finish_job(directory, "id", rows=3, resumed=1, tokens=7)

    assert (result.rows, result.embedded, result.resumed, result.failed) == (3, 2, 1, 1)
    assert result.served == SPACE
    assert directory.finished() == {
        "output": directory.location,
        "rows": 3,
        "embedded": 2,
        "resumed": 1,
        "failed": 1,
        "tokens": 7,
        "served": SPACE,
    }


def test_parts_of_two_vector_spaces_never_finish(directory):
    write(directory, [1])
    write(directory, [2], space="mistral-embed (4 dimensions)")

    with pytest.raises(MixedSpacesError, match="2 vector spaces") as refused:
        finish_job(directory, "id", rows=2, resumed=0, tokens=0)
    assert "mistral-embed (4 dimensions)" in str(refused.value)
    assert directory.finished() is None


def test_an_output_holding_rows_of_another_input_never_finishes(directory):
    write(directory, [1, 2, 3])

    with pytest.raises(RuntimeError, match="holds 3 rows for an input of 2 ids"):
        finish_job(directory, "id", rows=2, resumed=2, tokens=0)


def test_the_counting_pass_refuses_null_and_repeated_ids():
    check_ids(pa.chunked_array([[1, 2], [3]]), "id")
    with pytest.raises(ConfigurationError) as refused:
        check_ids(pa.chunked_array([["a", "b"], ["a", None, "b", "a"]]), "doc")
    assert str(refused.value) == (
        "id_column: 'doc' is null on 1 row(s); id_column: 'doc' repeats ids, so a resumed job "
        "could not tell which rows are done: 'a' (3 rows), 'b' (2 rows)"
    )


def test_the_budget_is_split_rounding_down_and_must_cover_every_task():
    budget = JobBudget(requests_per_minute=30, tokens_per_minute=1_000)

    assert budget.split(4) == JobBudget(7, 250)
    assert JobBudget().split(4) == JobBudget()
    budget.check_covers(30, "concurrent tasks")
    with pytest.raises(ConfigurationError, match="cannot give each of the 31 concurrent tasks"):
        budget.check_covers(31, "concurrent tasks")


def test_a_failed_tasks_traceback_names_the_clients_error():
    traceback = (
        "Traceback (most recent call last):\n  File ...\n"
        "orq_embeddings.errors.ServerError: 127.0.0.1:1 answered 503 overloaded\n\n"
        "The above exception was the direct cause of the following exception:\n"
        "ray.exceptions.UserCodeException: UDF failed to process a data block."
    )

    failed = TaskFailedError.from_traceback(traceback)
    assert (failed.error_type, failed.reason) == (
        "orq_embeddings.errors.ServerError",
        "127.0.0.1:1 answered 503 overloaded",
    )
    assert str(failed).startswith("a task of the job failed: orq_embeddings.errors.ServerError")
    other = TaskFailedError.from_traceback("Traceback...\nMemoryError: out of memory\n")
    assert (other.error_type, other.reason) == ("", "MemoryError: out of memory")
