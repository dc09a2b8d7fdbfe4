"""An engine's job in a process of its own, for the tests that kill it halfway.

    python -m tests.engines.killable_job ray|spark OUTPUT BASE_URL ROWS

Starts its own local Ray or Spark and embeds ``ROWS`` rows (ids ``doc-0000``...) into OUTPUT,
ten rows a request and twenty a part, printing ``started`` first.
"""

from __future__ import annotations

import sys

import pyarrow as pa

from orq_embeddings._engines.local_sessions import start_ray, start_spark
from tests.support.engines import MODEL

ROWS_PER_PART = 20
BATCH_SIZE = 10


def corpus(rows: int) -> pa.Table:
    """The job's rows: the same on every run, so a rerun continues the same job."""
    return pa.table(
        {
            "id": [f"doc-{n:04}" for n in range(rows)],
            "text": [f"passage {n} of a corpus that a kill interrupts" for n in range(rows)],
        }
    )


def main(engine: str, output: str, base_url: str, rows: int) -> None:
    settings = {"base_url": base_url, "batch_size": BATCH_SIZE, "max_concurrency": 2}
    table = corpus(rows)
    print("started", flush=True)
    if engine == "ray":
        start_ray(2, object_store_memory=200 * 1024 * 1024)
        import ray.data

        from orq_embeddings.ray import embed_dataset

        ray.data.DataContext.get_current().enable_progress_bars = False
        blocks = [table.slice(start, 100) for start in range(0, rows, 100)]
        embed_dataset(
            ray.data.from_arrow(blocks), MODEL, output, rows_per_part=ROWS_PER_PART, **settings
        )
    else:
        from orq_embeddings.spark import embed_dataframe

        spark = start_spark(2)
        frame = spark.createDataFrame(table.to_pandas())
        embed_dataframe(frame, MODEL, output, rows_per_part=ROWS_PER_PART, **settings)
    print("finished", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
