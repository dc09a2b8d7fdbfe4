"""Embedding a task's rows so that a row that cannot be embedded says why, and the others go on.

By default a job raises as the client does: one bad row fails its task. With row errors asked for,
a row that cannot be embedded gets its reason, and its vector is null; every other row is embedded.
Such a row is one whose text the client refuses before sending (empty, whitespace only, missing,
not text, a lone surrogate), or one the server refuses for its length or size on its own:

- an :class:`~orq_embeddings.errors.InputTooLongError` naming the input's position marks that row;
  one naming only its batch has that batch's rows sent again in halves until the row is alone;
- a :class:`~orq_embeddings.errors.BatchTooLargeError` is a single input refused for its size
  after the client split its batch down to it.

The rows whose batches came back before the refusal keep their vectors, and the rest are sent
again. Every other error (the server's 5xx and 429s, the network, an answer that does not fit its
batch) has already been retried by the client, and is raised: it is the job's failure, never a
silent row error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .._wire.inputs import problem_with
from ..client import OrqEmbeddingsClient
from ..errors import BatchTooLargeError, EmbeddingSpaceError, InputTooLongError
from ..results import EmbeddedBatch

Vector = npt.NDArray[np.float32]


@dataclass
class EmbeddedRows:
    """A task's rows embedded: a vector or an error for each, in order, and what served them.

    Attributes:
        vectors: each row's vector, or None where ``errors`` says why.
        errors: None for an embedded row, else why it was not.
        spaces: each row's vector space (:class:`~orq_embeddings.space.EmbeddingSpace`'s text,
            ``text-embedding-3-small:1536:none``), or None for a row with no vector.
        tokens: the tokens the server reported.
    """

    vectors: list[Vector | None]
    errors: list[str | None]
    spaces: list[str | None]
    tokens: int = 0

    @property
    def served(self) -> set[str]:
        """The vector spaces the rows are in: one, unless a fallback served another model."""
        return {space for space in self.spaces if space is not None}

    @property
    def failed(self) -> int:
        """How many rows have an error instead of a vector."""
        return sum(error is not None for error in self.errors)


def text_problem(text: object) -> str | None:
    """Why the client would refuse ``text`` before sending it, or None; as an error column says."""
    if text is None:
        return "text is missing"
    if not isinstance(text, str):
        return f"text is a {type(text).__name__}, not a string"
    problem = problem_with(text)
    return None if problem is None else f"text {problem}"


def embed_rows(
    client: OrqEmbeddingsClient, texts: Sequence[Any], *, row_errors: bool
) -> EmbeddedRows:
    """Embed ``texts``; with ``row_errors``, a row that cannot be embedded gets an error instead.

    Raises:
        InvalidInputError, InputTooLongError, BatchTooLargeError: without ``row_errors``, as the
            client raises them.
        OrqError: the server's or the network's errors, after the client's retries.
    """
    rows = EmbeddedRows([None] * len(texts), [None] * len(texts), [None] * len(texts))
    pending = list(range(len(texts)))
    if row_errors:
        for position, text in enumerate(texts):
            rows.errors[position] = text_problem(text)
        pending = [position for position in pending if rows.errors[position] is None]
    queue = [pending] if pending else []
    while queue:
        positions = queue.pop(0)
        try:
            for embedded in client.iter_batches([texts[i] for i in positions]):
                _keep(rows, positions, embedded)
        except (InputTooLongError, BatchTooLargeError) as refusal:
            if not row_errors:
                raise
            queue[:0] = _after_refusal(rows, positions, refusal)
    return rows


def _keep(rows: EmbeddedRows, positions: list[int], embedded: EmbeddedBatch) -> None:
    """Keep a batch's vectors at their rows, each with the vector space that served it.

    Raises:
        EmbeddingSpaceError: the response did not name the model that served it, so its rows'
            space is unknown (as the bulk command refuses it: a row must say where it lives).
    """
    report = embedded.report
    if report.space is None:
        raise EmbeddingSpaceError(
            f"{report.batch.describe()}: the response did not name the model that served it, so "
            "its rows could not say which vector space they are in; none of them was kept"
        )
    space = str(report.space)
    for offset, vector in enumerate(embedded.vectors):
        position = positions[report.batch.start + offset]
        rows.vectors[position], rows.spaces[position] = vector, space
    rows.tokens += report.usage.total_tokens if report.usage is not None else 0


def _after_refusal(
    rows: EmbeddedRows, positions: list[int], refusal: InputTooLongError | BatchTooLargeError
) -> list[list[int]]:
    """Mark the row the refusal names, and return what to send again, in order.

    The rows before the refused batch came back already (batches come back in order); those
    from its first row on are sent again, the marked one left out.
    """
    unsent = [i for i, position in enumerate(positions) if rows.vectors[position] is None]
    if isinstance(refusal, BatchTooLargeError):
        first = last = refusal.position
        reason = f"refused for its size even alone: {refusal.message}"
    else:
        first, last = (
            (refusal.first, refusal.last)
            if refusal.position is None
            else (refusal.position, refusal.position)
        )
        reason = f"refused as too long for the model: {refusal.message}"
    if first == last:
        rows.errors[positions[first]] = reason
        return [[positions[i] for i in unsent if i != first]] if len(unsent) > 1 else []
    # The server named only the batch: its halves go alone until the long row is by itself.
    middle = (first + last + 1) // 2
    parts = [
        [positions[i] for i in unsent if i < first],
        [positions[i] for i in unsent if first <= i < middle],
        [positions[i] for i in unsent if middle <= i <= last],
        [positions[i] for i in unsent if i > last],
    ]
    return [part for part in parts if part]
