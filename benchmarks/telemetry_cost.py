"""What tracing costs a call: not installed, the API without an SDK, an SDK exporting nowhere.

The same calls of ``OrqEmbeddingsClient`` (``embed`` and ``aembed``) in three set-ups, each run in
a fresh process against one local gateway in a child process (the ``local/precomputed``-style
model of benchmarks/throughput.py, no added latency, so the client's own work is what shows):

- **without OpenTelemetry**: ``opentelemetry`` cannot be imported, as in an install without
  ``[otel]``; the floor the other two are held to.
- **API, no SDK**: ``opentelemetry-api`` importable and nothing configured, as in most installs
  that have it (a dependency of something else, or the SDK set up only in production). The target:
  no row slower than without OpenTelemetry beyond the noise of the runs.
- **SDK, no-op exporter**: a ``TracerProvider`` with a ``BatchSpanProcessor`` and a
  ``MeterProvider`` with a periodic reader, both exporting to exporters that drop everything: what
  the spans and metrics themselves cost, without a network.

Two workloads: the throughput benchmark's (10,000 passages, default batches: 20 requests), and
many small requests (2,000 passages, one per request), where a cost per request shows most. Runs
are interleaved (each set-up once, then each again), each call after one warm-up call; a row
shows the best run's texts/s (other work can only slow a run down), and the CPU time per request
over the floor's, from the median runs. Noise is the spread of the floor's own runs.

    .venv/bin/python benchmarks/telemetry_cost.py                 # in `make bench`
    .venv/bin/python benchmarks/telemetry_cost.py --texts 600 --small-texts 100 --repeats 1
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from throughput import (
    MODEL,
    Measurement,
    blocking,
    corpus,
    gateway_config,
    machine,
    measure,
    table,
)

SETUPS = {
    "absent": "without OpenTelemetry",
    "api": "API, no SDK",
    "sdk": "SDK, no-op exporter",
}
CALLS = ("embed", "aembed")
#: The smallest spread of the floor's runs counted as noise: a single run has none to show.
MIN_NOISE = 0.03

#: Run first in a child that must not find OpenTelemetry, as if it were not installed.
ABSENT = 'import sys\nsys.modules["opentelemetry"] = None\n'
#: Then runs this script as __main__.
RUN_AS_MAIN = (
    f"sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})\n"
    f"import runpy; runpy.run_path({str(Path(__file__).resolve())!r}, run_name='__main__')\n"
)


@dataclass(frozen=True)
class Workload:
    name: str
    texts: int
    batch_size: int | None  # None: the client's default


# -- in the child process ---------------------------------------------------------------------


def configure_sdk() -> None:
    """Global tracer and meter providers whose exporters drop everything."""
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import (
        MetricExporter,
        MetricExportResult,
        PeriodicExportingMetricReader,
    )
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        SpanExporter,
        SpanExportResult,
    )

    class DropSpans(SpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    class DropMetrics(MetricExporter):
        def export(self, metrics_data: Any, timeout_millis: float = 0, **kwargs: Any) -> Any:
            return MetricExportResult.SUCCESS

        def force_flush(self, timeout_millis: float = 0) -> bool:
            return True

        def shutdown(self, timeout_millis: float = 0, **kwargs: Any) -> None:
            return None

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(DropSpans()))
    trace.set_tracer_provider(tracer_provider)
    reader = PeriodicExportingMetricReader(DropMetrics(), export_interval_millis=1_000)
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))


def child(setup: str, call: str, url: str, texts: int, batch_size: int | None) -> None:
    """The child process's whole job: one set-up, one call, its measurement as JSON."""
    if setup == "sdk":
        configure_sdk()
    from orq_embeddings import OrqEmbeddingsClient

    sizing = {} if batch_size is None else {"batch_size": batch_size}
    client = OrqEmbeddingsClient(MODEL, base_url=f"{url}/v2/router", **sizing)
    measurement = measure(blocking(getattr(client, call)), corpus(texts))
    loaded = sorted(
        name
        for name, module in sys.modules.items()
        if name.split(".")[0] == "opentelemetry" and module is not None
    )
    print(json.dumps({"measurement": asdict(measurement), "loaded": loaded}))


def run_child(setup: str, call: str, url: str, workload: Workload) -> tuple[Measurement, list[str]]:
    arguments = ["--child", setup, call, "--url", url, "--texts", str(workload.texts)]
    if workload.batch_size is not None:
        arguments += ["--batch-size", str(workload.batch_size)]
    prefix = ["-c", ABSENT + f"\nsys.argv = {[__file__, *arguments]!r}\n" + RUN_AS_MAIN]
    command = [sys.executable, *(prefix if setup == "absent" else [__file__, *arguments])]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{setup} {call} failed:\n{done.stderr}")
    reported = json.loads(done.stdout.splitlines()[-1])
    return Measurement(**reported["measurement"]), reported["loaded"]


