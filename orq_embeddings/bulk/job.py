"""A resumable bulk embedding job: corpus in, vectors out, every row exactly once, in order.

Rows are cut into chunks of ``chunk_rows``; the client streams batches of all unfinished chunks
(``max_concurrency`` requests at a time) and each chunk is saved the moment its last row is in.
Ctrl-C, a crash or an error that outlasts the retries loses at most the chunks in flight:
running the same command again embeds only what is missing, then writes the output.

Every row of a job is in one vector space (:mod:`orq_embeddings.space`): the checkpoint keeps the
space of the first batch, in every run, and a batch served in another (a fallback to another
model) stops the job, naming both, before its vectors are saved; no mixed output is written.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from .._progress import progress_bar
from ..client import OrqEmbeddingsClient
from ..errors import ConfigurationError, ConfigurationProblem, EmbeddingSpaceError
from ..results import BatchReport
from ..space import EmbeddingSpace, route_to
from .checkpoint import Checkpoint, Spent, file_digest
from .outputs import Chunk, check_output_path, write_output
from .rows import BadRow, Corpus, read_corpus

DEFAULT_CHUNK_ROWS = 4096
_SHOWN_BAD_ROWS = 20


@dataclass(frozen=True)
class BulkJob:
    """What to embed and where to put it."""

    input: Path
    output: Path
    text_field: str = "text"
    id_field: str | None = None
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    strict: bool = False
    restart: bool = False

    def __post_init__(self) -> None:
        if self.chunk_rows < 1:
            raise ConfigurationError(
                [
                    ConfigurationProblem(
                        ("chunk_rows",), f"must be at least 1, got {self.chunk_rows}"
                    )
                ]
            )

    @property
    def checkpoint_dir(self) -> Path:
        """Where finished chunks wait: beside the output, named after it."""
        return self.output.with_name(self.output.name + ".checkpoint")


@dataclass(frozen=True)
class BulkResult:
    """What a finished job did, over all its runs.

    Attributes:
        rows: rows in the output.
        resumed_rows: of those, rows saved by earlier runs.
        tokens: tokens spent over all runs, rows embedded again after an interruption included
            (this run's only, when ``tokens_over_every_run`` is False: an engine's job).
        runs: how many runs the job took.
    """

    rows: int
    resumed_rows: int
    bad_rows: tuple[BadRow, ...]
    dimensions: int
    tokens: int
    runs: int = 1
    tokens_over_every_run: bool = True


class BadRowsError(ValueError):
    """Rows that cannot be embedded, in a job told to be strict about them."""


def describe_bad_rows(bad_rows: list[BadRow]) -> str:
    """One message naming the bad rows by line number."""
    shown = "; ".join(f"line {row.line}: {row.problem}" for row in bad_rows[:_SHOWN_BAD_ROWS])
    more = len(bad_rows) - _SHOWN_BAD_ROWS
    return f"{len(bad_rows)} row(s) cannot be embedded: {shown}" + (
        f"; and {more} more" if more > 0 else ""
    )


def describe_repeated_ids(corpus: Corpus, id_field: str) -> str:
    """One message naming each repeated id and the lines that carry it."""
    repeated = list(corpus.repeated_ids().items())
    shown = "; ".join(
        f"{row_id!r} on lines {', '.join(map(str, lines))}"
        for row_id, lines in repeated[:_SHOWN_BAD_ROWS]
    )
    more = len(repeated) - _SHOWN_BAD_ROWS
    return (
        f"{len(repeated)} id(s) in {id_field!r} repeat, so the output could not be joined back "
        f"by id: {shown}" + (f"; and {more} more" if more > 0 else "")
    )


def _manifest(job: BulkJob, client: OrqEmbeddingsClient, corpus: Corpus) -> dict[str, object]:
    """What the saved vectors depend on: a rerun that differs in any of it cannot reuse them.

    The document prefix is the one in effect (a preset's or an explicit one), recorded only when
    there is one, so a checkpoint made before prefixes existed is still this job's.
    """
    document_prefix = client.prefixes.document.text
    return {
        "input_sha256": file_digest(job.input),
        "text_field": job.text_field,
        "id_field": job.id_field,
        "rows": len(corpus.texts),
        "chunk_rows": job.chunk_rows,
        "base_url": client.config.base_url,
        **client.settings.model_dump(mode="json", exclude_none=True),
        **({"document_prefix": document_prefix} if document_prefix else {}),
    }


def read_checked_corpus(job: BulkJob, say: Callable[[str], None]) -> Corpus:
    """The job's rows, once the output's format and folder, the ids and the rows are checked.

    Bad rows are reported through ``say`` and left out (refused with ``job.strict``).

    Raises:
        ConfigurationError: an unsupported format, a missing output folder, repeated ids.
        BadRowsError: ``job.strict`` and some rows cannot be embedded.
        ValueError: no embeddable row.
    """
    check_output_path(job.output)
    corpus = read_corpus(job.input, text_field=job.text_field, id_field=job.id_field)
    if job.id_field is not None and corpus.repeated_ids():
        problem = describe_repeated_ids(corpus, job.id_field)
        raise ConfigurationError([ConfigurationProblem(("id_field",), problem)])
    if corpus.bad_rows:
        message = describe_bad_rows(corpus.bad_rows)
        if job.strict:
            raise BadRowsError(message)
        say(f"skipping {message}")
    if not corpus.texts:
        raise ValueError(f"{job.input}: no row can be embedded")
    return corpus


def run_bulk_job(
    job: BulkJob,
    client: OrqEmbeddingsClient,
    *,
    say: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
    progress: bool | None = None,
) -> BulkResult:
    """Embed ``job.input`` into ``job.output``, continuing from a previous run's checkpoint.

    Args:
        say: where messages for the user go (stderr by default).
        progress: show a progress bar; by default only when stderr is a terminal.

    Raises:
        BadRowsError: if ``job.strict`` and some rows cannot be embedded.
        ConfigurationError: (a ValueError) an unsupported format, a missing output folder,
            repeated ids, or rows saved by a job with other settings (CheckpointConflictError).
        EmbeddingSpaceError: a batch was served in another vector space than the rows before
            it (after saving every finished chunk; no output is written).
        ValueError: no embeddable row.
        OrqError, KeyboardInterrupt: after saving every finished chunk.
    """
    corpus = read_checked_corpus(job, say)
    checkpoint = Checkpoint.open(
        job.checkpoint_dir, _manifest(job, client, corpus), restart=job.restart, say=say
    )
    spans = [
        (start, min(start + job.chunk_rows, len(corpus.texts)))
        for start in range(0, len(corpus.texts), job.chunk_rows)
    ]
    pending = [number for number in range(len(spans)) if not checkpoint.finished(number)]
    resumed = len(corpus.texts) - sum(spans[n][1] - spans[n][0] for n in pending)
    if resumed:
        say(f"continuing: {resumed} of {len(corpus.texts)} rows were already embedded")
    earlier = checkpoint.spent()
    spent = _embed_pending(
        client, corpus, spans, pending, checkpoint, resumed, earlier, say, progress
    )

    dimensions = int(checkpoint.load(0).shape[1])
    space = checkpoint.space()
    assert space is not None, "every chunk was saved, after its space was recorded"

    def finished_chunks() -> Iterator[Chunk]:
        for number, (start, stop) in enumerate(spans):
            yield corpus.ids[start:stop], checkpoint.load(number)

    write_output(job.output, finished_chunks(), len(corpus.texts), dimensions, space)
    checkpoint.remove()
    return BulkResult(
        len(corpus.texts), resumed, tuple(corpus.bad_rows), dimensions, spent.tokens, spent.runs
    )


def _embed_pending(
    client: OrqEmbeddingsClient,
    corpus: Corpus,
    spans: list[tuple[int, int]],
    pending: list[int],
    checkpoint: Checkpoint,
    resumed: int,
    earlier: Spent,
    say: Callable[[str], None],
    progress: bool | None,
) -> Spent:
    """Embed the unfinished chunks, saving each as soon as it is complete.

    Returns:
        the tokens and runs of the whole job, this run's added to ``earlier``'s. They are kept in
        the checkpoint with each saved chunk and when the run stops, so a rerun counts them.
    """
    texts = [text for number in pending for text in corpus.texts[slice(*spans[number])]]
    show = sys.stderr.isatty() if progress is None else progress
    runs = earlier.runs + (1 if pending else 0)
    with progress_bar(len(corpus.texts), show=show, done=resumed, tokens=earlier.tokens) as bar:

        def spent() -> Spent:
            return Spent(bar.tokens or 0, runs)

        filler = _ChunkFiller(
            pending, spans, checkpoint, on_saved=lambda: checkpoint.record_spent(spent())
        )
        spaces = _OneSpace(checkpoint, client, resumed)
        try:
            for embedded in client.iter_batches(texts, on_batch=bar.advance):
                spaces.check(embedded.report, filler.saved_rows)
                filler.add(embedded.vectors)
        except BaseException:
            if checkpoint.is_empty() and not bar.tokens:
                checkpoint.remove()  # nothing to continue: leave nothing behind
                say("stopped before any row was saved")
            else:
                checkpoint.record_spent(spent())
                done = resumed + filler.saved_rows
                say(
                    f"stopped: {done} of {len(corpus.texts)} rows are saved in "
                    f"{checkpoint.directory}; run the same command again to continue"
                )
            raise
    return spent()


class _OneSpace:
    """Holds every batch of a job to the vector space of its first, kept in the checkpoint."""

    def __init__(self, checkpoint: Checkpoint, client: OrqEmbeddingsClient, resumed: int) -> None:
        self._checkpoint = checkpoint
        self._client = client
        self._resumed = resumed
        self._space: EmbeddingSpace | None = checkpoint.space()

    def check(self, report: BatchReport, saved_now: int) -> None:
        """Accept a batch of the job's space (recording it with the first batch), or raise.

        Raises:
            EmbeddingSpaceError: the batch was served in another space, or its response did not
                say which model served it.
        """
        served, where = report.space, report.batch.describe()
        if served is None:
            raise EmbeddingSpaceError(
                f"{where}: the response did not name the model that served it, so the output "
                "could not say which vector space its rows are in; nothing was written",
                expected=self._space,
            )
        if self._space is None or _same_document_vectors(self._space, served):
            if served != self._space:
                self._checkpoint.record_space(served)
            self._space = served
        elif served != self._space:
            saved = self._resumed + saved_now
            raise EmbeddingSpaceError(
                f"this job's rows came from two vector spaces: {self._space} (the first batch, "
                f"{saved} rows saved so far) and {served}, which served {where}, routed there "
                f"by {route_to(served.model, self._client.settings)}. One output holds one "
                "space, so none was written: run the same command again to continue in "
                f"{self._space}, or with --restart to start over in the other",
                expected=self._space,
                served=served,
            )


def _same_document_vectors(saved: EmbeddingSpace, served: EmbeddingSpace) -> bool:
    """Whether rows saved in ``saved`` are the vectors ``served`` would make.

    A job's rows take only the document prefix, which the checkpoint's manifest holds to, so a
    rerun whose spaces differ in the query prefix alone (no preset, then ``bge``: the same empty
    document prefix) makes the same vectors; its space, the one now in use, is the output's.
    """
    return (saved.model, saved.dimensions) == (served.model, served.dimensions)


class _ChunkFiller:
    """Routes streamed vectors, in order, into the pending chunks and saves each when full."""

    def __init__(
        self,
        pending: list[int],
        spans: list[tuple[int, int]],
        checkpoint: Checkpoint,
        on_saved: Callable[[], None],
    ) -> None:
        self._on_saved = on_saved
        self._pending = iter(pending)
        self._spans = spans
        self._checkpoint = checkpoint
        self._parts: list[npt.NDArray[np.float32]] = []
        self._filled = 0
        self._current = next(self._pending, None)
        self.saved_rows = 0

    def add(self, vectors: npt.NDArray[np.float32]) -> None:
        while len(vectors):
            assert self._current is not None, "more vectors than rows"
            start, stop = self._spans[self._current]
            take = min(stop - start - self._filled, len(vectors))
            self._parts.append(vectors[:take])
            self._filled += take
            vectors = vectors[take:]
            if self._filled == stop - start:
                self._checkpoint.save(self._current, np.concatenate(self._parts))
                self.saved_rows += stop - start
                self._on_saved()
                self._parts, self._filled = [], 0
                self._current = next(self._pending, None)
