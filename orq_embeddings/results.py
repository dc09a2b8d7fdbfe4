"""What a call returns besides the vectors: which model served each batch, tokens, trace ids.

Vectors from different models are not comparable even at equal length, and a fallback or a load
balancer can route batches of one call to different models. The reports make that visible, and
:class:`MixedModelsWarning` says it out loud (turn it into an error with ``warnings.simplefilter``).
"""

from __future__ import annotations

import gc
import warnings
from collections.abc import Iterable
from dataclasses import dataclass

from .batching import Batch
from .errors import OrqError
from .responses import Usage, Vectors


def float_lists(vectors: Vectors) -> list[list[float]]:
    """Vectors as lists of Python floats, the form LangChain and LlamaIndex take.

    Making a million and a half floats per thousand 1536-d vectors sets the cyclic garbage
    collector off again and again, though nothing made here can be part of a cycle; pausing it
    for the conversion cuts the cost by about a third (0.65 -> 0.44 s for 10,240 vectors, this
    machine). The collector is left as it was found: if it was off, it stays off.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        lists: list[list[float]] = vectors.tolist()
    finally:
        if collecting:
            gc.enable()
    return lists


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
    """

    batch: Batch
    model: str | None
    usage: Usage | None
    trace_id: str | None
    attempts: int
    span_id: str | None = None
    failures: tuple[OrqError, ...] = ()


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