# -- the runs and the report ------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One call of one workload in every set-up."""

    workload: Workload
    call: str
    runs: dict[str, list[Measurement]]
    requests: int

    def rate(self, setup: str) -> float:
        return max(run.rows / run.seconds for run in self.runs[setup])

    def cpu(self, setup: str) -> float:
        return statistics.median(run.cpu_seconds for run in self.runs[setup])

    def noise(self) -> float:
        """The spread of the floor's own runs, as a fraction of its best."""
        rates = [run.rows / run.seconds for run in self.runs["absent"]]
        return max(MIN_NOISE, 1 - min(rates) / max(rates))

    def extra_cpu_us_per_request(self, setup: str) -> float:
        return (self.cpu(setup) - self.cpu("absent")) / self.requests * 1e6


def run_all(url: str, workloads: Sequence[Workload], repeats: int) -> list[Row]:
    rows = []
    for workload in workloads:
        for call in CALLS:
            runs: dict[str, list[Measurement]] = {setup: [] for setup in SETUPS}
            for round_number in range(1, repeats + 1):
                for setup in SETUPS:
                    measurement, loaded = run_child(setup, call, url, workload)
                    check_setup(setup, loaded)
                    runs[setup].append(measurement)
                    print(
                        f"  {workload.name:<28} {call:<7} round {round_number}  "
                        f"{SETUPS[setup]:<22} {measurement.rows / measurement.seconds:>9,.0f} "
                        "texts/s",
                        flush=True,
                    )
            requests = -(-workload.texts // (workload.batch_size or default_batch_size()))
            rows.append(Row(workload, call, runs, requests))
    return rows


def check_setup(setup: str, loaded: list[str]) -> None:
    """Each child ran as its set-up says: no OpenTelemetry, the API alone, or the SDK."""
    sdk = any(name.startswith("opentelemetry.sdk") for name in loaded)
    as_said = {"absent": not loaded, "api": bool(loaded) and not sdk, "sdk": sdk}[setup]
    if not as_said:
        raise RuntimeError(f"the {setup!r} child imported {loaded}")


def default_batch_size() -> int:
    from orq_embeddings.config import DEFAULT_BATCH_SIZE

    return DEFAULT_BATCH_SIZE


def report(rows: Sequence[Row], repeats: int, command: str) -> str:
    versions = ", ".join(
        f"{name} {metadata.version(name)}"
        for name in ("orq-embeddings", "opentelemetry-api", "opentelemetry-sdk")
    )
    header = [
        "## Telemetry cost",
        "",
        f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- command: `{command}`",
        f"- machine: {machine()}",
        f"- versions: {versions}",
        f"- runs: best of {repeats} per set-up, interleaved, each in a fresh process after a "
        "warm-up call; no added latency; extra CPU is the median run's CPU time over the "
        "floor's, per request",
    ]
    columns = ["workload, call", *(f"{label} texts/s" for label in SETUPS.values())]
    columns += ["API / without", "SDK / without", "API extra CPU/request", "SDK extra CPU/request"]
    body = [
        [
            f"{row.workload.name}, {row.call}",
            *(f"{row.rate(setup):,.0f}" for setup in SETUPS),
            f"{row.rate('api') / row.rate('absent'):.2f}x",
            f"{row.rate('sdk') / row.rate('absent'):.2f}x",
            f"{row.extra_cpu_us_per_request('api'):+.0f} us",
            f"{row.extra_cpu_us_per_request('sdk'):+.0f} us",
        ]
        for row in rows
    ]
    verdicts = []
    for row in rows:
        ratio, noise = row.rate("api") / row.rate("absent"), row.noise()
        verdict = "MET" if ratio >= 1 - noise else "NOT MET"
        verdicts.append(
            f"- {verdict}: {row.workload.name}, {row.call} with the API and no SDK runs at "
            f"{ratio:.2f}x the texts/s without OpenTelemetry (noise: {noise:.0%})"
        )
    return "\n".join(
        [*header, "", table(columns, body), "", "Target: no row slower beyond noise.", *verdicts]
    )


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--texts", type=int, default=10_000, help="the default-batches workload")
    parser.add_argument("--small-texts", type=int, default=2_000, help="one text per request")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--results", type=Path, help="also write the report's section here")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--batch-size", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    arguments = parse_arguments()
    if arguments.child:
        setup, call = arguments.child
        child(setup, call, arguments.url, arguments.texts, arguments.batch_size)
        return
    from orq_embeddings.gateway import LocalGateway

    started = time.perf_counter()
    workloads = [
        Workload(f"{arguments.texts:,} texts, default batches", arguments.texts, None),
        Workload(f"{arguments.small_texts:,} texts, one per request", arguments.small_texts, 1),
    ]
    command = " ".join(["python", "benchmarks/telemetry_cost.py", *sys.argv[1:]])
    with LocalGateway(gateway_config(0), separate_process=True) as gateway:
        rows = run_all(gateway.url, workloads, arguments.repeats)
    section = report(rows, arguments.repeats, command)
    print("\n" + section + f"\n\nTook {time.perf_counter() - started:.0f} s.")
    if arguments.results:
        arguments.results.write_text(section + "\n")


if __name__ == "__main__":
    main()
