"""``orq-embeddings embed --engine ray|spark``: the bulk job's files, an engine's workers.

The command reads the corpus and writes the output exactly as it does on its own (the same
formats, in input order; bad rows reported by line number and skipped, ``--strict`` refusing
them), and hands the embedding to an engine's job (:func:`orq_embeddings.ray.embed_dataset`,
:func:`orq_embeddings.spark.embed_dataframe`): ``--workers`` Ray workers or Spark tasks on this
machine, under one rate budget. The engine knows each row by its line number.

The engine's parts wait in ``OUTPUT.parts/`` beside the output: after Ctrl-C, a kill or an error,
the same command embeds only the rows not there yet, then writes the output and removes them.
The corpus's digest is kept with them, so a rerun on a changed corpus is refused (``--restart``
discards the parts) rather than mixing the vectors of two inputs. Without ``--strict``, a row the
server refuses for its length or size alone is reported and skipped like a row with no text.

A Ray started here listens on 127.0.0.1 only; with ``RAY_ADDRESS`` set, the job runs on that
cluster instead, whose workers must reach the output's folder. Spark runs as ``local[WORKERS]``.
"""

from __future__ import annotations

import json
import logging
import shutil
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._engines.budget import JobBudget
from ..extras import RAY, SPARK, require
from ..space import EmbeddingSpace
from .checkpoint import CheckpointConflictError, changes, file_digest
from .job import BulkJob, BulkResult, describe_bad_rows, read_checked_corpus
from .outputs import Chunk, write_output
from .rows import BadRow, Corpus

if TYPE_CHECKING:
    import pyarrow as pa

    from .._engines.job import JobResult

#: The engines ``--engine`` offers besides running in this process, and the extras they need.
ENGINES = {"ray": RAY, "spark": SPARK}
#: The engine's names for a row: its line number, and its text.
LINE, TEXT = "line", "text"
#: What the parts were made from, kept beside them.
_INPUT = "_orq_input.json"
_CHUNK_ROWS = 4096


def parts_dir_for(output: Path) -> Path:
    """Where an engine's parts wait: beside the output, named after it."""
    return output.with_name(output.name + ".parts")


def run_engine_job(
    job: BulkJob,
    engine: str,
    *,
    workers: int,
    model: str,
    settings: dict[str, Any],
    say: Callable[[str], None],
) -> BulkResult:
    """Embed ``job.input`` into ``job.output`` on ``engine``, with ``workers`` at once.

    Args:
        settings: the client's settings; ``requests_per_minute`` and ``tokens_per_minute``
            are the whole job's budget.

    Raises:
        MissingExtraError: the engine's extra is not installed.
        BadRowsError: ``job.strict`` and some rows cannot be embedded.
        ConfigurationError: as :func:`~orq_embeddings.bulk.job.run_bulk_job` and the engine's
            job raise it (before any request), or a corpus that changed since parts were saved.
        ValueError: no row could be embedded.
    """
    require(f"--engine {engine}", ENGINES[engine])
    noun = "workers" if engine == "ray" else "concurrent tasks"
    budget = JobBudget(settings.get("requests_per_minute"), settings.get("tokens_per_minute"))
    budget.check_covers(workers, noun)  # before an engine takes seconds to start
    corpus = read_checked_corpus(job, say)
    parts = parts_dir_for(job.output)
    _claim(parts, job)
    import pyarrow as pa

    rows = pa.table({LINE: corpus.lines, TEXT: corpus.texts})
    run = _on_ray if engine == "ray" else _on_spark
    settings = {**settings, "row_errors": not job.strict, "rows_per_part": job.chunk_rows}
    result = run(rows, parts, workers, model, settings)
    if result.resumed:
        say(f"continued: {result.resumed} of {result.rows} rows were embedded by earlier runs")
    if result.served is None:
        raise ValueError(f"no row of {len(corpus.texts)} could be embedded: the server refused all")
    space = EmbeddingSpace.parse(result.served)
    dimensions, refused = _write_in_input_order(job.output, corpus, parts, space)
    if refused:
        say(f"skipped {describe_bad_rows(refused)}")
    shutil.rmtree(parts, ignore_errors=True)
    return BulkResult(
        rows=len(corpus.texts) - len(refused),
        resumed_rows=result.resumed,
        bad_rows=tuple(sorted([*corpus.bad_rows, *refused], key=lambda row: row.line)),
        dimensions=dimensions,
        tokens=result.tokens,
        tokens_over_every_run=False,
    )


