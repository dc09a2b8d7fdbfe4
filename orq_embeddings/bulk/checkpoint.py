"""Finished work of a bulk job, kept on disk so an interrupted job continues where it stopped.

The rows to embed are cut into fixed chunks. Each finished chunk is written to its own ``.npy``
file by write-then-rename, so a chunk file is either whole or absent, whatever killed the job. A
manifest records what the chunks were made from (input content, settings, chunk size); a rerun
with anything different is refused instead of mixing vectors from two jobs.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

MANIFEST = "manifest.json"


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


class Checkpoint:
    """A directory of finished chunks for one job, identified by its manifest."""

    def __init__(self, directory: Path, manifest: dict[str, Any]) -> None:
        self.directory = directory
        self.manifest = manifest

    @classmethod
    def open(cls, directory: Path, manifest: dict[str, Any]) -> Checkpoint:
        """Start a checkpoint, or continue one made by the same job.

        Raises:
            ValueError: the directory holds the chunks of a different job.
        """
        directory.mkdir(parents=True, exist_ok=True)
        recorded_path = directory / MANIFEST
        if recorded_path.exists():
            recorded = json.loads(recorded_path.read_text())
            if recorded != manifest:
                changed = sorted(
                    key
                    for key in manifest.keys() | recorded.keys()
                    if manifest.get(key) != recorded.get(key)
                )
                raise ValueError(
                    f"{directory} holds the unfinished work of a different job (changed: "
                    f"{', '.join(changed)}); delete it, or rerun with the original settings"
                )
        else:
            _write_atomically(
                recorded_path, lambda s: s.write(json.dumps(manifest, indent=2).encode())
            )
        return cls(directory, manifest)

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

    def remove(self) -> None:
        """Delete the checkpoint once the output is complete."""
        shutil.rmtree(self.directory, ignore_errors=True)
