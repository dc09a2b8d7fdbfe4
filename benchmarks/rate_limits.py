"""A job against a per-minute rate limit: how long it takes, and how many 429s it meets on the way.

A job of 40 one-text requests runs against the local gateway limited to 30 requests per rolling
60 s window (orq's own window, not shortened), three ways:

- (a) ``OrqEmbeddings`` with no budget: paced only by the ``X-RateLimit-*`` headers it is answered
  with (orq_embeddings/pacing.py);
- (b) ``OrqEmbeddings`` with ``requests_per_minute=30``;
- (c) langchain-openai's ``OpenAIEmbeddings``, with its own retries (``chunk_size=1`` so it sends
  the same 40 requests; ``check_embedding_ctx_length=False`` so it sends text, not tiktoken ids).

The minimum any client can take: requests 31 to 40 cannot start before the first request's window
ends, so ``60 s + one request's time``, that time measured in the same run (the median of single
requests to an unlimited gateway). The 429s are the gateway's own count of what it answered.

The three jobs run at once, each against a gateway of its own in its own process (so each has its
own limiter and its own core-sharing is the same), which keeps `make bench` one minute longer,
not three; 40 requests a minute are no load for either core.

    .venv/bin/python benchmarks/run_all.py --only rate_limits.py   # `make bench`, this part
    .venv/bin/python benchmarks/rate_limits.py --requests 45 --limit 30
    .venv/bin/python benchmarks/rate_limits.py --requests 8 --limit 6 --window 1  # seconds

``--window`` shortens the window on both sides (the gateway's ``rate_limit_window_seconds``, the
clients' ``rate_limit_window``) for a quick check that the script works; its figures are not
the issue's, which are on orq's 60 s.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MODEL = "text-embedding-3-small"
DIMENSIONS = 256
WINDOW_SECONDS = 60.0
UNUSED_KEY = "sk-bench-unused"
#: The issue's targets: within 1.15x of the minimum; at most 5 429s unbudgeted, none budgeted.
RATIO_TARGET = 1.15
TARGET_429S = {"(a) OrqEmbeddings, no budget": 5, "(b) OrqEmbeddings, requests_per_minute": 0}


@dataclass(frozen=True)
class JobResult:
    client: str
    seconds: float
    refusals: int
    requests: int
    vectors: int


def gateway_config(limit: int | None, window: float = WINDOW_SECONDS) -> Any:
    from orq_embeddings.gateway import GatewayConfig, ModelSpec

    return GatewayConfig(
        models=(ModelSpec(id=MODEL, dimensions=DIMENSIONS, embedder="precomputed"),),
        requests_per_minute=limit,
        rate_limit_window_seconds=window,
    )


def orq_embeddings(url: str, **settings: Any) -> Callable[[list[str]], list[list[float]]]:
    from langchain_orq import OrqEmbeddings

    embeddings = OrqEmbeddings(
        model=MODEL, base_url=f"{url}/v2/router", api_key=UNUSED_KEY, chunk_size=1, **settings
    )
    return embeddings.embed_documents


def openai_embeddings(url: str) -> Callable[[list[str]], list[list[float]]]:
    from langchain_openai import OpenAIEmbeddings

    embeddings = OpenAIEmbeddings(
        model=MODEL, base_url=f"{url}/v2/router", api_key=UNUSED_KEY,
        check_embedding_ctx_length=False, chunk_size=1,
    )  # fmt: skip
    return embeddings.embed_documents


def one_request_seconds(samples: int = 7) -> float:
    """The median time of one single-text request to an unlimited gateway, after a warm-up."""
    from orq_embeddings.gateway import LocalGateway

    with LocalGateway(gateway_config(None), separate_process=True) as gateway:
        embed = orq_embeddings(gateway.url)
        embed(["warm-up"])
        times = []
        for number in range(samples):
            started = time.perf_counter()
            embed([f"one request {number}"])
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def run_job(
    name: str,
    make: Callable[[str], Callable[[list[str]], list[list[float]]]],
    texts: list[str],
    limits: tuple[int, float],
    results: dict[str, JobResult],
) -> None:
    """Run the job on a gateway of its own (``limits``: requests per window, the window)."""
    from orq_embeddings.gateway import LocalGateway

    with LocalGateway(gateway_config(*limits), separate_process=True) as gateway:
        embed = make(gateway.url)
        started = time.perf_counter()
        vectors = embed(texts)
        seconds = time.perf_counter() - started
        counters = gateway.counters()
    results[name] = JobResult(
        name, seconds, counters.responses_by_status.get(429, 0), counters.requests, len(vectors)
    )


def markdown(
    results: list[JobResult], minimum: float, one: float, requests: int, limits: tuple[int, float]
) -> str:
    limit, window = limits
    span = "minute" if window == WINDOW_SECONDS else f"{window:g} s (shortened: not the issue's)"
    lines = [
        f"## Rate limits: {requests} requests against {limit} per rolling {span}",
        "",
        f"Minimum the limit allows: {minimum - one:g} s + one request ({one * 1000:.1f} ms, "
        f"median of single requests in this run) = {minimum:.2f} s. The three jobs ran at once, "
        "each against a gateway of its own (separate processes). 429s are the gateway's count.",
        "",
        "| client | finished in | x minimum | 429s on the wire | requests | vectors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        lines.append(
            f"| {result.client} | {result.seconds:.2f} s | {result.seconds / minimum:.3f}x | "
            f"{result.refusals} | {result.requests} | {result.vectors} |"
        )
    lines.append("")
    for result in results:
        if result.client not in TARGET_429S:
            continue
        ratio = result.seconds / minimum
        most = TARGET_429S[result.client]
        met = ratio <= RATIO_TARGET and result.refusals <= most and result.vectors == requests
        lines.append(
            f"- {'MET' if met else 'NOT MET'}: {result.client} within {RATIO_TARGET}x of the "
            f"minimum ({ratio:.3f}x) with at most {most} 429s ({result.refusals}), "
            f"{result.vectors} of {requests} vectors"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40, help="one-text requests in the job")
    parser.add_argument("--limit", type=int, default=30, help="the gateway's requests per minute")
    parser.add_argument(
        "--window", type=float, default=WINDOW_SECONDS, help="seconds the limit counts over"
    )
    parser.add_argument("--results", type=Path, help="also write the report's section here")
    arguments = parser.parse_args()
    texts = [f"rate-limited passage number {number}" for number in range(arguments.requests)]
    limit, window = arguments.limit, arguments.window

    one = one_request_seconds()
    minimum = window * ((arguments.requests - 1) // limit) + one
    ours = {"rate_limit_window": window}
    jobs: dict[str, Callable[[str], Callable[[list[str]], list[list[float]]]]] = {
        "(a) OrqEmbeddings, no budget": lambda url: orq_embeddings(url, **ours),
        "(b) OrqEmbeddings, requests_per_minute": lambda url: orq_embeddings(
            url, requests_per_minute=limit, **ours
        ),
        "(c) OpenAIEmbeddings (langchain-openai)": openai_embeddings,
    }
    results: dict[str, JobResult] = {}
    threads = [
        threading.Thread(target=run_job, args=(name, make, texts, (limit, window), results))
        for name, make in jobs.items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    missing = [name for name in jobs if name not in results]
    if missing:
        print(f"these jobs failed (their tracebacks are above): {', '.join(missing)}")
        return 1
    section = markdown(
        [results[name] for name in jobs], minimum, one, arguments.requests, (limit, window)
    )
    print(section)
    if arguments.results:
        arguments.results.write_text(section + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
