"""Writing a bulk job's result: .npy (with a sidecar of ids), .jsonl or .parquet.

The writer takes the vectors chunk by chunk, in input order, so memory stays at one chunk plus
what the format needs; the output appears under its final name only once it is complete.

Every output records the vector space of its vectors (:mod:`orq_embeddings.space`), as the stamp
a vector store keeps: in the schema metadata of a .parquet file, under ``orq_embeddings_space``,
and beside a .npy or .jsonl file in a sidecar, ``vectors.space.json``. :func:`output_space`
reads it back.
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
from ..space import STAMP_KEY, EmbeddingSpace, read_stamp, stamp_text
from .rows import RowId

SUPPORTED_OUTPUTS = (".npy", ".jsonl", ".parquet")
Chunk = tuple[list[RowId], npt.NDArray[np.float32]]


def ids_path_for(output: Path) -> Path:
    """Where the ids of a .npy output go: ``vectors.npy`` -> ``vectors.ids.json``."""
    return output.with_suffix(".ids.json")


def space_path_for(output: Path) -> Path:
    """Where a .npy or .jsonl output's space goes: ``vectors.npy`` -> ``vectors.space.json``."""
    return output.with_suffix(".space.json")


def output_space(output: Path) -> EmbeddingSpace:
    """The vector space a bulk job's output records.

    Raises:
        EmbeddingSpaceError: the record is damaged or was written by a newer version.
        OSError: no such output, or no record beside it.
    """
    if output.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        metadata = pq.read_schema(output).metadata or {}
        stamp = metadata.get(STAMP_KEY.encode(), b"").decode()
        return read_stamp(stamp, f"{output} (schema metadata {STAMP_KEY!r})")
    sidecar = space_path_for(output)
    return read_stamp(json.loads(sidecar.read_text()).get(STAMP_KEY), str(sidecar))


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


def write_output(
    output: Path, chunks: Iterable[Chunk], rows: int, dimensions: int, space: EmbeddingSpace
) -> None:
    """Write every chunk, in order, to ``output`` in the format its suffix names, with its space.

    A sidecar is written before the output appears, so an output is never without its space.
    """
    check_output_path(output)
    partial = output.with_name(output.name + ".partial")
    suffix = output.suffix.lower()
    if suffix == ".parquet":
        _write_parquet(partial, chunks, dimensions, space)
    else:
        if suffix == ".npy":
            _write_npy(partial, ids_path_for(output), chunks, rows, dimensions)
        else:
            with partial.open("w", encoding="utf-8") as stream:
                _write_jsonl(stream, chunks)
        space_path_for(output).write_text(json.dumps({STAMP_KEY: stamp_text(space)}) + "\n")
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


def _write_parquet(
    partial: Path, chunks: Iterable[Chunk], dimensions: int, space: EmbeddingSpace
) -> None:
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
            table = pa.table(
                {"id": pa.array(chunk_ids), "embedding": embedding},
                metadata={STAMP_KEY: stamp_text(space)},
            )
            if writer is None:
                writer = pq.ParquetWriter(partial, table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
