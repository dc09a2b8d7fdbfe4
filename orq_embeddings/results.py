"""What a call returns besides the vectors: which model served each batch, tokens, trace ids.

Vectors from different models are not comparable even at equal length, and a fallback or a load
balancer can route batches of one call to different models. The reports make that visible, and
:class:`MixedModelsWarning` says it out loud (turn it into an error with ``warnings.simplefilter``).
"""

from __future__ import annotations

import ctypes
import gc
import sys
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import cast

import numpy as np

from ._wire.batching import Batch
from ._wire.decoding import BatchEmbeddings, Usage, Vectors
from .errors import InvalidResponseError, OrqError
from .options import EmbeddingSettings
from .space import EmbeddingSpace, SpaceCheck


def float_lists(vectors: Vectors) -> list[list[float]]:
    """Vectors as lists of Python floats, the form LangChain and LlamaIndex take.

    Each list holds floats only, so it can never be part of a reference cycle, yet CPython's
    cyclic garbage collector would go through all of its items at every collection of its
    generation: for a call of ten thousand 1536-d vectors that is 15 million items, visited again
    and again while later batches are parsed, about a sixth of the whole call's CPU. So the
    collector is paused while the floats are made and the lists are then taken off its books
    (``PyObject_GC_UnTrack``, CPython's public C API, as CPython itself does for tuples and dicts
    that hold only atomic values): reference counting frees them as it frees any list. The one
    thing given up: a cycle a caller later builds through one of these lists (``vector.append
    (vector)``) is not collected. On other Pythons the lists are left as they are.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        lists: list[list[float]] = vectors.tolist()
        if _untrack is not None:
            for vector in lists:
                _untrack(vector)
    finally:
        if collecting:
            gc.enable()
    return lists


def _gc_untrack() -> Callable[[object], None] | None:
    """CPython's ``PyObject_GC_UnTrack``, or None on another implementation."""
    if sys.implementation.name != "cpython":
        return None
    untrack = ctypes.pythonapi.PyObject_GC_UnTrack
    untrack.argtypes = [ctypes.py_object]
    untrack.restype = None
    return cast("Callable[[object], None]", untrack)


_untrack = _gc_untrack()


class MixedModelsWarning(UserWarning):
    """The batches of one call were served by different models: their vectors are not comparable."""


@dataclass(frozen=True)
class BatchReport:
    """What happened to one batch: the model that served it, its usage, its trace, its attempts.

    Attributes:
        span_id: the ``x-orq-trace-span-id`` of the response that served the batch.
        failures: the errors of the attempts before the one that succeeded, which the client
            retried, in order (each APIStatusError carries orq's own ``failures`` when its
            fallback chain failed); ``()`` when the first attempt succeeded.
        split: the planned batch was refused for its size, and ``batch`` is one of the parts it
            was split into (a split is not a retry: ``attempts`` counts this part's own).
        batch_limit: the inputs per request the client has learned the model takes (the
            largest size that worked after a refusal for size), or None when none was learned.
        space: the vector space of the batch's vectors, or None when the response did not
            name the model that served it.
    """

    batch: Batch
    model: str | None
    usage: Usage | None
    trace_id: str | None
    attempts: int
    span_id: str | None = None
    failures: tuple[OrqError, ...] = ()
    split: bool = False
    batch_limit: int | None = None
    space: EmbeddingSpace | None = None


@dataclass(frozen=True)
class EmbeddedBatch:
    """One batch of a streamed call: the vectors of inputs ``report.batch.start`` onwards."""

    vectors: Vectors
    report: BatchReport


def total_usage(reports: Iterable[BatchReport]) -> Usage:
    """Tokens summed over the reports that carry usage."""
    total = Usage()
    for report in reports:
        if report.usage is not None:
            total = total + report.usage
    return total


def served_models(reports: Iterable[BatchReport]) -> tuple[str, ...]:
    """The distinct models that served, in order of first appearance."""
    return tuple(dict.fromkeys(report.model for report in reports if report.model))


def single_space(reports: Iterable[BatchReport]) -> EmbeddingSpace | None:
    """The one space every report's vectors are in; None if two, an unknown one, or none."""
    spaces = {report.space for report in reports}
    return spaces.pop() if len(spaces) == 1 else None


def warn_if_mixed(reports: Iterable[BatchReport]) -> None:
    """Warn when more than one model served a call."""
    models = served_models(reports)
    if len(models) > 1:
        warnings.warn(
            f"one call was served by {len(models)} models ({', '.join(models)}): their vectors "
            "live in different spaces and must not share an index",
            MixedModelsWarning,
            stacklevel=3,
        )


