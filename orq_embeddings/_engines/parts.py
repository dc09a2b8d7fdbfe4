"""An engine job's output: a directory of parquet parts, each on disk whole or not at all.

::

    OUTPUT/orq-part-<digest>.parquet     the id column, embedding (list<float>, null for a failed
                                         row), error (why it failed, else null)
    OUTPUT/_orq_job.json                 what the vectors depend on: a rerun with other settings
                                         is refused rather than mixing two jobs' vectors
    OUTPUT/_orq_finished.json            written last, when every row is in: the job's counts
    OUTPUT/.orq-part-<digest>.parquet.tmp  a part being written (a kill leaves it; the next run
                                         removes it)

Readers of a parquet directory (pyarrow, pandas, Spark, Ray, DuckDB) skip names that start with
``_`` or ``.``, so OUTPUT reads as one table of every finished part.

A task writes each part under a hidden temporary name and renames it into place, so a part is
never seen half written, whatever kills the task or the job: a rerun reads the ids of the finished
parts and embeds only the others. On an object store (``s3://``, ``gs://``: any URI pyarrow's
filesystems take) an object appears whole or not at all, and the rename is a copy. A part is named
by a digest of its ids, so a task its engine runs again writes the same name again. Should two
parts still hold one id (a retried task cut its rows differently), finishing the job rewrites the
later part without it: the output holds every id exactly once.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from ..errors import ConfigurationError, ConfigurationProblem

PART_PREFIX = "orq-part-"
MANIFEST = "_orq_job.json"
FINISHED = "_orq_finished.json"
EMBEDDING = "embedding"
ERROR = "error"
#: Each row's vector space, ``EmbeddingSpace``'s text (null for a row with no vector).
SPACE = "embedding_space"
#: Where a part keeps the vector spaces that served its rows (schema metadata).
_SERVED_KEY = b"orq.served"


class OutputConflictError(ConfigurationError):
    """The output directory holds another job's rows, or files no job of ours wrote."""


@dataclass
class PartsScan:
    """What the finished parts hold: their ids, how many rows failed, the spaces that served."""

    ids: pa.ChunkedArray
    failed: int = 0
    served: set[str] = field(default_factory=set)


