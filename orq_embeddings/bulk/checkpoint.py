"""Finished work of a bulk job, kept on disk so an interrupted job continues where it stopped.

The rows to embed are cut into fixed chunks. Each finished chunk is written to its own ``.npy``
file by write-then-rename, so a chunk file is either whole or absent, whatever killed the job. A
manifest records what the chunks were made from (input content, settings, chunk size); a rerun
with anything different is refused, once a row is saved, instead of mixing vectors from two jobs.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from ..errors import ConfigurationError, ConfigurationProblem, SettingPath, dotted_name
from ..space import EmbeddingSpace, read_stamp, stamp_text

MANIFEST = "manifest.json"
SPENT = "spent.json"
#: The vector space of the saved rows, as a stamp (see orq_embeddings.space).
SPACE = "space.txt"


class Spent(NamedTuple):
    """What a job has cost over its runs so far."""

    tokens: int
    runs: int


def changes(recorded: dict[str, Any], manifest: dict[str, Any]) -> list[ConfigurationProblem]:
    """Each setting that differs between two manifests, with its old and new values."""
    problems = []
    if any(recorded.get(key) != manifest.get(key) for key in ("input_sha256", "rows")):
        problems.append(ConfigurationProblem(("input",), "its content changed"))
    for key in (manifest.keys() | recorded.keys()) - {"input_sha256", "rows"}:
        if recorded.get(key) != manifest.get(key):
            was, now = json.dumps(recorded.get(key)), json.dumps(manifest.get(key))
            problems.append(ConfigurationProblem((key,), f"was {was}, now {now}"))
    return sorted(problems)


def file_digest(path: Path) -> str:
    """SHA-256 of a file's content, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_atomically(path: Path, write: Any) -> None:
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as stream:
        write(stream)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(partial, path)


class CheckpointConflictError(ConfigurationError):
    """Saved rows of a job with other settings, where this job would save its own.

    Continuing would mix vectors of two jobs in one output, so the choice is the user's: the
    original settings continue the saved work, ``restart`` discards it.

    Attributes:
        directory: the checkpoint holding the saved rows.
        saved_rows: how many rows it holds.
    """

    def __init__(
        self, directory: Path, saved_rows: int, problems: list[ConfigurationProblem]
    ) -> None:
        self.directory = directory
        self.saved_rows = saved_rows
        super().__init__(problems)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.directory, self.saved_rows, list(self.problems)))

    def describe(self, name_of: Callable[[SettingPath], str] = dotted_name) -> str:
        restart = name_of(("restart",)) + ("=True" if name_of is dotted_name else "")
        return (
            f"{self.directory} holds {self.saved_rows} rows embedded by a job with other "
            f"settings ({super().describe(name_of)}). Run that job again to continue it, or "
            f"rerun this one with {restart} to discard the saved rows and start over"
        )


class Checkpoint:
    """A directory of finished chunks for one job, identified by its manifest."""

    def __init__(self, directory: Path, manifest: dict[str, Any]) -> None:
        self.directory = directory
        self.manifest = manifest

    @classmethod
    def open(
        cls,
        directory: Path,
        manifest: dict[str, Any],
        *,
        restart: bool = False,
        say: Callable[[str], None] = lambda line: None,
    ) -> Checkpoint:
        """Start a checkpoint, or continue one made by the same job.

        A checkpoint of another job that saved no row is replaced: it holds nothing to lose, and
        it must not block the corrected command after a wrong model, URL or key.

        Args:
            restart: discard whatever the directory holds.
            say: where to tell the user that saved rows were discarded.

        Raises:
            CheckpointConflictError: the directory holds rows saved by a different job.
        """
        recorded_path = directory / MANIFEST
        recorded = json.loads(recorded_path.read_text()) if recorded_path.exists() else {}
        saved = cls(directory, recorded).saved_rows()
        if restart and directory.exists():
            shutil.rmtree(directory)
            recorded = {}
            if saved:
                say(f"restarting: discarded {saved} saved rows from {directory}")
        directory.mkdir(exist_ok=True)
        if recorded != manifest:
            if saved and recorded:
                raise CheckpointConflictError(directory, saved, changes(recorded, manifest))
            for stale in directory.iterdir():
                stale.unlink()
            _write_atomically(
                recorded_path, lambda s: s.write(json.dumps(manifest, indent=2).encode())
            )
        return cls(directory, manifest)

    def saved_rows(self) -> int:
        """How many rows the finished chunks hold, by the manifest's row and chunk counts."""
        rows, chunk_rows = self.manifest.get("rows", 0), self.manifest.get("chunk_rows", 0)
        if not chunk_rows:
            return 0
        numbers = [int(path.stem.split("-")[1]) for path in self.directory.glob("chunk-*.npy")]
        return sum(max(0, min(chunk_rows, rows - number * chunk_rows)) for number in numbers)

    def spent(self) -> Spent:
        """The tokens and runs recorded by earlier runs of this job."""
        path = self.directory / SPENT
        return Spent(**json.loads(path.read_text())) if path.exists() else Spent(0, 0)

    def record_spent(self, spent: Spent) -> None:
        """Keep the job's tokens and runs so far, for the summary of its last run."""
        _write_atomically(
            self.directory / SPENT, lambda s: s.write(json.dumps(spent._asdict()).encode())
        )

    def space(self) -> EmbeddingSpace | None:
        """The vector space of the rows saved so far, None before the first batch came in.

        Raises:
            EmbeddingSpaceError: the file is damaged, or was written by a newer version.
        """
        path = self.directory / SPACE
        return read_stamp(path.read_text(), str(path)) if path.exists() else None

    def record_space(self, space: EmbeddingSpace) -> None:
        """Keep the space every row of this job must be in, before a row of it is saved."""
        _write_atomically(self.directory / SPACE, lambda s: s.write(stamp_text(space).encode()))

    def _chunk_path(self, number: int) -> Path:
        return self.directory / f"chunk-{number:06d}.npy"

    def finished(self, number: int) -> bool:
        """Whether chunk ``number`` is on disk, whole."""
        return self._chunk_path(number).exists()

    def save(self, number: int, vectors: npt.NDArray[np.float32]) -> None:
        """Keep a finished chunk."""
        _write_atomically(self._chunk_path(number), lambda s: np.save(s, vectors))

    def load(self, number: int) -> npt.NDArray[np.float32]:
        """A finished chunk's vectors, memory-mapped rather than read."""
        array: npt.NDArray[np.float32] = np.load(self._chunk_path(number), mmap_mode="r")
        return array

    def is_empty(self) -> bool:
        """Whether no chunk has been saved yet."""
        return not any(self.directory.glob("chunk-*.npy"))

    def remove(self) -> None:
        """Delete the checkpoint once the output is complete."""
        shutil.rmtree(self.directory, ignore_errors=True)
