"""Reading a corpus for bulk embedding: ids and texts from .txt, .jsonl or .parquet.

A row that cannot be embedded (an empty or whitespace-only text, a missing or non-string text
field, a line that is not JSON) is not embedded and not silently dropped either: it is reported
with its line number so the corpus can be fixed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._wire.inputs import problem_with
from ..errors import ConfigurationError, ConfigurationProblem

#: Row ids are whatever the input names them (an id field), else the 1-based line number.
RowId = str | int


@dataclass(frozen=True)
class BadRow:
    """A row left out of the embedding, and why."""

    line: int
    problem: str


@dataclass
class Corpus:
    """The rows to embed, in input order, and the rows that cannot be.

    ``text_field`` is the field the texts were read from, so that a bad row is reported in the
    words of the command that read it (``body is missing``, not ``text is missing``).
    """

    ids: list[RowId] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    bad_rows: list[BadRow] = field(default_factory=list)
    text_field: str = "text"

    def add(self, line: int, row_id: RowId, text: object) -> None:
        """Keep a row if its text can be embedded, else record what is wrong with it."""
        problem = problem_with(text) if isinstance(text, str) else _not_text(text)
        if problem is None:
            self.ids.append(row_id)
            self.texts.append(str(text))
            self.lines.append(line)
        else:
            self.bad_rows.append(BadRow(line, f"{self.text_field} {problem}"))

    def repeated_ids(self) -> dict[RowId, list[int]]:
        """Each id that more than one kept row carries, with the lines that carry it."""
        lines_of: dict[RowId, list[int]] = {}
        for row_id, line in zip(self.ids, self.lines, strict=True):
            lines_of.setdefault(row_id, []).append(line)
        return {row_id: lines for row_id, lines in lines_of.items() if len(lines) > 1}


def _not_text(value: object) -> str:
    return "is missing" if value is None else f"is a {type(value).__name__}, not a string"


SUPPORTED_INPUTS = (".txt", ".jsonl", ".parquet")


def read_corpus(path: Path, *, text_field: str = "text", id_field: str | None = None) -> Corpus:
    """Read ids and texts from a .txt (a text a line), .jsonl or .parquet file.

    Args:
        path: the input file; its suffix says its format.
        text_field: the field holding the text (.jsonl and .parquet).
        id_field: the field holding the row id; by default the 1-based line (or row) number.

    Raises:
        ConfigurationError: (a ValueError) for an unsupported suffix.
        ValueError: an id field absent from a row.
    """
    suffix = path.suffix.lower()
    corpus = Corpus(text_field="text" if suffix == ".txt" else text_field)
    if suffix == ".txt":
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                corpus.add(number, number, line.rstrip("\r\n"))
    elif suffix == ".jsonl":
        for number, record in _jsonl_records(path, corpus):
            corpus.add(number, _row_id(record, id_field, number), record.get(text_field))
    elif suffix == ".parquet":
        for number, record in _parquet_records(path, [text_field, id_field]):
            corpus.add(number, _row_id(record, id_field, number), record.get(text_field))
    else:
        problem = f"unsupported format {suffix!r}; use one of {SUPPORTED_INPUTS}"
        raise ConfigurationError([ConfigurationProblem(("input",), problem)])
    return corpus


def _row_id(record: dict[str, Any], id_field: str | None, number: int) -> RowId:
    if id_field is None:
        return number
    value = record.get(id_field)
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise ValueError(f"line {number}: id field {id_field!r} is missing or not a string or int")
    return value


def _jsonl_records(path: Path, corpus: Corpus) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            try:
                record = json.loads(line)
            except ValueError:
                corpus.bad_rows.append(BadRow(number, "line is not valid JSON"))
                continue
            if not isinstance(record, dict):
                corpus.bad_rows.append(BadRow(number, "line is not a JSON object"))
                continue
            yield number, record


def _parquet_records(path: Path, columns: list[str | None]) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        import pyarrow.parquet as pq
    except ImportError as error:
        raise ValueError(
            "parquet input needs pyarrow: pip install 'orq-embeddings[parquet]'"
        ) from error
    parquet = pq.ParquetFile(path)
    wanted = [name for name in dict.fromkeys(columns) if name is not None]
    missing = [name for name in wanted if name not in parquet.schema_arrow.names]
    if missing:
        raise ValueError(
            f"{path}: no column {missing[0]!r}; columns are {parquet.schema_arrow.names}"
        )
    number = 0
    for batch in parquet.iter_batches(columns=wanted):
        for record in batch.to_pylist():
            number += 1
            yield number, record
