"""Spark as an engine: DataFrames embedded by ``mapInPandas``, a client and a budget share a task.

Two ways in (``pip install "orq-embeddings[spark]"``; Spark needs Java 17 or 21):

- :class:`EmbedPartitions`, the function for ``DataFrame.mapInPandas``: each task builds one client
  and adds an ``embedding`` column (``array<float>``) to its rows, and ``embedding_space``, the
  vector space each vector is in (:class:`~orq_embeddings.space.EmbeddingSpace`'s text):
  :func:`with_embeddings` applies it with the budget split below::

      embedded = with_embeddings(df, "openai/text-embedding-3-small", requests_per_minute=3000)

- :func:`embed_dataframe`, the job: it owns an output directory of parquet parts that each task
  writes whole or not at all, so the finished parts survive a kill; a rerun embeds only the ids
  not yet written, sending no request for the rest, and the job finishes only when every id is
  in the output exactly once.

**The budget rule.** Tasks cannot share a live object, so ``requests_per_minute`` and
``tokens_per_minute`` are split over the tasks that run at once: each gets ``budget // tasks``.
The number of tasks is the ``concurrent_tasks`` you give, when you give one (you know what else
shares your cluster); else the session's default parallelism (its cores) divided by
``spark.task.cpus``. The rows are then cut into no more partitions than that
(:func:`with_embeddings` coalesces; the job repartitions to exactly that many), so no more tasks
can ever run at once. A budget below one request (or token) per task is refused before any task
starts. Leave speculative execution off (Spark's default): a speculative copy of a task would draw
on the same share.

**The key** reaches the tasks through their environment (``ORQ_API_KEY``: ``spark.executorEnv``
on a cluster, or the cluster's own secret mechanism) by default; given to :func:`embed_dataframe`
as ``api_key``, it travels as a broadcast variable, destroyed when the job ends: never in the
function Spark pickles, the plan or the conf. ``spark.executorEnv.*`` values show in the UI's
environment tab unless their name matches ``spark.redaction.regex``: add ``api[._-]?key`` to it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from .extras import SPARK, require

require("orq_embeddings.spark", SPARK)

import pandas as pd
import pyarrow as pa
from pydantic import SecretStr
from pyspark import Broadcast
from pyspark.errors import PythonException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, FloatType, StringType, StructField, StructType

from ._engines.budget import JobBudget
from ._engines.client_spec import ClientSpec, as_secret
from ._engines.job import (
    REPORT_COLUMNS,
    JobResult,
    MixedSpacesError,
    TaskFailedError,
    check_columns,
    embed_part,
    finish_job,
    open_job,
    refuse_bad_ids,
)
from ._engines.parts import EMBEDDING, ERROR, SPACE, OutputDirectory
from ._engines.row_errors import embed_rows
from .errors import ConfigurationError, ConfigurationProblem

__all__ = [
    "EmbedPartitions",
    "JobResult",
    "MixedSpacesError",
    "TaskFailedError",
    "concurrent_tasks",
    "embed_dataframe",
    "with_embeddings",
]

#: Rows a task embeds and writes as one part of the job's output.
DEFAULT_ROWS_PER_PART = 4096
#: How many repeated ids an error names.
_SHOWN_IDS = 20


def _key_from(api_key: Broadcast[SecretStr] | None) -> SecretStr | None:
    return None if api_key is None else api_key.value


def _check_key(api_key: object) -> None:
    if api_key is not None and not isinstance(api_key, Broadcast):
        raise TypeError(
            "api_key must be a broadcast variable (spark.sparkContext.broadcast(SecretStr(key))) "
            "or left out for the tasks to read ORQ_API_KEY: a key given as it is would be "
            "pickled into every task"
        )


class EmbedPartitions:
    """The function for ``DataFrame.mapInPandas``: adds ``embedding`` and its ``embedding_space``
    to each row of a partition.

    Each task (each partition) builds one client, sends its rows' batches concurrently
    (``max_concurrency``) and closes it at the end. Every other column passes through unchanged.
    Give :meth:`schema` as mapInPandas's schema::

        embed = EmbedPartitions("openai/text-embedding-3-small", requests_per_minute=500)
        embedded = df.mapInPandas(embed, embed.schema(df.schema))

    Args:
        model: the orq model id.
        text_column: the column holding the texts.
        row_errors: a row that cannot be embedded gets a null vector and an ``error`` column
            saying why, instead of failing its task; the server's and the network's errors
            still fail it.
        api_key: a broadcast variable holding the key; by default each task reads
            ``ORQ_API_KEY`` from its environment.
        settings: the client's other settings. ``requests_per_minute`` and
            ``tokens_per_minute`` here are each task's own share (:func:`with_embeddings`
            computes it from the job's).
    """

    def __init__(
        self,
        model: str,
        *,
        text_column: str = "text",
        row_errors: bool = False,
        api_key: Broadcast[SecretStr] | None = None,
        **settings: Any,
    ) -> None:
        _check_key(api_key)
        self.spec = ClientSpec.checked(model, settings)
        self.text_column = text_column
        self.row_errors = row_errors
        self.api_key = api_key
        self.__name__ = f"EmbedPartitions({model!r})"

    def schema(self, input_schema: StructType) -> StructType:
        """The input's columns, ``embedding``, ``embedding_space``, and ``error`` with row
        errors: the output's."""
        fields = [
            *input_schema.fields,
            StructField(EMBEDDING, ArrayType(FloatType())),
            StructField(SPACE, StringType()),
        ]
        if self.row_errors:
            fields.append(StructField(ERROR, StringType()))
        return StructType(fields)

    def __call__(self, batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        with self.spec.client(_key_from(self.api_key)) as client:
            for batch in batches:
                texts = batch[self.text_column].tolist()
                embedded = embed_rows(client, texts, row_errors=self.row_errors)
                batch = batch.assign(**{EMBEDDING: embedded.vectors, SPACE: embedded.spaces})
                if self.row_errors:
                    batch = batch.assign(**{ERROR: embedded.errors})
                yield batch


def concurrent_tasks(spark: SparkSession, given: int | None = None) -> int:
    """The tasks that run at once, which a job's budget is split over (see the module).

    ``given`` wins when given; else the session's default parallelism over ``spark.task.cpus``.

    Raises:
        ConfigurationError: ``given`` below 1, or nothing to read it from (Spark Connect has
            no SparkContext: give ``concurrent_tasks``).
    """
    if given is not None:
        if given < 1:
            raise ConfigurationError(
                [ConfigurationProblem(("concurrent_tasks",), f"must be at least 1, got {given}")]
            )
        return given
    try:
        cores = spark.sparkContext.defaultParallelism
    except Exception as error:  # Spark Connect: no SparkContext on this side
        raise ConfigurationError(
            [
                ConfigurationProblem(
                    ("concurrent_tasks",),
                    f"cannot be read from this session ({type(error).__name__}); give the number "
                    "of tasks that run at once",
                )
            ]
        ) from None
    task_cpus = int(spark.conf.get("spark.task.cpus", "1") or "1")
    return max(1, cores // task_cpus)


def _shares(
    spark: SparkSession,
    given: int | None,
    requests_per_minute: int | None,
    tokens_per_minute: int | None,
) -> tuple[int, dict[str, int | None]]:
    """The tasks that run at once, and each one's share of the budget (checked)."""
    tasks = concurrent_tasks(spark, given)
    budget = JobBudget(requests_per_minute, tokens_per_minute)
    budget.check_covers(tasks, "concurrent tasks")
    share = budget.split(tasks)
    return tasks, {
        "requests_per_minute": share.requests_per_minute,
        "tokens_per_minute": share.tokens_per_minute,
    }


def with_embeddings(
    df: DataFrame,
    model: str,
    *,
    text_column: str = "text",
    row_errors: bool = False,
    concurrent_tasks: int | None = None,
    requests_per_minute: int | None = None,
    tokens_per_minute: int | None = None,
    api_key: Broadcast[SecretStr] | None = None,
    **settings: Any,
) -> DataFrame:
    """``df`` with an ``embedding`` column (and ``error``, with ``row_errors``); lazy.

    The budget is the job's, split over ``concurrent_tasks`` (see the module), and ``df`` is
    coalesced to at most that many partitions so that no more tasks run at once.

    Raises:
        ConfigurationError: before any task: a bad setting, a missing text column, or a budget
            below one request per concurrent task.
    """
    check_columns(df.columns, text_column=text_column)
    spark = df.sparkSession
    tasks, share = _shares(spark, concurrent_tasks, requests_per_minute, tokens_per_minute)
    embed = EmbedPartitions(
        model, text_column=text_column, row_errors=row_errors, api_key=api_key, **settings, **share
    )
    if df.rdd.getNumPartitions() > tasks:
        df = df.coalesce(tasks)
    return df.mapInPandas(embed, embed.schema(df.schema))


class _WriteParts:
    """The job's task: embeds its rows, ``rows_per_part`` at a time, each written as one part."""

    def __init__(
        self,
        spec: ClientSpec,
        directory: OutputDirectory,
        id_column: str,
        text_column: str,
        rows_per_part: int,
        row_errors: bool,
        api_key: Broadcast[SecretStr] | None,
    ) -> None:
        self.spec = spec
        self.directory = directory
        self.id_column = id_column
        self.text_column = text_column
        self.rows_per_part = rows_per_part
        self.row_errors = row_errors
        self.api_key = api_key
        self.__name__ = "embed_parts"

    def __call__(self, batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        with self.spec.client(_key_from(self.api_key)) as client:
            for rows in _rechunked(batches, self.rows_per_part):
                report = embed_part(
                    client,
                    self.directory,
                    self.id_column,
                    pa.array(rows[self.id_column]),
                    rows[self.text_column].tolist(),
                    row_errors=self.row_errors,
                )
                yield pd.DataFrame({name: [report[name]] for name in REPORT_COLUMNS})


def _rechunked(batches: Iterator[pd.DataFrame], rows: int) -> Iterator[pd.DataFrame]:
    """The rows of ``batches`` again, ``rows`` at a time (the last chunk may be shorter)."""
    pending: list[pd.DataFrame] = []
    held = 0
    for batch in batches:
        pending.append(batch)
        held += len(batch)
        while held >= rows:
            joined = pd.concat(pending, ignore_index=True)
            yield joined.iloc[:rows]
            pending, held = [joined.iloc[rows:]], held - rows
    if held:
        yield pd.concat(pending, ignore_index=True)


def _count_ids(df: DataFrame, id_column: str) -> int:
    """The counting pass over the id column: the number of ids; null or repeated ones refused."""
    counted = df.groupBy(id_column).count()
    totals = counted.agg(
        F.count(F.col(id_column)).alias("ids"),
        F.sum(F.when(F.col(id_column).isNull(), F.col("count")).otherwise(0)).alias("nulls"),
        F.sum(F.when(F.col("count") > 1, 1).otherwise(0)).alias("repeated"),
    ).first()
    assert totals is not None
    repeated: list[tuple[Any, int]] = []
    if totals["repeated"]:
        found = counted.where(F.col("count") > 1).orderBy(id_column).limit(_SHOWN_IDS + 1).collect()
        repeated = [(row[id_column], row["count"]) for row in found]
    refuse_bad_ids(id_column, totals["nulls"] or 0, repeated)
    return int(totals["ids"])


def embed_dataframe(
    df: DataFrame,
    model: str,
    output: str | os.PathLike[str],
    *,
    id_column: str = "id",
    text_column: str = "text",
    concurrent_tasks: int | None = None,
    rows_per_part: int = DEFAULT_ROWS_PER_PART,
    row_errors: bool = False,
    requests_per_minute: int | None = None,
    tokens_per_minute: int | None = None,
    api_key: str | SecretStr | None = None,
    restart: bool = False,
    **settings: Any,
) -> JobResult:
    """Embed every row of ``df`` into ``output``, a directory of parquet parts; resumable.

    The output has ``id_column``, ``embedding`` (``list<float>``, null for a failed row) and
    ``error`` (why a row failed, else null), one row per id; ``spark.read.parquet(output)`` reads
    it. Run it again after a kill or a failure: it embeds only the ids not yet in ``output``.

    Args:
        df: the rows; ``id_column`` and ``text_column`` must be among its columns.
        model: the orq model id.
        output: a directory every task can write to (a local path on one machine, a shared
            filesystem, or a URI pyarrow's filesystems take, such as ``s3://...``); new, empty,
            or this job's from an earlier run.
        id_column: unique ids, never null: how a rerun knows which rows are done.
        concurrent_tasks: the tasks that run at once, which the budget is split over; by
            default the session's default parallelism (see the module).
        rows_per_part: rows a task embeds and writes as one part: what a kill loses at most
            per task.
        row_errors: a row that cannot be embedded gets an ``error`` and a null vector instead
            of failing the job.
        requests_per_minute, tokens_per_minute: the job's budget, split over the tasks.
        api_key: the key, sent to the tasks as a broadcast variable; by default each task reads
            ``ORQ_API_KEY`` from its environment.
        restart: discard what ``output`` holds and start over.
        settings: the client's other settings (``base_url``, ``dimensions``, ``batch_size``,
            ``max_concurrency``, ``orq``, ``rate_limit_window``, ...).

    Raises:
        ConfigurationError: before any request: a bad setting, a budget below one request per
            concurrent task, a missing column, null or repeated ids, or an output holding
            another job's rows.
        MixedSpacesError: the rows were served from more than one vector space.
        TaskFailedError: a task failed: a row that cannot be embedded (without
            ``row_errors``), or the server's or the network's errors after the client's
            retries. The parts written so far stay for the next run.
    """
    spark = df.sparkSession
    tasks, share = _shares(spark, concurrent_tasks, requests_per_minute, tokens_per_minute)
    spec, directory = open_job(
        model,
        {**settings, **share},
        output,
        df.columns,
        id_column=id_column,
        text_column=text_column,
        rows_per_part=rows_per_part,
        restart=restart,
    )

    rows = _count_ids(df, id_column)
    resumed = len(directory.scan(id_column).ids)
    tokens = 0
    if resumed < rows:
        todo = df.select(id_column, text_column)
        if resumed:
            done = spark.read.parquet(directory.location).select(id_column)
            todo = todo.join(done, id_column, "left_anti")
        key = None if api_key is None else spark.sparkContext.broadcast(as_secret(api_key))
        try:
            write = _WriteParts(
                spec, directory, id_column, text_column, rows_per_part, row_errors, key
            )
            schema = ", ".join(f"{name} long" for name in REPORT_COLUMNS)
            try:
                reports = todo.repartition(tasks).mapInPandas(write, schema).collect()
            except PythonException as error:
                raise TaskFailedError.from_traceback(str(error)) from error
        finally:
            if key is not None:
                key.destroy()
        tokens = sum(report["tokens"] for report in reports)
    return finish_job(directory, id_column, rows=rows, resumed=resumed, tokens=tokens)
