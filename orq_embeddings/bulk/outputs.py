"""Writing a bulk job's result: .npy (with a sidecar of ids), .jsonl or .parquet.

The writer takes the vectors chunk by chunk, in input order, so memory stays at one chunk plus
what the format needs; the output appears under its final name only once it is complete.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from ..errors import ConfigurationError, ConfigurationProblem
from .rows import RowId

SUPPORTED_OUTPUTS = (".npy", ".jsonl", ".parquet")
Chunk = tuple[list[RowId], npt.NDArray[np.float32]]


def ids_path_for(output: Path) -> Path:
    """Where the ids of a .npy output go: ``vectors.npy`` -> ``vectors.ids.json``."""
    return output.with_suffix(".ids.json")


def check_output_path(output: Path) -> None:
    """Refuse, before any work is done, an unsupported format or a folder that does not exist.

    A missing folder is refused rather than made: it is more often a typo in the path than a
    wish, and a job that made it would leave its output somewhere unexpected.

    Raises:
        ConfigurationError: naming the output, and what to do.
    """
    if output.suffix.lower() not in SUPPORTED_OUTPUTS:
        problem = f"unsupported format {output.suffix!r}; use one of {SUPPORTED_OUTPUTS}"
    elif not output.parent.is_dir():
        problem = (
            f"the folder {output.parent} does not exist; "
            f"create it first (mkdir -p {output.parent}) or write elsewhere"
        )
    else:
        return
    raise ConfigurationError([ConfigurationProblem(("output",), problem)])


def write_output(output: Path, chunks: Iterable[Chunk], rows: int, dimensions: int) -> None:
    """Write every chunk, in order, to ``output`` in the format its suffix names."""
    check_output_path(output)
    partial = output.with_name(output.name + ".partial")
    suffix = output.suffix.lower()
    if suffix == ".npy":
        _write_npy(partial, ids_path_for(output), chunks, rows, dimensions)
    elif suffix == ".jsonl":
        with partial.open("w", encoding="utf-8") as stream:
            _write_jsonl(stream, chunks)
    else:
        _write_parquet(partial, chunks, dimensions)
    os.replace(partial, output)


def _write_npy(
    partial: Path, ids_path: Path, chunks: Iterable[Chunk], rows: int, dimensions: int
) -> None:
    array = np.lib.format.open_memmap(
        partial, mode="w+", dtype=np.float32, shape=(rows, dimensions)
    )
    ids: list[RowId] = []
    for chunk_ids, vectors in chunks:
        array[len(ids) : len(ids) + len(chunk_ids)] = vectors
        ids.extend(chunk_ids)
    array.flush()
    del array
    ids_path.write_text(json.dumps(ids))


def _write_jsonl(stream: IO[str], chunks: Iterable[Chunk]) -> None:
    for chunk_ids, vectors in chunks:
        for row_id, vector in zip(chunk_ids, vectors.tolist(), strict=True):
            stream.write(json.dumps({"id": row_id, "embedding": vector}) + "\n")


def _write_parquet(partial: Path, chunks: Iterable[Chunk], dimensions: int) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as error:
        raise ValueError(
            "parquet output needs pyarrow: pip install 'orq-embeddings[parquet]'"
        ) from error
    writer: Any = None
    try:
        for chunk_ids, vectors in chunks:
            embedding = pa.FixedSizeListArray.from_arrays(
                pa.array(np.ascontiguousarray(vectors).reshape(-1), type=pa.float32()), dimensions
            )
            table = pa.table({"id": pa.array(chunk_ids), "embedding": embedding})
            if writer is None:
                writer = pq.ParquetWriter(partial, table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
