"""The Python blocks of the README, and how each is meant to run.

A fenced ``python`` block runs as a script (``python example.py``). An HTML comment on the line
before the fence, invisible on the rendered page, says otherwise:

- ``<!-- readme-test: notebook -->``: a notebook cell (top-level ``await``), run in a kernel.
- ``<!-- readme-test: cannot run: REASON -->``: not run; the test reports it with REASON.

Any other ``readme-test`` comment is an error, so a typo cannot make a block silently skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

README = Path(__file__).resolve().parents[2] / "README.md"

Mode = Literal["script", "notebook", "cannot run"]

_FENCE = re.compile(r"^```(\w*)\s*$")
_MARKER = re.compile(r"^<!--\s*readme-test:\s*(.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced python block: where it starts, its code, and how to run it."""

    line: int
    code: str
    mode: Mode
    reason: str = ""

    @property
    def name(self) -> str:
        """``README.md:57`` and its first line of code, to name the test."""
        first = next((line for line in self.code.splitlines() if line.strip()), "")
        return f"README.md:{self.line} {first[:40]}"


def python_blocks(text: str) -> list[Block]:
    """Every fenced python block of a Markdown text, in order.

    Raises:
        ValueError: an unknown ``readme-test`` marker, or a fence left open.
    """
    blocks: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        fence = _FENCE.match(lines[index])
        if fence is None:
            index += 1
            continue
        end = next((i for i in range(index + 1, len(lines)) if lines[i] == "```"), None)
        if end is None:
            raise ValueError(f"README.md:{index + 1}: a fence is never closed")
        if fence.group(1) == "python":
            mode, reason = _mode(lines[index - 1] if index else "", index + 1)
            code = "\n".join(lines[index + 1 : end]) + "\n"
            blocks.append(Block(index + 1, code, mode, reason))
        index = end + 1
    return blocks


def _mode(previous: str, line: int) -> tuple[Mode, str]:
    marker = _MARKER.match(previous)
    if marker is None:
        return "script", ""
    said = marker.group(1)
    if said == "notebook":
        return "notebook", ""
    if said.startswith("cannot run:") and said.removeprefix("cannot run:").strip():
        return "cannot run", said.removeprefix("cannot run:").strip()
    raise ValueError(
        f"README.md:{line}: unknown marker {previous.strip()!r}; use "
        "'<!-- readme-test: notebook -->' or '<!-- readme-test: cannot run: REASON -->'"
    )