def _claim(parts: Path, job: BulkJob) -> None:
    """Keep the parts of this corpus (discarding them on ``restart``); refuse another corpus's."""
    made_from = {
        "input_sha256": file_digest(job.input),
        "text_field": job.text_field,
        "id_field": job.id_field,
    }
    marker = parts / _INPUT
    if job.restart:
        shutil.rmtree(parts, ignore_errors=True)
    elif marker.exists():
        recorded = json.loads(marker.read_text())
        saved = list(parts.glob("orq-part-*.parquet"))
        if recorded != made_from and saved:
            raise CheckpointConflictError(parts, _rows_in(saved), changes(recorded, made_from))
    parts.mkdir(exist_ok=True)
    marker.write_text(json.dumps(made_from))


def _rows_in(saved: list[Path]) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(path).metadata.num_rows for path in saved)


def _on_ray(
    rows: pa.Table, parts: Path, workers: int, model: str, settings: dict[str, Any]
) -> JobResult:
    """The job on a Ray on this machine (or on ``RAY_ADDRESS``'s cluster)."""
    from .._engines.local_sessions import start_ray

    # A command's output is its own lines: Ray's progress bars and INFO logs stay quiet.
    logging.getLogger("ray").setLevel(logging.WARNING)
    started = start_ray(logging_level=logging.WARNING)
    import ray.data

    from ..ray import embed_dataset

    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        dataset = ray.data.from_arrow(rows)
        return embed_dataset(
            dataset, model, parts, id_column=LINE, text_column=TEXT, workers=workers, **settings
        )
    finally:
        if started is not None:
            ray.shutdown()


def _on_spark(
    rows: pa.Table, parts: Path, workers: int, model: str, settings: dict[str, Any]
) -> JobResult:
    """The job on a Spark on this machine, ``local[workers]``."""
    from .._engines.local_sessions import start_spark

    # pyspark warns at every pandas conversion that it does not yet fully support pandas 3.
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
    spark = start_spark(workers)
    from ..spark import embed_dataframe

    try:
        frame = spark.createDataFrame(rows.to_pandas())
        return embed_dataframe(
            frame,
            model,
            parts,
            id_column=LINE,
            text_column=TEXT,
            concurrent_tasks=workers,
            **settings,
        )
    finally:
        spark.stop()


def _write_in_input_order(
    output: Path, corpus: Corpus, parts: Path, space: EmbeddingSpace
) -> tuple[int, list[BadRow]]:
    """Write the parts' vectors to ``output`` in corpus order, recording the job's one vector
    ``space`` as every output does; the width, and the refused rows.

    Raises:
        ValueError: the server refused every row.
    """
    import pyarrow.compute as pc

    from .._engines.parts import EMBEDDING, ERROR, OutputDirectory

    table = OutputDirectory(parts).read([LINE, EMBEDDING, ERROR])
    position_of = {line: position for position, line in enumerate(corpus.lines)}
    positions = np.array([position_of[line] for line in table.column(LINE).to_pylist()])
    order = np.argsort(positions)
    table = table.take(order)
    refused_mask = pc.is_valid(table.column(ERROR))
    refused = [
        BadRow(line, problem)
        for line, problem in zip(
            table.filter(refused_mask).column(LINE).to_pylist(),
            table.filter(refused_mask).column(ERROR).to_pylist(),
            strict=True,
        )
    ]
    kept = table.filter(pc.invert(refused_mask))
    if kept.num_rows == 0:
        raise ValueError(f"no row of {len(corpus.texts)} could be embedded: the server refused all")
    kept_positions = positions[order][~refused_mask.to_numpy(zero_copy_only=False)]
    dimensions = len(kept.column(EMBEDDING)[0])

    def chunks() -> Iterator[Chunk]:
        for start in range(0, kept.num_rows, _CHUNK_ROWS):
            part = kept.slice(start, _CHUNK_ROWS).column(EMBEDDING).combine_chunks()
            vectors = part.flatten().to_numpy(zero_copy_only=False).reshape(-1, dimensions)
            ids = [corpus.ids[p] for p in kept_positions[start : start + _CHUNK_ROWS]]
            yield ids, vectors.astype(np.float32, copy=False)

    write_output(output, chunks(), kept.num_rows, dimensions, space)
    return dimensions, refused