def embedding_array(vectors: Sequence[npt.NDArray[np.float32] | None]) -> pa.Array:
    """The vectors as a ``list<float>`` column, null where a row has none."""
    lengths = np.fromiter((0 if v is None else len(v) for v in vectors), np.int32, len(vectors))
    offsets = np.zeros(len(vectors) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    present = [v for v in vectors if v is not None]
    values = np.concatenate(present) if present else np.empty(0, dtype=np.float32)
    missing = pa.array([v is None for v in vectors], type=pa.bool_())
    return pa.ListArray.from_arrays(
        pa.array(offsets), pa.array(values, type=pa.float32()), mask=missing
    )


def part_table(
    id_column: str,
    ids: pa.Array,
    vectors: Sequence[npt.NDArray[np.float32] | None],
    errors: Sequence[str | None],
    spaces: Sequence[str | None],
) -> pa.Table:
    """One part's rows, each with its vector space; the spaces are in its metadata too, so a
    scan of the parts reads them without reading a column."""
    table = pa.table(
        {
            id_column: ids,
            EMBEDDING: embedding_array(vectors),
            ERROR: pa.array(errors, pa.string()),
            SPACE: pa.array(spaces, pa.string()),
        }
    )
    served = sorted({space for space in spaces if space is not None})
    return table.replace_schema_metadata({_SERVED_KEY: json.dumps(served).encode()})


def part_name(ids: Sequence[Any]) -> str:
    """The part's file name: a digest of its ids, the same whenever the same rows are written."""
    digest = hashlib.sha256(json.dumps(list(ids), default=str).encode()).hexdigest()[:32]
    return f"{PART_PREFIX}{digest}.parquet"


class OutputDirectory:
    """A job's output directory, local or on any filesystem pyarrow knows (see the module).

    Only the location is pickled, so a task makes its own connection to the filesystem.
    """

    def __init__(self, location: str | os.PathLike[str]) -> None:
        self.location = os.fspath(location)
        self._fs: pafs.FileSystem | None = None
        self._root = ""

    def __getstate__(self) -> dict[str, Any]:
        return {"location": self.location}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["location"])  # type: ignore[misc]

    def _resolved(self) -> tuple[pafs.FileSystem, str]:
        if self._fs is None:
            if "://" in self.location:
                self._fs, self._root = pafs.FileSystem.from_uri(self.location)
            else:
                self._fs, self._root = pafs.LocalFileSystem(), os.path.abspath(self.location)
        return self._fs, self._root

    @property
    def fs(self) -> pafs.FileSystem:
        """The filesystem the directory is on."""
        return self._resolved()[0]

    def path(self, name: str) -> str:
        """The full path of ``name`` in the directory, as its filesystem names it."""
        return f"{self._resolved()[1].rstrip('/')}/{name}"

    def _names(self) -> list[str]:
        info = self.fs.get_file_info(pafs.FileSelector(self.path(""), allow_not_found=True))
        return sorted(entry.base_name for entry in info if entry.type == pafs.FileType.File)

    def parts(self) -> list[str]:
        """The finished parts' names, in name order."""
        return [name for name in self._names() if _is_part(name)]

    def prepare(self, manifest: dict[str, Any], *, restart: bool = False) -> None:
        """Make the directory ready for a run of the job ``manifest`` describes.

        A directory of this job keeps its parts (the run resumes); one of another job that holds
        no part is taken over. Half-written parts a kill left behind are removed.

        Raises:
            OutputConflictError: the directory holds parts of a job with other settings (unless
                ``restart``, which discards them), or files no job of ours wrote.
        """
        fs = self.fs
        fs.create_dir(self.path(""), recursive=True)
        names = self._names()
        foreign = [n for n in names if not (_is_ours(n) or n.startswith((".", "_")))]
        if foreign:
            shown = ", ".join(foreign[:3]) + (
                f" and {len(foreign) - 3} more" if foreign[3:] else ""
            )
            raise OutputConflictError(
                [
                    ConfigurationProblem(
                        ("output",),
                        f"{self.location} holds files this job did not write ({shown}); "
                        "give a new or empty directory",
                    )
                ]
            )
        if restart:
            for name in names:
                if _is_ours(name):
                    fs.delete_file(self.path(name))
            names = []
        recorded = self._read_json(MANIFEST) if MANIFEST in names else None
        parts = [name for name in names if _is_part(name)]
        if recorded is not None and recorded != manifest and parts:
            raise OutputConflictError(_changes(self.location, len(parts), recorded, manifest))
        for name in names:
            if name.startswith(f".{PART_PREFIX}") or name == FINISHED:
                fs.delete_file(self.path(name))
        if recorded != manifest:
            self._write_json(MANIFEST, manifest)

    def write_part(self, table: pa.Table, name: str) -> None:
        """Write ``table`` as part ``name``: under a hidden name first, then renamed into place."""
        hidden = self.path(f".{name}.tmp")
        pq.write_table(table, hidden, filesystem=self.fs)
        self.fs.move(hidden, self.path(name))

    def scan(self, id_column: str = "id") -> PartsScan:
        """Read every finished part's ids, failed rows and served spaces (not its vectors)."""
        chunks: list[pa.Array] = []
        scan = PartsScan(pa.chunked_array([], pa.null()))
        for _, part in self._read_parts([id_column, ERROR]):
            chunks.extend(part.column(id_column).chunks)
            scan.failed += part.num_rows - part.column(ERROR).null_count
            metadata = part.schema.metadata or {}
            scan.served.update(json.loads(metadata.get(_SERVED_KEY, b"[]")))
        if chunks:
            scan.ids = pa.chunked_array(chunks)
        return scan

    def drop_repeated_ids(self, id_column: str = "id") -> int:
        """Rewrite any part holding an id an earlier part holds, without it; the rows dropped."""
        ids = self.scan(id_column).ids
        if len(ids) == 0:
            return 0
        counts = pc.value_counts(ids)
        repeated = counts.field("values").filter(pc.greater(counts.field("counts"), 1))
        if len(repeated) == 0:
            return 0
        seen: set[Any] = set()
        dropped = 0
        for name, part in self._read_parts(None):
            mine = part.column(id_column)
            keep = pc.invert(pc.is_in(mine, value_set=pa.array(list(seen), mine.type)))
            again = pc.is_in(mine, value_set=repeated)
            seen.update(pc.filter(mine, again).to_pylist())
            if pc.all(keep).as_py():
                continue
            kept = part.filter(keep).replace_schema_metadata(part.schema.metadata)
            dropped += part.num_rows - kept.num_rows
            if kept.num_rows:
                self.write_part(kept, name)
            else:
                self.fs.delete_file(self.path(name))
        return dropped

    def finish(self, counts: dict[str, Any]) -> None:
        """Mark the job finished, with its counts."""
        self._write_json(FINISHED, counts)

    def finished(self) -> dict[str, Any] | None:
        """The counts of a finished job, or None while it is not."""
        return self._read_json(FINISHED) if FINISHED in self._names() else None

    def read(self, columns: list[str] | None = None) -> pa.Table:
        """Every finished part as one table."""
        tables = [part for _, part in self._read_parts(columns)]
        return pa.concat_tables(tables) if tables else pa.table({})

    def _read_parts(self, columns: list[str] | None) -> Iterator[tuple[str, pa.Table]]:
        for name in self.parts():
            yield name, pq.read_table(self.path(name), columns=columns, filesystem=self.fs)

    def _read_json(self, name: str) -> dict[str, Any]:
        with self.fs.open_input_stream(self.path(name)) as stream:
            loaded: dict[str, Any] = json.loads(stream.read())
        return loaded

    def _write_json(self, name: str, content: dict[str, Any]) -> None:
        hidden = self.path(f".{name}.tmp")
        with self.fs.open_output_stream(hidden) as stream:
            stream.write(json.dumps(content, indent=2, sort_keys=True).encode())
        self.fs.move(hidden, self.path(name))


def _is_part(name: str) -> bool:
    return name.startswith(PART_PREFIX) and name.endswith(".parquet")


def _is_ours(name: str) -> bool:
    return _is_part(name) or name in (MANIFEST, FINISHED) or name.startswith(f".{PART_PREFIX}")


def _changes(
    location: str, parts: int, recorded: dict[str, Any], manifest: dict[str, Any]
) -> list[ConfigurationProblem]:
    """Each setting that differs from the job whose parts the directory holds."""
    changed = sorted(
        key for key in recorded.keys() | manifest.keys() if recorded.get(key) != manifest.get(key)
    )
    return [
        ConfigurationProblem(
            (key,),
            f"was {json.dumps(recorded.get(key))}, now {json.dumps(manifest.get(key))}: "
            f"{location} holds {parts} part(s) of that job; rerun it as it was to continue, "
            "or restart it to discard them",
        )
        for key in changed
    ]
