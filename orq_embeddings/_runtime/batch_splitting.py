"""Batches refused for their size, split in half until they fit; the size that fit remembered.

A provider behind orq may take fewer inputs a request than ``batch_size`` (an Azure deployment
takes 16). When a batch is refused for its size (:mod:`.._wire.size_refusals`), the client
sends its two halves instead, recursively down to one input, and every vector still lands at its
input's position. The largest size that worked is remembered per model in :class:`BatchLimits`,
which a client shares with its ``with_options`` copies, so later calls plan no larger batches.

A split is not a retry: the halves are new requests, each with the full retry policy, and the
refusal is not counted against ``max_retries`` or the retry wait budget.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .._wire.batching import Batch
from .._wire.size_refusals import Refusal, position_in_batch, refusal_of
from ..errors import APIStatusError, BatchTooLargeError, InputTooLongError, OrqError

logger = logging.getLogger("orq_embeddings")


@dataclass
class _Learned:
    """One model's limit: the largest size that worked, and the smallest that was refused."""

    worked: int
    refused: int


class BatchLimits:
    """The inputs per request each model was found to take, for a client and its copies."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_model: dict[str, _Learned] = {}

    def limit(self, model: str) -> int | None:
        """The most inputs a request for ``model`` should hold, or None when nothing was learned."""
        with self._lock:
            learned = self._by_model.get(model)
            return None if learned is None else learned.worked

    def learn(self, model: str, worked: int, refused: int) -> int:
        """Record that ``worked`` inputs fit and ``refused`` did not; the limit now in force.

        The largest size that worked below every refused size wins; a refusal at or under the
        current limit (the server's limit went down) replaces it. Logs at INFO when it changes.
        """
        with self._lock:
            before = self._by_model.get(model)
            if before is None or refused <= before.worked:
                now = _Learned(worked, refused)
            else:
                smallest_refused = min(before.refused, refused)
                best = worked if before.worked < worked < smallest_refused else before.worked
                now = _Learned(best, smallest_refused)
            self._by_model[model] = now
        if before is None or before.worked != now.worked:
            logger.info(
                "learned a batch limit for %s: %d inputs per request (a batch of %d was refused "
                "for its size); later batches are planned at most that large",
                model,
                now.worked,
                refused,
            )
        return now.worked


class BatchSplit:
    """One planned batch on its way: the parts still to send, and what the refusals taught.

    The client sends each of :meth:`parts` inside :meth:`sending`, which records a success and
    turns a failure into the two halves to send instead, or into the error the failure is.
    """

    def __init__(self, batch: Batch, model: str, limits: BatchLimits) -> None:
        self._pending = [batch]
        self._model = model
        self._limits = limits
        self._largest_worked = 0
        self._smallest_refused: int | None = None

    def parts(self) -> Iterator[Batch]:
        """The parts to send, in input order; halves of a refused part come next, as they queue."""
        while self._pending:
            yield self._pending.pop(0)

    @contextmanager
    def sending(self, part: Batch) -> Iterator[None]:
        """Around sending ``part``: a success is :meth:`worked`, an OrqError :meth:`refused`."""
        try:
            yield
        except OrqError as error:
            self.refused(part, error)
        else:
            self.worked(part)

    @property
    def was_split(self) -> bool:
        """Whether a refusal split the planned batch."""
        return self._smallest_refused is not None

    def worked(self, part: Batch) -> None:
        """``part`` was embedded."""
        self._largest_worked = max(self._largest_worked, part.size)

    def refused(self, part: Batch, error: OrqError) -> None:
        """Queue ``part``'s halves if ``error`` refused it for its size; else raise.

        Raises:
            InputTooLongError: the server said an input is too long (naming its position when
                the server named its index in the batch).
            BatchTooLargeError: a single input refused for the batch's size.
            OrqError: ``error`` itself, when it is no refusal for size.
        """
        refusal = refusal_of(error)
        if refusal is None or not isinstance(error, APIStatusError):
            raise error
        if refusal is Refusal.INPUT_TOO_LONG:
            index = position_in_batch(error)
            position = part.start + index if index is not None and index < part.size else None
            raise InputTooLongError(error, position, part.start, part.stop - 1) from error
        if part.size == 1:
            raise BatchTooLargeError(error, part.start) from error
        self._smallest_refused = min(self._smallest_refused or part.size, part.size)
        middle = part.start + part.size // 2
        halves = [
            Batch(part.number, part.total, part.start, middle),
            Batch(part.number, part.total, middle, part.stop),
        ]
        self._pending[:0] = halves
        logger.debug(
            "%s was refused for its size; sending it as two halves of %d and %d inputs",
            part.describe(),
            halves[0].size,
            halves[1].size,
        )

    def batch_limit(self) -> int | None:
        """The model's limit once this batch is done: learned from it, if it was split."""
        if self._smallest_refused is not None and self._largest_worked:
            return self._limits.learn(self._model, self._largest_worked, self._smallest_refused)
        return self._limits.limit(self._model)
