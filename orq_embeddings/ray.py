"""Ray Data as an engine: embed a Dataset on many workers, under one rate budget for the whole job.

Two ways in (``pip install "orq-embeddings[ray]"``):

- :class:`EmbedBatch`, the callable class for ``Dataset.map_batches``: a lazy building block that
  adds an ``embedding`` column (``list<float>``) to each batch, for pipelines of your own::

      budget = RateBudget.start(requests_per_minute=3000, workers=8)
      embedded = dataset.map_batches(
          EmbedBatch,
          fn_constructor_kwargs={"model": "openai/text-embedding-3-small", "budget": budget},
          compute=ray.data.ActorPoolStrategy(size=8),
          num_cpus=0.25,
          batch_format="pyarrow",
      )

- :func:`embed_dataset`, the job: it owns an output directory of parquet parts, writes each part
  whole or not at all, resumes after a kill by the id column (sending no request for the rows
  already written), reports failed rows, and finishes only when every id is in it exactly once.

**One rate budget.** ``requests_per_minute`` and ``tokens_per_minute`` hold for the job: every
worker's client asks one :class:`RateBudget` (an actor holding the rolling windows and the
server's ``X-RateLimit`` state) before each request. A grant is a time stamp, so a worker that dies
leaks no budget. A budget below one request per worker and window is refused before any task.

**The key** reaches the workers through their environment (``ORQ_API_KEY``) by default, or, given
to :func:`embed_dataset` as ``api_key``, as a Ray object the workers fetch: never inside the
pickled constructor arguments, the plan or a ``runtime_env`` (whose ``env_vars`` Ray logs in
plain text). To hand :class:`EmbedBatch` a key yourself, pass ``api_key=ray.put(key)``.
"""

from __future__ import annotations

import itertools
import os
import time
import uuid
from collections.abc import Mapping
from typing import Any, cast

from .extras import RAY, require

require("orq_embeddings.ray", RAY)

import pyarrow as pa
import pyarrow.compute as pc
import ray
import ray.data
from pydantic import SecretStr

from ._engines.budget import JobBudget
from ._engines.client_spec import ClientSpec, as_secret
from ._engines.job import (
    REPORT_COLUMNS,
    JobResult,
    MixedSpacesError,
    TaskFailedError,
    check_columns,
    check_ids,
    embed_part,
    finish_job,
    not_done,
    open_job,
)
from ._engines.parts import EMBEDDING, ERROR, SPACE, OutputDirectory, embedding_array
from ._engines.rate_window import SharedWindow
from ._engines.row_errors import embed_rows
from .errors import ConfigurationError, ConfigurationProblem
from .settings import DEFAULT_MAX_RETRY_AFTER, DEFAULT_RATE_LIMIT_WINDOW

__all__ = [
    "EmbedBatch",
    "JobResult",
    "MixedSpacesError",
    "RateBudget",
    "TaskFailedError",
    "embed_dataset",
]

#: CPUs each embedding worker reserves: it waits on HTTP, so a quarter of a CPU. At whole CPUs,
#: two workers would hold a 2-core machine and the stages that read and filter could never run.
WORKER_CPUS = 0.25
#: Rows a worker embeds and writes as one part of the job's output.
DEFAULT_ROWS_PER_PART = 4096
#: The response headers a worker passes on to the budget.
_RATE_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "retry-after")


class _WindowHolder:
    """The actor holding the job's :class:`SharedWindow`; it starts full after a restart."""

    def __init__(self, **limits: Any) -> None:
        self._window = SharedWindow(**limits)
        if ray.get_runtime_context().was_current_actor_reconstructed:
            self._window.assume_full()

    def try_take(self, grant: str, tokens: int, retry: bool) -> float:
        return self._window.try_take(grant, tokens, retry)

    def finish(self, grant: str, status: int | None, headers: dict[str, str]) -> None:
        self._window.finish(grant, status, headers)


