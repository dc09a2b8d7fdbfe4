"""Embedding a corpus with Ray Data: one orq client per worker, batches in parallel.

The callable class is built once per Ray worker (an actor) and reused for every batch it gets,
so each worker keeps its own pooled connections; ``concurrency`` is the number of workers. The
same code runs on a laptop (``ray.init()``) and on a cluster (``ray.init(address="auto")``): only
the client's settings travel to the workers, never a live connection.

    python examples/ray_data_embed.py corpus.txt --model openai/text-embedding-3-small

The API key reaches the workers through the environment (``ORQ_API_KEY``), e.g. with
``ray.init(runtime_env={"env_vars": {"ORQ_API_KEY": ...}})`` on a cluster.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import ray
import ray.data

from orq_embeddings import OrqEmbeddingsClient


class EmbedBatch:
    """``Dataset.map_batches`` callable: adds an ``embedding`` column to each batch."""

    def __init__(self, model: str, **client_options: Any) -> None:
        self.client = OrqEmbeddingsClient(model, **client_options)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.client.embed_numpy([str(text) for text in batch["text"]])
        return {**batch, "embedding": vectors}


def embed_dataset(
    dataset: ray.data.Dataset,
    model: str,
    *,
    concurrency: int = 2,
    batch_size: int = 1024,
    **client_options: Any,
) -> ray.data.Dataset:
    """The dataset with an ``embedding`` column, computed by ``concurrency`` workers.

    ``batch_size`` rows go to a worker at a time; its client splits them into requests of its
    own ``batch_size`` (an option in ``client_options``) and sends them concurrently.
    """
    return dataset.map_batches(
        EmbedBatch,
        fn_constructor_kwargs={"model": model, **client_options},
        concurrency=concurrency,
        batch_size=batch_size,
        batch_format="numpy",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Embed a text file (one text a line) with Ray.")
    parser.add_argument("input")
    parser.add_argument("--model", required=True)
    parser.add_argument("--base-url")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--output", default="embeddings.parquet")
    args = parser.parse_args()
    ray.init()
    dataset = ray.data.read_text(args.input)
    embedded = embed_dataset(
        dataset, args.model, concurrency=args.concurrency, base_url=args.base_url
    )
    embedded.write_parquet(args.output)


if __name__ == "__main__":
    main()
