"""An engine's job, apart from the engine: its checks, one task's part, and how it finishes.

A job (``orq_embeddings.ray.embed_dataset``, ``orq_embeddings.spark.embed_dataframe``) owns an
output directory (:mod:`.parts`). It runs in three steps, each engine doing the middle one its way:

1. Before any request: the id and text columns exist, the ids are neither null nor repeated (one
   counting pass over the id column), the budget covers the workers (:mod:`.budget`), and the
   output holds no other job's rows. The ids the finished parts hold are the rows already done.
2. Each task embeds rows that are not done yet and writes them as one part
   (:func:`embed_part`), reporting what it did as one row of :data:`REPORT_COLUMNS`.
3. :func:`finish_job` checks that the output holds every id exactly once, that one vector space
   served every part (a job whose tasks were served from two refuses to finish), and marks it
   finished.

A rerun after a kill finds the finished parts in step 1 and sends no request for their rows.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ..client import OrqEmbeddingsClient
from ..errors import ConfigurationError, ConfigurationProblem, EmbeddingSpaceError, OrqError
from .client_spec import ClientSpec
from .parts import OutputDirectory, part_name, part_table
from .row_errors import embed_rows

#: What each task reports, one row per part it wrote.
REPORT_COLUMNS = {"rows": pa.int64(), "failed": pa.int64(), "tokens": pa.int64()}
#: How many repeated ids an error names.
_SHOWN_IDS = 20


@dataclass(frozen=True)
class JobResult:
    """What an engine's job did, over the runs it took.

    Attributes:
        output: the output directory.
        rows: rows in the output, each id exactly once.
        embedded: rows this run embedded (and sent requests for).
        resumed: rows earlier runs had written: no request was sent for them.
        failed: rows of the output with an ``error`` and a null ``embedding``.
        tokens: tokens the server reported for this run's requests.
        served: the vector space every row is in (``EmbeddingSpace``'s text), or None when
            no row was embedded.
    """

    output: str
    rows: int
    embedded: int
    resumed: int
    failed: int
    tokens: int
    served: str | None


class MixedSpacesError(EmbeddingSpaceError):
    """The parts of one job were served from different vector spaces; it is not finished."""


class TaskFailedError(OrqError):
    """A task of the job failed; the parts written so far stay for the next run.

    Ray and Spark pass a worker's error on to the driver as text only (its traceback), so the
    error the client raised in the worker is named here, not raised again.

    Attributes:
        error_type: the worker's error, by its class's dotted name
            (``orq_embeddings.errors.ServerError``); ``""`` when it was not the client's.
        reason: what that error said.
    """

    def __init__(self, error_type: str, reason: str) -> None:
        self.error_type = error_type
        self.reason = reason
        what = f"{error_type}: {reason}" if error_type else reason
        super().__init__(
            f"a task of the job failed: {what} (the finished parts stay; run the job again to "
            "continue)"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.error_type, self.reason))

    @classmethod
    def from_traceback(cls, text: str) -> TaskFailedError:
        """The failure a worker's traceback text shows: the client's error in it, if any."""
        found = _CLIENT_ERROR.search(text)
        if found is not None:
            return cls(found.group(1), found.group(2).strip())
        lines = [line for line in text.strip().splitlines() if line.strip()]
        return cls("", lines[-1].strip() if lines else "no reason given")


#: The line of a traceback naming an error the client raised, and its message.
_CLIENT_ERROR = re.compile(r"^(orq_embeddings\.[\w.]+): (.*)$", re.MULTILINE)


def check_columns(available: Sequence[str], **wanted: str) -> None:
    """Refuse columns the input does not have, naming the setting and the columns it has.

    Args:
        wanted: each setting (``id_column``) and the column it names.

    Raises:
        ConfigurationError: naming every missing column.
    """
    problems = [
        ConfigurationProblem(
            (setting,),
            f"{column!r} is not a column of the input; its columns are {list(available)}",
        )
        for setting, column in wanted.items()
        if column not in available
    ]
    if problems:
        raise ConfigurationError(problems)


def refuse_bad_ids(id_column: str, nulls: int, repeated: Sequence[tuple[Any, int]]) -> None:
    """Refuse ids that cannot say which rows are done: null ones, or ones on several rows.

    Args:
        nulls: how many rows have no id.
        repeated: each id on more than one row (the first ones, at least), with its count.

    Raises:
        ConfigurationError: naming them.
    """
    problems = []
    if nulls:
        problems.append(
            ConfigurationProblem(("id_column",), f"{id_column!r} is null on {nulls} row(s)")
        )
    if repeated:
        shown = ", ".join(f"{value!r} ({count} rows)" for value, count in repeated[:_SHOWN_IDS])
        more = " and more" if len(repeated) > _SHOWN_IDS else ""
        problems.append(
            ConfigurationProblem(
                ("id_column",),
                f"{id_column!r} repeats ids, so a resumed job could not tell which rows are done: "
                f"{shown}{more}",
            )
        )
    if problems:
        raise ConfigurationError(problems)


def open_job(
    model: str,
    settings: dict[str, Any],
    output: str | os.PathLike[str],
    columns: Sequence[str],
    *,
    id_column: str,
    text_column: str,
    rows_per_part: int,
    restart: bool,
) -> tuple[ClientSpec, OutputDirectory]:
    """The first checks of a job where it starts, and its output directory made ready for it.

    Args:
        settings: the workers' client settings.
        columns: the input's columns.

    Raises:
        ConfigurationError: a bad setting, a missing column, or an output holding another
            job's rows (see :meth:`OutputDirectory.prepare`).
    """
    if rows_per_part < 1:
        raise ConfigurationError([ConfigurationProblem(("rows_per_part",), "must be at least 1")])
    spec = ClientSpec.checked(model, settings)
    check_columns(columns, id_column=id_column, text_column=text_column)
    directory = OutputDirectory(output)
    manifest = {**spec.vector_settings(), "id_column": id_column, "text_column": text_column}
    directory.prepare(manifest, restart=restart)
    return spec, directory


def check_ids(ids: pa.ChunkedArray, id_column: str) -> None:
    """One counting pass over the ids: refuse null and repeated ones (:func:`refuse_bad_ids`)."""
    repeated: list[tuple[Any, int]] = []
    if len(ids):
        counts = pc.value_counts(ids)
        many = counts.filter(pc.greater(counts.field("counts"), 1))
        repeated = [(row["values"], row["counts"]) for row in many.to_pylist()[: _SHOWN_IDS + 1]]
    refuse_bad_ids(id_column, ids.null_count, repeated)


def not_done(ids: pa.Array | pa.ChunkedArray, done: pa.ChunkedArray) -> pa.Array:
    """Which of ``ids`` are not among the ``done`` ones, as a mask."""
    if len(done) == 0:
        return pa.array([True] * len(ids))
    return pc.invert(pc.is_in(ids, value_set=done.combine_chunks().cast(ids.type)))


def embed_part(
    client: OrqEmbeddingsClient,
    directory: OutputDirectory,
    id_column: str,
    ids: pa.Array,
    texts: Sequence[Any],
    *,
    row_errors: bool,
) -> dict[str, Any]:
    """Embed one task's rows, write them as one part, and report it (:data:`REPORT_COLUMNS`)."""
    embedded = embed_rows(client, texts, row_errors=row_errors)
    directory.write_part(
        part_table(id_column, ids, embedded.vectors, embedded.errors, embedded.spaces),
        part_name(ids.to_pylist()),
    )
    return {"rows": len(texts), "failed": embedded.failed, "tokens": embedded.tokens}


def finish_job(
    directory: OutputDirectory, id_column: str, *, rows: int, resumed: int, tokens: int
) -> JobResult:
    """Check the output and mark it finished: every id once, one vector space.

    Args:
        rows: the ids of the input (all distinct).
        resumed: of those, the rows the output held before this run.
        tokens: the tokens this run's tasks reported.

    Raises:
        MixedSpacesError: parts were served from different vector spaces.
        RuntimeError: the output does not hold the input's rows (it holds another input's).
    """
    directory.drop_repeated_ids(id_column)
    scan = directory.scan(id_column)
    if len(scan.served) > 1:
        raise MixedSpacesError(
            f"{directory.location} holds rows served from {len(scan.served)} vector spaces "
            f"({'; '.join(sorted(scan.served))}); their vectors cannot share an index, so the job "
            "is not finished. Pin the model (no fallback to another one), then restart the job"
        )
    if len(scan.ids) != rows:
        raise RuntimeError(
            f"{directory.location} holds {len(scan.ids)} rows for an input of {rows} ids: it "
            "holds rows of another input; restart the job to discard them"
        )
    result = JobResult(
        output=directory.location,
        rows=rows,
        embedded=rows - resumed,
        resumed=resumed,
        failed=scan.failed,
        tokens=tokens,
        served=next(iter(scan.served), None),
    )
    directory.finish(asdict(result))
    return result