class RateBudget:
    """A whole job's rate budget, shared by every worker: a handle to the actor that holds it.

    Make one with :meth:`start`, pass it to the workers (``fn_constructor_kwargs``), and
    :meth:`stop` it when the job is done. It pickles as the actor's handle; each worker's client
    asks it before every request (it is the worker's
    :class:`~orq_embeddings._runtime.pacing.SharedBudget`).
    """

    def __init__(self, actor: Any, counts_tokens: bool) -> None:
        self._actor = actor
        self._counts_tokens = counts_tokens
        self._prefix = uuid.uuid4().hex[:12]
        self._numbers = itertools.count()
        self._not_before = 0.0

    @classmethod
    def start(
        cls,
        *,
        workers: int,
        requests_per_minute: int | None = None,
        tokens_per_minute: int | None = None,
        rate_limit_window: float = DEFAULT_RATE_LIMIT_WINDOW,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
    ) -> RateBudget:
        """Start the actor holding a job's budget, for ``workers`` that draw on it.

        Without a budget, it still shares the server's ``X-RateLimit`` state among the workers.

        Raises:
            ConfigurationError: a budget below one request (or token) per worker and window.
        """
        JobBudget(requests_per_minute, tokens_per_minute).check_covers(workers, "workers")
        # Restarted if its process dies (it then starts full), and calls in flight go again.
        holder = ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1)(_WindowHolder)
        actor = holder.remote(
            requests_per_minute=requests_per_minute,
            tokens_per_minute=tokens_per_minute,
            window=rate_limit_window,
            max_hold=max_retry_after,
        )
        return cls(actor, tokens_per_minute is not None)

    def stop(self) -> None:
        """End the actor."""
        ray.kill(self._actor)

    def __reduce__(self) -> tuple[Any, ...]:
        return (RateBudget, (self._actor, self._counts_tokens))

    @property
    def counts_tokens(self) -> bool:
        """Whether requests need a token estimate."""
        return self._counts_tokens

    def try_take(self, tokens: int, *, retry: bool) -> str | float:
        """Ask the actor for one request's grant: its name, or the seconds to wait.

        A wait the actor gave is waited out here without asking again: nothing it counts leaves
        its window sooner.
        """
        now = time.monotonic()
        if now < self._not_before and not retry:
            return self._not_before - now
        grant = f"{self._prefix}-{next(self._numbers)}"
        wait: float = ray.get(self._actor.try_take.remote(grant, tokens, retry))
        if wait > 0:
            self._not_before = now + wait
            return wait
        return grant

    def finish(self, grant: str, status: int | None, headers: Mapping[str, str]) -> None:
        """Tell the actor how request ``grant`` ended (without waiting for it to hear)."""
        rate_headers = {name: headers[name] for name in _RATE_HEADERS if name in headers}
        self._actor.finish.remote(grant, status, rate_headers)


def _key_from(api_key: Any) -> SecretStr | None:
    """The key a worker was handed as a Ray object, or None (then ``ORQ_API_KEY`` is read)."""
    if api_key is None:
        return None
    if not isinstance(api_key, ray.ObjectRef):
        raise TypeError(
            "api_key must be a Ray object (api_key=ray.put(key)), or left out for the workers to "
            "read ORQ_API_KEY: a key given as it is would be pickled into the job's plan"
        )
    key = ray.get(api_key)
    return key if isinstance(key, SecretStr) else SecretStr(key)


def _as_table(batch: Any) -> pa.Table:
    if isinstance(batch, pa.Table):
        return batch
    if isinstance(batch, dict):
        return pa.table({name: list(values) for name, values in batch.items()})
    return pa.Table.from_pandas(batch, preserve_index=False)


