"""What the engine tests share: the keys, the model, the texts, and one job run on either engine.

The fixtures that start the session's Ray and Spark are in tests/engines/conftest.py; these are
plain names, imported from here as every test helper is (tests/support).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from orq_embeddings import OrqEmbeddingsClient
from tests.support.leaks import FAKE_KEY

#: The key the workers and tasks find in their environment.
ENV_KEY = FAKE_KEY
#: A key a test hands to a job explicitly, as its ``api_key``.
GIVEN_KEY = "sk-orq-FAKE-given-to-the-job-3b9d1e07"
MODEL = "openai/text-embedding-3-small"
#: Tasks the session's Spark runs at once (``local[4]``): the work waits on HTTP, not on cores.
SPARK_TASKS = 4


@contextmanager
def key_in_environment(key: str) -> Iterator[None]:
    """``ORQ_API_KEY`` is ``key`` while an engine starts (its workers keep it), then as it was."""
    before = os.environ.get("ORQ_API_KEY")
    os.environ["ORQ_API_KEY"] = key
    try:
        yield
    finally:
        if before is None:
            del os.environ["ORQ_API_KEY"]
        else:
            os.environ["ORQ_API_KEY"] = before


TEXTS = [f"passage {n} about {'rivers' if n % 3 else 'mountains'}" for n in range(120)]


def single_client_vectors(base_url: str, texts: list[str], model: str = MODEL) -> np.ndarray:
    """What one client in this process gives ``texts``: what every engine must give them too."""
    with OrqEmbeddingsClient(model, base_url=base_url) as client:
        return client.embed_numpy(texts)


def vectors_of(column: list) -> np.ndarray:
    """An ``embedding`` column's vectors as one float32 array."""
    return np.stack([np.asarray(vector, dtype=np.float32) for vector in column])


@dataclass(frozen=True)
class EngineJob:
    """An engine's job (``embed_dataset``, ``embed_dataframe``), called the same way on both.

    Attributes:
        name: ``"ray"`` or ``"spark"``.
        spark: the session's Spark, for Spark's job.
    """

    name: str
    spark: Any = None

    def run(
        self,
        ids: list,
        texts: list,
        output: Path,
        *,
        pieces: int = 3,
        model: str = MODEL,
        **settings,
    ) -> Any:
        """Embed the rows, handed over in ``pieces`` blocks or partitions, into ``output``."""
        table = pa.table({"id": pa.array(ids, type=None if ids else pa.int64()), "text": texts})
        size = max(1, -(-len(ids) // pieces))
        if self.name == "ray":
            import ray.data

            from orq_embeddings.ray import embed_dataset

            blocks = [table.slice(start, size) for start in range(0, len(ids), size)] or [table]
            return embed_dataset(ray.data.from_arrow(blocks), model, output, **settings)
        from orq_embeddings.spark import embed_dataframe

        frame = self.spark.createDataFrame(table).repartition(pieces)
        return embed_dataframe(frame, model, output, **settings)

    def runners(self, count: int) -> dict[str, int]:
        """The setting that runs ``count`` workers (Ray) or concurrent tasks (Spark)."""
        return {"workers" if self.name == "ray" else "concurrent_tasks": count}

    @property
    def runners_noun(self) -> str:
        return "workers" if self.name == "ray" else "concurrent tasks"
