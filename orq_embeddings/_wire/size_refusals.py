"""Reading a refused request: was the batch too big, or one input too long?

Behind orq the provider's limits are unknown (OpenAI takes 2,048 inputs a request, an Azure
deployment 16, Cohere 96), so the client learns them from the refusals. Two kinds matter, and the
client answers them differently (see :mod:`orq_embeddings._runtime.batch_splitting`):

- the batch is too big (a 413, or a 400 whose message matches :data:`BATCH_TOO_LARGE_PATTERNS`):
  the batch is split in half and sent again;
- one input is too long for the model (a 400 matching :data:`INPUT_TOO_LONG_PATTERNS`): no split
  can help, so it is an :class:`~orq_embeddings.errors.InputTooLongError` naming the input.

The patterns are matched case-insensitively against the error's message; the input-length list is
read first, since a message about one input's length may also speak of tokens.
"""

from __future__ import annotations

import enum
import re

from ..errors import APIStatusError

#: Phrases of a 400 that mean the batch is too big for the server (matched case-insensitively).
BATCH_TOO_LARGE_PATTERNS: tuple[str, ...] = (
    "too many inputs",
    "maximum number of inputs",
    "max number of inputs",
    "batch size",
    "too many tokens",
)

#: Phrases of a 400 that mean a single input is too long for the model (case-insensitive).
INPUT_TOO_LONG_PATTERNS: tuple[str, ...] = (
    "maximum context length",
    "context length",
    "too long",
    "input length",
)

#: A position in the batch as servers name it: ``input[3]``, ``input.3``, ``index 3``.
_POSITION = re.compile(r"\binputs?\s*(?:\[\s*(\d+)\s*\]|\.(\d+)\b)|\bindex\s*:?\s*(\d+)", re.I)


class Refusal(enum.Enum):
    """What a refused request says about its batch."""

    BATCH_TOO_LARGE = "batch too large"
    INPUT_TOO_LONG = "input too long"


def _mentions(text: str, patterns: tuple[str, ...]) -> bool:
    lowered = text.lower()
    return any(pattern in lowered for pattern in patterns)


def refusal_of(error: Exception) -> Refusal | None:
    """Whether ``error`` refused the batch for its size or one input for its length, else None."""
    if not isinstance(error, APIStatusError):
        return None
    if error.status_code == 413:
        return Refusal.BATCH_TOO_LARGE
    if error.status_code != 400:
        return None
    if _mentions(error.message, INPUT_TOO_LONG_PATTERNS):
        return Refusal.INPUT_TOO_LONG
    if _mentions(error.message, BATCH_TOO_LARGE_PATTERNS):
        return Refusal.BATCH_TOO_LARGE
    return None


def position_in_batch(error: APIStatusError) -> int | None:
    """The input's index within the batch, when the error's ``param`` or message names one."""
    for text in (error.param or "", error.message):
        found = _POSITION.search(text)
        if found is not None:
            return int(next(group for group in found.groups() if group is not None))
    return None