class EmbedBatch:
    """``Dataset.map_batches`` callable: adds an ``embedding`` column to each batch.

    Ray builds one per worker (an actor), and its client, with its pooled connections, serves
    every batch the worker gets. Every other column passes through unchanged, row for row. Use
    ``batch_format="pyarrow"`` (pandas and numpy batches are converted).

    Args:
        model: the orq model id.
        text_column: the column holding the texts.
        row_errors: give a row that cannot be embedded (empty text, an input refused for its
            length or size alone) a null vector and an ``error`` column saying why, instead of
            failing the batch. The server's and the network's errors still fail it.
        budget: the job's :class:`RateBudget`; without one each worker paces itself alone.
        api_key: a Ray object holding the key (``ray.put(key)``); by default each worker reads
            ``ORQ_API_KEY``.
        settings: the client's other settings (``base_url``, ``dimensions``, ``batch_size``,
            ``max_concurrency``, ``orq``, ...). ``requests_per_minute`` here is each worker's
            own: give the job's to the budget instead.
    """

    def __init__(
        self,
        model: str,
        *,
        text_column: str = "text",
        row_errors: bool = False,
        budget: RateBudget | None = None,
        api_key: Any = None,
        **settings: Any,
    ) -> None:
        self._text_column = text_column
        self._row_errors = row_errors
        self._client = ClientSpec(model, settings).client(_key_from(api_key), budget)

    def __call__(self, batch: Any) -> pa.Table:
        table = _as_table(batch)
        check_columns(table.column_names, text_column=self._text_column)
        texts = table.column(self._text_column).to_pylist()
        embedded = embed_rows(self._client, texts, row_errors=self._row_errors)
        table = table.append_column(EMBEDDING, embedding_array(embedded.vectors))
        table = table.append_column(SPACE, pa.array(embedded.spaces, pa.string()))
        if self._row_errors:
            table = table.append_column(ERROR, pa.array(embedded.errors, pa.string()))
        return table


class _EmbedParts:
    """The job's worker: embeds the rows of a batch not written yet, and writes them as a part.

    ``done`` holds the ids earlier runs wrote (a Ray object, fetched once per worker).
    """

    def __init__(
        self,
        spec: ClientSpec,
        directory: OutputDirectory,
        id_column: str,
        text_column: str,
        row_errors: bool,
        budget: RateBudget,
        api_key: Any,
        done: Any,
    ) -> None:
        self._directory = directory
        self._id_column = id_column
        self._text_column = text_column
        self._row_errors = row_errors
        self._done: pa.ChunkedArray = ray.get(done)
        self._client = spec.client(_key_from(api_key), budget)

    def __call__(self, batch: pa.Table) -> pa.Table:
        todo = batch.filter(not_done(batch.column(self._id_column), self._done))
        report = dict.fromkeys(REPORT_COLUMNS, 0)
        if todo.num_rows:
            report = embed_part(
                self._client,
                self._directory,
                self._id_column,
                todo.column(self._id_column).combine_chunks(),
                todo.column(self._text_column).to_pylist(),
                row_errors=self._row_errors,
            )
        return pa.table(
            {name: pa.array([report[name]], kind) for name, kind in REPORT_COLUMNS.items()}
        )


def _columns_of(dataset: ray.data.Dataset) -> list[str]:
    """The dataset's columns; none when Ray cannot say (a dataset without a block)."""
    schema = dataset.schema()
    return [] if schema is None else list(schema.names)


def _id_column(dataset: ray.data.Dataset, id_column: str) -> pa.ChunkedArray:
    """The counting pass: every id of ``dataset``, read to this process in arrow's form."""
    batches = dataset.select_columns([id_column]).iter_batches(batch_format="pyarrow")
    chunks = [cast(pa.Table, batch).column(id_column) for batch in batches]
    return pa.chunked_array(chunks) if chunks else pa.chunked_array([], pa.null())


