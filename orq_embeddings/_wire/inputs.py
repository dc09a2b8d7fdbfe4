"""Checking inputs before anything is sent, so a bad row never costs a request or shifts a vector.

An input is a non-empty string that UTF-8 can carry (no lone surrogates), or a non-empty list of
token ids (non-negative ints), which the router accepts as ``[[...]]``. Every problem in the whole
list is reported at once, by position, so a caller fixing a corpus does not discover them one
request at a time.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import InvalidInputError

#: One input: text, or the token ids of a text.
EmbeddingInput = str | Sequence[int]

#: How many problems the message spells out; every position is still listed, and all are on
#: ``InvalidInputError.positions``.
_DETAILED_PROBLEMS = 10


def problem_with(item: object) -> str | None:
    """Say what is wrong with one input, or return None if it can be embedded."""
    if isinstance(item, str):
        if not item or item.isspace():
            return "is only whitespace" if item else "is an empty string"
        return None if item.isascii() else unencodable(item)
    if item is None:
        return "is None"
    if isinstance(item, (list, tuple)):
        if not item:
            return "is an empty list of token ids"
        if all(type(token) is int and token >= 0 for token in item):
            return None
        return "is a list that is not all non-negative int token ids"
    return f"is a {type(item).__name__}, not a string or a list of token ids"


def unencodable(text: str) -> str | None:
    """Say where a text cannot be UTF-8 (a lone surrogate, as broken text extraction leaves)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        return (
            f"has a lone surrogate U+{ord(text[error.start]):04X} at character {error.start}, "
            "which UTF-8 cannot carry"
        )
    return None


def compact_positions(positions: Sequence[int]) -> str:
    """Render sorted positions as runs: ``[1, 2, 3, 7]`` -> ``"1-3, 7"``."""
    runs: list[str] = []
    start = previous = positions[0]
    for position in [*positions[1:], None]:
        if position is not None and position == previous + 1:
            previous = position
            continue
        runs.append(str(start) if start == previous else f"{start}-{previous}")
        if position is not None:
            start = previous = position
    return ", ".join(runs)


def check_inputs(inputs: Sequence[object]) -> None:
    """Raise InvalidInputError naming every position that cannot be embedded.

    Raises:
        InvalidInputError: (a ValueError) when any input is None, not a string or token list,
            an empty or whitespace-only string, a string with a lone surrogate, or an empty or
            malformed token list.
    """
    problems = [
        (position, problem)
        for position, item in enumerate(inputs)
        if (problem := problem_with(item)) is not None
    ]
    if not problems:
        return
    positions = tuple(position for position, _ in problems)
    details = "; ".join(
        f"input {position} {problem}" for position, problem in problems[:_DETAILED_PROBLEMS]
    )
    more = len(problems) - _DETAILED_PROBLEMS
    if more > 0:
        details += f"; and {more} more"
    noun = "input" if len(problems) == 1 else "inputs"
    raise InvalidInputError(
        f"{len(problems)} of {len(inputs)} {noun} cannot be embedded "
        f"(positions {compact_positions(positions)}): {details}. "
        "Each input must be a non-empty string or a non-empty list of token ids; "
        "nothing was sent.",
        positions,
    )
