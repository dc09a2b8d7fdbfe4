"""One rate budget for the whole job, measured: the issue's figures with a shortened window.

The same jobs as benchmarks/cluster_budget.py (which runs them on orq's 60 s window in `make
bench`, beside per-worker budgets): 40 one-text requests on 2 and on 4 workers against the local
gateway limited to 30 requests per window, here a 12 s one. Each must finish within 1.15x of
the limit's minimum time (a window and one request; its time against the limit is the span the
gateway saw, the engine's start-up aside) with at most 5 responses of 429. The jobs run one at a
time, on the session's Ray and Spark.

Spark's tasks each keep their own window from their first request, so a task that starts late
finishes late: a Python worker Spark has to start (and import pandas, pyarrow and the client in)
starts its task a second or two after the warm ones. Before a Spark job the test has as many warm
workers as the job has tasks, as a long-running session would; the benchmark, on orq's 60 s
window, starts them cold.

Below them, the runtime's hook on its own: two clients of one process drawing on one window.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from pathlib import Path

import pytest

from orq_embeddings import OrqEmbeddingsClient
from orq_embeddings._engines.rate_window import SharedWindow
from orq_embeddings.gateway import GatewayConfig
from tests.support.budgets import WindowBudget

ROOT = Path(__file__).resolve().parents[2]
WINDOW = 12.0

pytestmark = pytest.mark.timeout(240)


def load_benchmark():
    spec = importlib.util.spec_from_file_location(
        "cluster_budget", ROOT / "benchmarks" / "cluster_budget.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


BENCHMARK = load_benchmark()


def _import_the_engine(batches):
    import orq_embeddings.spark  # noqa: F401 - what a task of the job imports first

    yield from batches


def warm_python_workers(spark, tasks: int) -> None:
    """Have ``tasks`` Python workers running at once, each with the engine imported."""
    spark.range(tasks, numPartitions=tasks).mapInPandas(_import_the_engine, "id long").collect()


@pytest.mark.parametrize("workers", [2, 4])
@pytest.mark.parametrize("engine", ["ray", "spark"])
def test_the_jobs_budget_holds_the_limit_within_its_minimum_time(engine, workers, request):
    session = request.getfixturevalue("ray_session" if engine == "ray" else "spark_session")
    if engine == "spark":
        warm_python_workers(session.spark, workers)
    one_request = BENCHMARK.one_request_seconds(samples=3)

    figures = BENCHMARK.measured(
        engine, workers, True, WINDOW, getattr(session, "spark", None), worker_cpus=0.25
    )

    assert figures.failure is None, figures
    assert figures.vectors == BENCHMARK.REQUESTS == 40
    assert figures.refusals <= 5, figures
    assert figures.span <= 1.15 * (WINDOW + one_request), figures
    assert figures.span >= WINDOW  # requests 31 to 40 did wait for the window


def test_a_failed_job_is_reported_in_one_line_from_the_engines_wrapper():
    """Spark hands back the worker's traceback inside its own exception's text."""
    wrapped = RuntimeError(
        "[PYTHON_EXCEPTION] An exception was thrown from the Python worker: Traceback ...\n"
        '  File "orq_embeddings/_wire/status_errors.py", line 105, in raise_for_status\n'
        "orq_embeddings.errors.RateLimitError: 127.0.0.1:1 answered 429 rate_limit_exceeded\n"
        "not retried: this call has waited 300 s between retries, and 60 s more would pass "
        "its retry_wait_budget of 300 s\n"
        "batch 8 of 20 (inputs 7-7), after 1 attempt(s)"
    )

    assert BENCHMARK.failure_line(wrapped) == (
        "RateLimitError, not retried: this call has waited 300 s between retries, and 60 s "
        "more would pass its retry_wait_budget of 300 s"
    )
    assert BENCHMARK.failure_line(ValueError("no rows")) == "ValueError"


def test_two_clients_drawing_on_one_window_keep_to_its_budget(orq_gateway_pool):
    """The pacer's hook, no engine: clients that each pace themselves alone would go over."""
    gateway = orq_gateway_pool.get(
        GatewayConfig(requests_per_minute=6, rate_limit_window_seconds=1.5)
    )
    budget = WindowBudget(
        SharedWindow(requests_per_minute=6, tokens_per_minute=None, window=1.5, max_hold=60)
    )
    clients = [
        OrqEmbeddingsClient(
            "openai/text-embedding-3-small",
            base_url=gateway.base_url,
            batch_size=1,
            max_concurrency=3,
            rate_limit_window=1.5,
        )
        for _ in range(2)
    ]
    for client in clients:
        client._resources.draw_from(budget)
    results = {}

    def embed(number: int) -> None:
        results[number] = clients[number].embed([f"client {number} text {n}" for n in range(6)])

    threads = [threading.Thread(target=embed, args=(number,)) for number in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [len(results[number].vectors) for number in range(2)] == [6, 6]
    assert gateway.counters().responses_by_status == {200: 12}
    assert budget.granted == 12
    seen = sorted(record.received_at for record in gateway.requests())
    assert seen[6] - seen[0] >= 1.5  # the seventh waited for the window