def embed_dataset(
    dataset: ray.data.Dataset,
    model: str,
    output: str | os.PathLike[str],
    *,
    id_column: str = "id",
    text_column: str = "text",
    workers: int = 2,
    worker_cpus: float = WORKER_CPUS,
    rows_per_part: int = DEFAULT_ROWS_PER_PART,
    row_errors: bool = False,
    requests_per_minute: int | None = None,
    tokens_per_minute: int | None = None,
    api_key: str | SecretStr | None = None,
    restart: bool = False,
    **settings: Any,
) -> JobResult:
    """Embed every row of ``dataset`` into ``output``, a directory of parquet parts; resumable.

    The output has ``id_column``, ``embedding`` (``list<float>``, null for a failed row) and
    ``error`` (why a row failed, else null), one row per id. Run it again after a kill or a
    failure: it embeds only the ids not yet in ``output``.

    Args:
        dataset: the rows; ``id_column`` and ``text_column`` must be among its columns.
        model: the orq model id.
        output: a directory (local, or a URI pyarrow's filesystems take, such as ``s3://...``)
            that every worker can reach; new, empty, or this job's from an earlier run.
        id_column: unique ids, never null: how a rerun knows which rows are done.
        workers: embedding workers (Ray actors); each sends up to ``max_concurrency`` requests
            at once, so ``workers x max_concurrency`` are in flight at most.
        worker_cpus: CPUs each worker reserves (see :data:`WORKER_CPUS`).
        rows_per_part: rows a worker embeds and writes as one part: what a kill loses at most
            per worker.
        row_errors: a row that cannot be embedded gets an ``error`` and a null vector instead
            of failing the job (see :mod:`orq_embeddings._engines.row_errors`).
        requests_per_minute, tokens_per_minute: the job's budget, shared by every worker.
        api_key: the key, sent to the workers as a Ray object; by default each worker reads
            ``ORQ_API_KEY`` from its environment.
        restart: discard what ``output`` holds and start over.
        settings: the client's other settings (``base_url``, ``dimensions``, ``batch_size``,
            ``max_concurrency``, ``orq``, ``rate_limit_window``, ...).

    Returns:
        What the job did (:class:`~orq_embeddings._engines.job.JobResult`).

    Raises:
        ConfigurationError: before any request: a bad setting, a budget below one request per
            worker, a missing column, null or repeated ids, or an output holding another job's
            rows.
        MixedSpacesError: the rows were served from more than one vector space.
        TaskFailedError: a worker failed: a row that cannot be embedded (without
            ``row_errors``), or the server's or the network's errors after the client's
            retries. The parts written so far stay for the next run.
    """
    if workers < 1:
        raise ConfigurationError([ConfigurationProblem(("workers",), "must be at least 1")])
    budget_settings = {
        "rate_limit_window": settings.get("rate_limit_window", DEFAULT_RATE_LIMIT_WINDOW),
        "max_retry_after": settings.get("max_retry_after", DEFAULT_MAX_RETRY_AFTER),
    }
    JobBudget(requests_per_minute, tokens_per_minute).check_covers(workers, "workers")
    spec, directory = open_job(
        model,
        settings,
        output,
        _columns_of(dataset),
        id_column=id_column,
        text_column=text_column,
        rows_per_part=rows_per_part,
        restart=restart,
    )

    ids = _id_column(dataset, id_column)
    check_ids(ids, id_column)
    done = directory.scan(id_column).ids
    todo = pc.sum(not_done(ids, done)).as_py() if len(done) else len(ids)
    tokens = 0
    if todo:
        budget = RateBudget.start(
            workers=workers,
            requests_per_minute=requests_per_minute,
            tokens_per_minute=tokens_per_minute,
            **budget_settings,
        )
        key = None if api_key is None else ray.put(as_secret(api_key))
        try:
            # A block is what one worker takes at a time: blocks larger than a part are split,
            # so that a few large blocks still keep every worker busy.
            rows = dataset.select_columns([id_column, text_column]).repartition(
                target_num_rows_per_block=rows_per_part
            )
            reports = _run(
                rows.map_batches(
                    _EmbedParts,
                    fn_constructor_kwargs={
                        "spec": spec,
                        "directory": directory,
                        "id_column": id_column,
                        "text_column": text_column,
                        "row_errors": row_errors,
                        "budget": budget,
                        "api_key": key,
                        "done": ray.put(done),
                    },
                    compute=ray.data.ActorPoolStrategy(size=workers),
                    num_cpus=worker_cpus,
                    batch_size=rows_per_part,
                    batch_format="pyarrow",
                )
            )
        finally:
            budget.stop()
            del key
        tokens = sum(report["tokens"] for report in reports)
    return finish_job(directory, id_column, rows=len(ids), resumed=len(ids) - todo, tokens=tokens)


def _run(reports: ray.data.Dataset) -> list[dict[str, Any]]:
    """Every task's report.

    Raises:
        TaskFailedError: a worker failed, naming the client's error it raised.
    """
    try:
        return reports.take_all()
    except ray.exceptions.RayTaskError as error:
        raise TaskFailedError.from_traceback(str(error)) from error
