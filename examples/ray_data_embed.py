"""Embedding a corpus with Ray Data: one orq client per worker, batches in parallel.

The callable class is built once per Ray worker (an actor) and reused for every batch it gets,
so each worker keeps its own pooled connections; ``concurrency`` is the number of workers. The
same code runs on a laptop (``ray.init()``) and on a cluster (``ray.init(address="auto")``): only
the client's settings travel to the workers, never a live connection.

    python examples/ray_data_embed.py corpus.txt --model openai/text-embedding-3-small

writes ``embeddings.parquet/`` with an ``id`` column (a .txt file's 1-based line numbers, as
``orq-embeddings embed`` numbers them; a .jsonl or .parquet file's own ``--id-field``), the
text, and an ``embedding`` column. The API key and base URL reach the workers through the
environment (``ORQ_API_KEY``, ``ORQ_BASE_URL``), e.g. with
``ray.init(runtime_env={"env_vars": {"ORQ_API_KEY": ...}})`` on a cluster.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import ray
import ray.data

from orq_embeddings import OrqEmbeddingsClient

#: CPUs Ray reserves for each embedding worker. Embedding is I/O-bound (a worker waits on HTTP),
#: so a worker takes a quarter of a CPU: at whole CPUs two workers would reserve all of a 2-core
#: machine, and the stage that reads the input could never be scheduled.
WORKER_CPUS = 0.25


class EmbedBatch:
    """``Dataset.map_batches`` callable: adds an ``embedding`` column to each batch.

    Every other column (the ids above all) passes through unchanged, row for row.
    """

    def __init__(self, model: str, text_field: str = "text", **client_options: Any) -> None:
        self.client = OrqEmbeddingsClient(model, **client_options)
        self.text_field = text_field

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.client.embed_numpy([str(text) for text in batch[self.text_field]])
        return {**batch, "embedding": vectors}


def embed_dataset(
    dataset: ray.data.Dataset,
    model: str,
    *,
    concurrency: int = 2,
    batch_size: int = 1024,
    num_cpus: float = WORKER_CPUS,
    text_field: str = "text",
    **client_options: Any,
) -> ray.data.Dataset:
    """The dataset with an ``embedding`` column, computed by ``concurrency`` workers.

    ``batch_size`` rows go to a worker at a time; its client splits them into requests of its
    own ``batch_size`` (an option in ``client_options``) and sends them concurrently. Each
    worker reserves ``num_cpus`` CPUs (see :data:`WORKER_CPUS`).
    """
    return dataset.map_batches(
        EmbedBatch,
        fn_constructor_kwargs={"model": model, "text_field": text_field, **client_options},
        concurrency=concurrency,
        num_cpus=num_cpus,
        batch_size=batch_size,
        batch_format="numpy",
    )


def read_corpus(path: Path, id_field: str = "id") -> ray.data.Dataset:
    """A corpus file as a dataset with an ``id`` column to join the vectors on.

    A .txt file (one text a line) is numbered here, from 1, so ids survive Ray's reordering; a
    .jsonl or .parquet file keeps its own columns, ``id_field`` renamed to ``id``.
    """
    if path.suffix == ".txt":
        lines = path.read_text().splitlines()
        return ray.data.from_items([{"id": n, "text": t} for n, t in enumerate(lines, start=1)])
    if path.suffix == ".jsonl":
        dataset = ray.data.read_json(str(path), lines=True)
    elif path.suffix == ".parquet":
        dataset = ray.data.read_parquet(str(path))
    else:
        raise SystemExit(f"{path}: not a .txt, .jsonl or .parquet file")
    return dataset if id_field == "id" else dataset.rename_columns({id_field: "id"})


def main() -> None:
    parser = argparse.ArgumentParser(description="Embed a corpus file with Ray Data.")
    parser.add_argument("input", type=Path, help="a .txt (one text a line), .jsonl or .parquet")
    parser.add_argument("--model", required=True)
    parser.add_argument("--base-url", help="default: $ORQ_BASE_URL, else orq.ai's router")
    parser.add_argument("--concurrency", type=int, default=2, help="workers (default: 2)")
    parser.add_argument("--text-field", default="text", help="in .jsonl/.parquet (default: text)")
    parser.add_argument("--id-field", default="id", help="in .jsonl/.parquet (default: id)")
    parser.add_argument("--output", default="embeddings.parquet")
    args = parser.parse_args()
    ray.init()
    embedded = embed_dataset(
        read_corpus(args.input, args.id_field),
        args.model,
        concurrency=args.concurrency,
        text_field=args.text_field,
        base_url=args.base_url,
    )
    embedded.write_parquet(args.output)
    print(f"wrote the vectors, with their ids, to {args.output}/")


if __name__ == "__main__":
    main()