@dataclass(frozen=True)
class EmbeddingResult:
    """The vectors of a call, in input order, with a report per batch."""

    vectors: list[list[float]]
    reports: tuple[BatchReport, ...]

    @property
    def usage(self) -> Usage:
        """Tokens of the whole call (batches whose response reported usage)."""
        return total_usage(self.reports)

    @property
    def models(self) -> tuple[str, ...]:
        """Every model that served a batch of this call, as orq named it."""
        return served_models(self.reports)

    @property
    def space(self) -> EmbeddingSpace | None:
        """The vector space of every vector of the call; None when batches were served in two
        (a MixedModelsWarning said so), when a response named no model, or for no inputs."""
        return single_space(self.reports)


# -- assembling one call's results --------------------------------------------------------------

#: Called with each batch's report, in input order, as the batch is accepted.
OnBatch = Callable[[BatchReport], None]


class CallChecks:
    """Checks one call's batches against the settings and each other, and reports each one."""

    def __init__(
        self, settings: EmbeddingSettings, on_batch: OnBatch | None, spaces: SpaceCheck
    ) -> None:
        self._asked_dimensions = settings.dimensions
        self._spaces = spaces
        self._on_batch = on_batch
        self._width: int | None = None
        self._first_model: str | None = None
        self._reports: list[BatchReport] = []

    def accept(
        self,
        batch: Batch,
        embeddings: BatchEmbeddings,
        attempts: int,
        failures: tuple[OrqError, ...] = (),
        *,
        split: bool = False,
        batch_limit: int | None = None,
    ) -> EmbeddedBatch:
        """The batch's vectors and report, if they fit the settings and the earlier batches.

        Raises:
            EmbeddingSpaceError: the client is bound to another space than the batch's.
            InvalidResponseError: other dimensions than asked for, or than earlier batches had.
        """
        width = embeddings.vectors.shape[1]
        space = self._spaces.space_of(
            embeddings.model, width, batch.describe(), embeddings.trace_id
        )
        served = embeddings.model or "the model"
        if self._asked_dimensions is not None and width != self._asked_dimensions:
            raise InvalidResponseError(
                f"asked for {self._asked_dimensions} dimensions, but {served} returned "
                f"vectors of {width}; the model may not support shortening",
                batch=batch.describe(),
                trace_id=embeddings.trace_id,
            )
        if self._width is not None and width != self._width:
            raise InvalidResponseError(
                f"{served} returned vectors of {width} dimensions, but earlier batches of this "
                f"call had {self._width} (served by {self._first_model or 'another model'}); "
                "vectors of different models must not be mixed",
                batch=batch.describe(),
                trace_id=embeddings.trace_id,
            )
        if self._width is None:
            self._width, self._first_model = width, embeddings.model
        report = BatchReport(
            batch,
            embeddings.model,
            embeddings.usage,
            embeddings.trace_id,
            attempts,
            span_id=embeddings.span_id,
            failures=failures,
            split=split,
            batch_limit=batch_limit,
            space=space,
        )
        self._reports.append(report)
        if self._on_batch is not None:
            self._on_batch(report)
        return EmbeddedBatch(embeddings.vectors, report)

    def finish(self) -> EmbeddingSpace | None:
        """Warn if the call's batches were served by different models; the call's one space."""
        warn_if_mixed(self._reports)
        return single_space(self._reports)


class ListCollector:
    """Vectors of a call as lists of floats, the form LangChain and LlamaIndex expect."""

    def __init__(self) -> None:
        self._vectors: list[list[float]] = []
        self._reports: list[BatchReport] = []

    def add(self, embedded: EmbeddedBatch) -> None:
        self._vectors.extend(float_lists(embedded.vectors))
        self._reports.append(embedded.report)

    def result(self) -> EmbeddingResult:
        return EmbeddingResult(self._vectors, tuple(self._reports))


class ArrayFiller:
    """Vectors of a call copied into one preallocated float32 array."""

    def __init__(self, count: int, dimensions: int | None) -> None:
        self._count = count
        self._dimensions = dimensions
        self._array: Vectors | None = None

    def add(self, embedded: EmbeddedBatch) -> None:
        if self._array is None:
            width = embedded.vectors.shape[1]
            self._array = np.empty((self._count, width), dtype=np.float32)
        batch = embedded.report.batch
        self._array[batch.start : batch.stop] = embedded.vectors

    def array(self) -> Vectors:
        if self._array is None:
            return np.empty((0, self._dimensions or 0), dtype=np.float32)
        return self._array
