"""Splitting a call's inputs into request-sized batches, by count and by a size budget.

orq does not publish its per-request limits (shared/spec, "Not known"), so both bounds are
settings. The size budget counts UTF-8 bytes of text (a token id counts as 4 bytes, about what one
token of English text takes); it keeps a batch of long documents under a provider's tokens-per-
request limit where a count alone would not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .inputs import EmbeddingInput

#: Bytes a token id counts for against the size budget.
BYTES_PER_TOKEN_ID = 4


@dataclass(frozen=True)
class Batch:
    """One request's share of a call: the inputs at positions ``start`` to ``stop - 1``."""

    number: int
    total: int
    start: int
    stop: int

    @property
    def size(self) -> int:
        """How many inputs the batch holds."""
        return self.stop - self.start

    def describe(self) -> str:
        """Name the batch for an error message: ``"batch 2 of 5 (inputs 512-1023)"``."""
        return f"batch {self.number + 1} of {self.total} (inputs {self.start}-{self.stop - 1})"


def input_size(item: EmbeddingInput) -> int:
    """The size an input counts for against the budget."""
    if isinstance(item, str):
        return len(item) if item.isascii() else len(item.encode("utf-8"))
    return BYTES_PER_TOKEN_ID * len(item)


def plan_batches(
    inputs: Sequence[EmbeddingInput], *, max_inputs: int, max_bytes: int
) -> list[Batch]:
    """Cut ``inputs`` into consecutive batches of at most ``max_inputs`` inputs and ``max_bytes``.

    An input larger than ``max_bytes`` on its own gets a batch of its own: it cannot be split, and
    the server is the judge of whether it fits.
    """
    if max_inputs < 1 or max_bytes < 1:
        raise ValueError("max_inputs and max_bytes must be at least 1")
    bounds: list[tuple[int, int]] = []
    start = 0
    used = 0
    for position, item in enumerate(inputs):
        size = input_size(item)
        if position > start and (position - start >= max_inputs or used + size > max_bytes):
            bounds.append((start, position))
            start, used = position, 0
        used += size
    if len(inputs) > start:
        bounds.append((start, len(inputs)))
    return [Batch(number, len(bounds), first, stop) for number, (first, stop) in enumerate(bounds)]
