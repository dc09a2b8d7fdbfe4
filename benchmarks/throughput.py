"""Texts per second of this project's clients and of the clients users would otherwise pick.

Every client embeds the same 10,000 deterministic passages into 1536-d vectors, against the same
local gateway, in the same run: with no added latency, with 200 ms and with 1 s added to every
request (a ResponseFault with no model and no ``times`` strikes every request). Our calls are
judged against floors measured in the same run (benchmarks/floors.py): CPU per million vectors
against float creation and decoding, and wall time at a latency against the rounds of requests
that latency forces; the peers' ratios are shown as information. The gateway runs
in a child process on the other core and serves ``local/precomputed``-style vectors (looked up,
not computed) under the model id the OpenAI clients send. Its own work per request (validating,
counting tokens, writing the body) is not free, so the table shows the CPU it spent per client:
every client pays it, and concurrent requests queue for it on the gateway's one event loop.

Each client runs at its defaults (only URL, key and model set) in a fresh subprocess, so imports,
warm connections and memory peaks never carry over from one client to the next. Runs are
interleaved (every client once, then every client again) so a noisy neighbour on the machine
slows one round of every client rather than every round of one. The table shows each client's
best run (other work can only slow a run down) and the range of all its runs; ratios compare
best with best. Peak memory is the rise of the process's peak RSS over its RSS just before the
call, the returned vectors included. The gateway counts requests and the most it held at once,
and a digest of three returned vectors shows every client got the same vectors back.

    .venv/bin/python benchmarks/throughput.py                  # in `make bench`
    .venv/bin/python benchmarks/throughput.py --repeats 1 --only OrqEmbeddings OpenAIEmbeddings
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import gc
import hashlib
import inspect
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any

from before_after import comparison_section
from floors import (
    CpuFloors,
    CpuRow,
    cpu_rows,
    decode_seconds,
    float_lists_seconds,
    latency_target_line,
)
from report_tables import table

MODEL = "text-embedding-3-small"
DIMENSIONS = 1536
#: Texts the timed call embeds, and texts of the untimed call before it (connections, imports):
#: fewer than any client's batch, so the warm-up is one request for every client.
TEXTS = 10_000
WARMUP_TEXTS = 8
WARMUP_REQUESTS = 1
LATENCIES_MS = (0, 200, 1000)
#: At 1 s per request a sequential peer takes minutes (llama-index's sync client sends 100
#: requests), so from this latency on the peers get one run instead of ``--repeats``. Our calls
#: (a few seconds each) still get ``--repeats``: the before-and-after verdicts need the spread of
#: runs to tell a change from noise.
SLOW_LATENCY_MS = 1000
SLOW_PEER_REPEATS = 1
#: The orq SDK does not batch: a user slices the texts, and this is the slice (our batch size).
SDK_BATCH = 512
#: Texts for the numpy path's memory check, and its bound: 1.5x the array plus 150 MB.
NUMPY_TEXTS = 200_000
NUMPY_BOUND_FACTOR = 1.5
NUMPY_BOUND_SLACK = 150_000_000
UNUSED_KEY = "sk-unused-by-the-local-gateway"
#: Memory figures are in decimal megabytes, as the bound is stated.
MB = 1_000_000


# -- the texts -------------------------------------------------------------------------------

_VOCABULARY = (
    "the a of to and in is for on with as by that this from at are be it an or can which when "
    "index search query vector document embedding model retrieval answer context user system data "
    "customer invoice payment policy contract clause refund delivery order account password "
    "network latency server request response cache timeout retry region cluster storage backup "
    "patient dosage clinical trial result report quarter revenue margin forecast growth market "
    "team project deadline release feature bug fix test review deploy pipeline monitor alert "
    "café naïve résumé Zürich façade señor"
)
_WORDS = tuple(_VOCABULARY.split())


def passage(rng: random.Random) -> str:
    """A passage of one to six sentences of six to twenty-four words: 40 to 1,000 characters."""
    sentences = []
    for _ in range(rng.choice((1, 1, 2, 2, 3, 4, 6))):
        words = [rng.choice(_WORDS) for _ in range(rng.randint(6, 24))]
        sentences.append(" ".join(words).capitalize() + rng.choice((".", ".", ".", "?", "!")))
    return " ".join(sentences)


def corpus(count: int, seed: int = 20240607) -> list[str]:
    """The same ``count`` passages on every call, in every process."""
    rng = random.Random(seed)
    return [passage(rng) for _ in range(count)]


def fingerprint(texts: Sequence[str]) -> str:
    """A short digest of the texts, printed so every run can be seen to embed the same ones."""
    return hashlib.sha256("\n".join(texts).encode()).hexdigest()[:12]


# -- the clients -------------------------------------------------------------------------------

#: A gateway's root URL -> the call to time, sync or async, taking the texts.
EmbedFactory = Callable[[str], Callable[[list[str]], Any]]


@dataclass(frozen=True)
class Client:
    """One way a user embeds a list of texts: a family of clients, a call, and its mode."""

    family: str
    call: str
    mode: str
    ours: bool
    make: EmbedFactory
    #: A checkout of this project at an earlier commit, whose code the child imports instead
    #: (``--before``); None for this checkout's.
    tree: str | None = None

    @property
    def name(self) -> str:
        return f"{self.family}.{self.call}" + (BEFORE_MARK if self.tree else "")

    @property
    def base_name(self) -> str:
        """The name of the client the child makes, whichever tree its code comes from."""
        return f"{self.family}.{self.call}"

    def before(self, tree: str) -> Client:
        """This client with the code of ``tree``: a row of the before-and-after comparison."""
        return replace(self, ours=False, tree=tree)


def orq_client(url: str) -> Any:
    from orq_embeddings import OrqEmbeddingsClient

    return OrqEmbeddingsClient(MODEL, base_url=f"{url}/v2/router")


def orq_langchain(url: str) -> Any:
    from langchain_orq import OrqEmbeddings

    return OrqEmbeddings(model=MODEL, base_url=f"{url}/v2/router")


def orq_llama_index(url: str) -> Any:
    from llama_index_orq import OrqEmbedding

    return OrqEmbedding(model_name=MODEL, base_url=f"{url}/v2/router")


def openai_langchain(url: str) -> Any:
    from langchain_openai import OpenAIEmbeddings

    return OpenAIEmbeddings(
        model=MODEL, base_url=f"{url}/v2/router", api_key=UNUSED_KEY,
        check_embedding_ctx_length=False,
    )  # fmt: skip


def openai_llama_index(url: str) -> Any:
    from llama_index.embeddings.openai import OpenAIEmbedding

    return OpenAIEmbedding(model=MODEL, api_base=f"{url}/v2/router", api_key=UNUSED_KEY)


def orq_sdk(url: str) -> Any:
    from orq_ai_sdk import Orq

    return Orq(api_key=UNUSED_KEY, server_url=url)


def sdk_loop(url: str) -> Callable[[list[str]], list[list[float]]]:
    """The orq SDK as a user batches it: slice, create, collect."""
    router = orq_sdk(url).router

    def embed(texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), SDK_BATCH):
            response = router.embeddings.create(input=texts[start : start + SDK_BATCH], model=MODEL)
            vectors.extend(item.embedding for item in response.data)
        return vectors

    return embed


def method(factory: Callable[[str], Any], call: str) -> EmbedFactory:
    """The bound method ``call`` of the client ``factory`` makes."""
    return lambda url: getattr(factory(url), call)


def twins(
    family: str, factory: Callable[[str], Any], sync_call: str, async_call: str, *, ours: bool
) -> tuple[Client, Client]:
    """A client's sync call and its async twin."""
    return (
        Client(family, sync_call, "sync", ours, method(factory, sync_call)),
        Client(family, async_call, "async", ours, method(factory, async_call)),
    )


CLIENTS: tuple[Client, ...] = (
    *twins("OrqEmbeddingsClient", orq_client, "embed", "aembed", ours=True),
    Client("OrqEmbeddingsClient", "embed_numpy", "sync", True, method(orq_client, "embed_numpy")),
    *twins("OrqEmbeddings", orq_langchain, "embed_documents", "aembed_documents", ours=True),
    *twins(
        "OrqEmbedding",
        orq_llama_index,
        "get_text_embedding_batch",
        "aget_text_embedding_batch",
        ours=True,
    ),
    *twins("OpenAIEmbeddings", openai_langchain, "embed_documents", "aembed_documents", ours=False),
    *twins(
        "OpenAIEmbedding",
        openai_llama_index,
        "get_text_embedding_batch",
        "aget_text_embedding_batch",
        ours=False,
    ),
    Client("orq-ai-sdk", "router.embeddings.create", "sync", False, sdk_loop),
)
NOTES = (
    "Every client: base URL at the local gateway, model text-embedding-3-small (served by the "
    "gateway's precomputed embedder, 1536-d), everything else at its defaults.",
    "OpenAIEmbeddings: check_embedding_ctx_length=False (else it sends tiktoken ids, not text).",
    "OpenAI clients and the orq SDK need an API key; the gateway accepts any.",
    f"orq-ai-sdk: no batching of its own, so a plain loop over slices of {SDK_BATCH} texts; "
    "float vectors (its default encoding), which the local gateway is slow to write: its gateway "
    "CPU s shows how much of that client's time is the gateway's.",
    "llama-index's async OpenAIEmbedding gathers every batch at once (no bound on requests in "
    "flight); ours keep to max_concurrency, so that comparison is bounded against unbounded.",
    "requests and peak in flight are the gateway's counts for the timed call. With no added "
    "latency the gateway answers each request in one step of its event loop, so it seldom holds "
    "several at once; with added latency it holds every request it has been sent.",
)


#: What a row of the code before the change is marked with.
BEFORE_MARK = " (before)"


def client_named(name: str) -> Client:
    return next(client for client in CLIENTS if client.name == name)


# -- one measurement, in a fresh process --------------------------------------------------------


@dataclass(frozen=True)
class Measurement:
    """One timed call: wall and CPU seconds, and how far memory rose above where it started."""

    seconds: float
    cpu_seconds: float
    peak_bytes: int
    rows: int
    width: int
    #: Of three of the vectors returned (first, middle, last), to show every client got the same.
    digest: str


def blocking(embed: Callable[[list[str]], Any]) -> Callable[[list[str]], Any]:
    """A sync call as it is; an async one run to completion on one loop kept for every call."""
    if not inspect.iscoroutinefunction(embed):
        return embed
    loop = asyncio.new_event_loop()
    return lambda texts: loop.run_until_complete(embed(texts))


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def reset_peak_rss() -> None:
    """Start the kernel's peak-RSS mark (VmHWM) again from the current RSS (Linux 4.0+)."""
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")


def peak_rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def summary(vectors: Any) -> tuple[int, int, str]:
    """Rows, width and a digest of what a client returned: lists, an array or an EmbeddingResult."""
    import numpy as np

    vectors = getattr(vectors, "vectors", vectors)
    sample = np.asarray([vectors[0], vectors[len(vectors) // 2], vectors[-1]], dtype=np.float32)
    return len(vectors), len(vectors[0]), hashlib.sha256(sample.tobytes()).hexdigest()[:12]


def measure(embed: Callable[[list[str]], Any], texts: list[str]) -> Measurement:
    """Time one call after one warm-up call; memory from just before the call to its peak."""
    embed(texts[:WARMUP_TEXTS])
    gc.collect()
    reset_peak_rss()
    before = rss_bytes()
    started, cpu_started = time.perf_counter(), time.process_time()
    vectors = embed(texts)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    peak = peak_rss_bytes() - before
    return Measurement(seconds, cpu, peak, *summary(vectors))


def child(name: str, url: str, count: int) -> None:
    """The child process's whole job: measure one client and print the result as JSON."""
    tree = os.environ.get(TREE_VARIABLE)
    if tree is not None:
        import orq_embeddings

        if not Path(orq_embeddings.__file__).resolve().is_relative_to(Path(tree).resolve()):
            raise SystemExit(f"orq_embeddings came from {orq_embeddings.__file__}, not {tree}")
    embed = blocking(client_named(name).make(url))
    print(json.dumps(asdict(measure(embed, corpus(count)))))


#: Where a child imports the project from, when it measures the code of another tree.
TREE_VARIABLE = "ORQ_BENCH_TREE"


def in_child(*arguments: str, tree: str | None = None) -> Any:
    """Run this script with ``arguments`` in a fresh interpreter and read the JSON it prints.

    With ``tree``, the child imports this project's packages from that checkout.
    """
    env = None
    if tree is not None:
        env = {**os.environ, "PYTHONPATH": tree, TREE_VARIABLE: tree}
    done = subprocess.run(
        [sys.executable, __file__, *arguments],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(arguments)} failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


# -- the runs, against one gateway per latency --------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One client's measurement and what the gateway saw of it."""

    measurement: Measurement
    requests: int
    peak_in_flight: int
    gateway_cpu_seconds: float


@dataclass(frozen=True)
class Figures:
    """A client's runs at one latency, summarised."""

    client: Client
    runs: tuple[Run, ...]

    @property
    def rates(self) -> list[float]:
        return [run.measurement.rows / run.measurement.seconds for run in self.runs]

    @property
    def rate(self) -> float:
        """The best run: other work on the machine can only slow a run down, never speed it up."""
        return max(self.rates)

    @property
    def cpu_seconds(self) -> float:
        return statistics.median(run.measurement.cpu_seconds for run in self.runs)

    @property
    def gateway_cpu_seconds(self) -> float:
        return statistics.median(run.gateway_cpu_seconds for run in self.runs)

    @property
    def peak_mb(self) -> float:
        return max(run.measurement.peak_bytes for run in self.runs) / MB

    @property
    def peak_in_flight(self) -> int:
        return max(run.peak_in_flight for run in self.runs)


def gateway_config(latency_ms: int) -> Any:
    from orq_embeddings.gateway import FaultSet, GatewayConfig, ModelSpec, ResponseFault

    delay = (ResponseFault(latency_ms=latency_ms),) if latency_ms else ()
    return GatewayConfig(
        models=(ModelSpec(id=MODEL, dimensions=DIMENSIONS, embedder="precomputed"),),
        faults=FaultSet(response=delay),
        request_log_size=0,  # the log keeps request bodies; the benchmark reads only counters
    )


def cpu_seconds_of(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def run_once(gateway: Any, client: Client, count: int) -> Run:
    gateway.reset()  # zero the counters; the warm-up's one request cannot raise the peak
    gateway_cpu = cpu_seconds_of(gateway.pid)
    measurement = Measurement(
        **in_child(
            "--child", client.base_name, "--url", gateway.url, "--texts", str(count),
            tree=client.tree,
        )
    )  # fmt: skip
    gateway_cpu = cpu_seconds_of(gateway.pid) - gateway_cpu
    if (measurement.rows, measurement.width) != (count, DIMENSIONS):
        raise RuntimeError(f"{client.name} returned {measurement.rows}x{measurement.width}")
    counters = gateway.counters()
    requests = counters.requests - WARMUP_REQUESTS
    return Run(measurement, requests, counters.peak_in_flight, gateway_cpu)


def peer_repeats(latency_ms: int, repeats: int) -> int:
    """How many runs a peer gets at ``latency_ms``: fewer where one run takes minutes."""
    return min(repeats, SLOW_PEER_REPEATS) if latency_ms >= SLOW_LATENCY_MS else repeats


def run_latency(
    latency_ms: int, clients: Sequence[Client], repeats: int, count: int
) -> list[Figures]:
    """Our calls (this tree's and ``--before``'s) ``repeats`` times against one gateway, the peers
    :func:`peer_repeats` times, interleaved round by round."""
    from orq_embeddings.gateway import LocalGateway

    runs: dict[str, list[Run]] = {client.name: [] for client in clients}
    peers_rounds = peer_repeats(latency_ms, repeats)
    with LocalGateway(gateway_config(latency_ms), separate_process=True) as gateway:
        for round_number in range(1, repeats + 1):
            for client in clients:
                if not (client.ours or client.tree) and round_number > peers_rounds:
                    continue
                run = run_once(gateway, client, count)
                runs[client.name].append(run)
                rate = run.measurement.rows / run.measurement.seconds
                print(
                    f"  {latency_ms:>3} ms  round {round_number}  {client.name:<52} "
                    f"{rate:>9,.0f} texts/s",
                    flush=True,
                )
    return [Figures(client, tuple(runs[client.name])) for client in clients]


def numpy_memory(url: str, count: int) -> Measurement:
    arguments = ("--child", "OrqEmbeddingsClient.embed_numpy", "--url", url, "--texts", str(count))
    return Measurement(**in_child(*arguments))


def measured_floors(count: int, repeats: int) -> CpuFloors:
    """Each floor of :mod:`floors`: the fastest of ``repeats`` fresh processes."""

    def fastest(flag: str) -> float:
        return min(float(in_child(flag, "--texts", str(count))) for _ in range(repeats))

    return CpuFloors(count, fastest("--float-lists"), fastest("--decode-floor"))


# -- the report -------------------------------------------------------------------------------


THROUGHPUT_COLUMNS = (
    "client.call",
    "texts/s",
    "range",
    "CPU s",
    "gateway CPU s",
    "peak MB",
    "requests",
    "peak in flight",
    "vectors",
)


def throughput_table(figures: Sequence[Figures], max_concurrency: int) -> str:
    def row(f: Figures) -> list[str]:
        flight = f"{f.peak_in_flight}" + (
            f" (<= {max_concurrency})" if f.client.ours and f.peak_in_flight <= max_concurrency
            else ""
        )  # fmt: skip
        return [
            ("**" if f.client.ours else "") + f.client.name + ("**" if f.client.ours else ""),
            f"{f.rate:,.0f}",
            f"{min(f.rates):,.0f}-{max(f.rates):,.0f}",
            f"{f.cpu_seconds:.2f}",
            f"{f.gateway_cpu_seconds:.2f}",
            f"{f.peak_mb:,.0f}",
            f"{f.runs[0].requests}",
            flight,
            f.runs[0].measurement.digest,
        ]

    return table(THROUGHPUT_COLUMNS, map(row, figures))


def ratio_lines(figures: Sequence[Figures]) -> list[str]:
    """The ratio table and its title, or nothing when no peer ran."""
    if all(f.client.ours or f.client.tree for f in figures):
        return []
    return [
        "Ratios (best texts/s of ours over the peer's best; information, not targets):",
        ratio_table(figures),
    ]


def ratio_table(figures: Sequence[Figures]) -> str:
    ours = [f for f in figures if f.client.ours]
    peers = [f for f in figures if not f.client.ours and not f.client.tree]
    header = ("ours \\ peer", *(f"{p.client.family} {p.client.mode}" for p in peers))
    rows = ([o.client.name, *(f"{o.rate / p.rate:.1f}x" for p in peers)] for o in ours)
    return table(header, rows)


def latency_targets(latency_ms: int, figures: Sequence[Figures], max_concurrency: int) -> list[str]:
    """Each of ours against the floor this latency sets (:mod:`floors`), and its in-flight bound."""
    lines = [
        latency_target_line(
            f.client.name,
            f.runs[0].measurement.rows / f.rate,
            f.runs[0].requests,
            max_concurrency,
            latency_ms,
            f.cpu_seconds,
        )
        for f in figures
        if f.client.ours
    ]
    return [*lines, in_flight_line(figures, max_concurrency)]


def in_flight_line(figures: Sequence[Figures], max_concurrency: int) -> str:
    over = [f.client.name for f in figures if f.client.ours and f.peak_in_flight > max_concurrency]
    return (
        f"- in flight: {'exceeded by ' + ', '.join(over) if over else 'never'} more than "
        f"max_concurrency={max_concurrency} for our clients"
    )


def agreement(figures: Sequence[Figures]) -> str:
    """Whether every run of every client returned the same vectors (by their digest)."""
    digests = {run.measurement.digest: f.client.name for f in figures for run in f.runs}
    if len(digests) == 1:
        return (
            f"Every run of every client returned the same vectors (digest {next(iter(digests))})."
        )
    return "VECTORS DIFFER between clients: " + ", ".join(f"{n}: {d}" for d, n in digests.items())


def list_bound(latency_ms: int, count: int, floor_seconds: float) -> str:
    """What creating the Python floats alone allows a list-returning call at this latency."""
    ceiling = count / (floor_seconds + latency_ms / 1000)
    return (
        f"A list-returning call must also create {count * DIMENSIONS / 1e6:.1f} million Python "
        f"floats: {floor_seconds:.2f} s of CPU here on its own (numpy tolist, fresh process), so "
        f"even with fetching and decoding free none could pass {ceiling:,.0f} texts/s at this "
        "latency."
    )


def runs_line(latency_ms: int, repeats: int) -> str:
    """How many runs each row is the best of."""
    peers = peer_repeats(latency_ms, repeats)
    ours = f"Best of {repeats} run{'s' if repeats > 1 else ''}"
    if peers == repeats:
        return f"{ours} per client."
    return f"{ours} for each of our calls (and each before row); {peers} for each peer."


def latency_section(
    latency_ms: int,
    figures: Sequence[Figures],
    max_concurrency: int,
    count: int,
    floor_seconds: float,
    repeats: int,
) -> str:
    title = f"### {latency_ms} ms added per request" if latency_ms else "### No added latency"
    if latency_ms:
        targets = latency_targets(latency_ms, figures, max_concurrency)
    else:
        targets = [in_flight_line(figures, max_concurrency), "- CPU: see the next section"]
    return "\n\n".join(
        [
            title,
            runs_line(latency_ms, repeats),
            throughput_table(figures, max_concurrency),
            agreement(figures),
            list_bound(latency_ms, count, floor_seconds),
            *ratio_lines(figures),
            "Targets:\n" + "\n".join(targets),
        ]
    )


def cpu_section(figures: Sequence[Figures], floors: CpuFloors) -> str:
    """CPU seconds per million vectors of every call at no added latency, beside the floors."""
    figures = [f for f in figures if not f.client.tree]  # the earlier tree's: see its section
    numpy_path = next((f for f in figures if f.client.call == "embed_numpy"), None)
    if numpy_path is None:
        return "### CPU per million vectors\n\nNot measured: the numpy path was not run."
    rows = [
        CpuRow(f.client.name, f.cpu_seconds, f.client.call != "embed_numpy", f.client.ours)
        for f in figures
    ]
    table_rows, targets = cpu_rows(rows, floors, numpy_path.cpu_seconds)
    header = ("client.call", "CPU s per 1M vectors", "floor", "x floor", "strict", "x strict")
    return "\n\n".join(
        [
            "### CPU per million vectors (no added latency)",
            f"Median CPU seconds of the client process for {floors.count:,} vectors of "
            f"{DIMENSIONS} dimensions, scaled to a million. Floors measured in this run (fastest "
            "of fresh processes): creating the floats "
            f"{floors.per_million(floors.float_creation):.1f} s; decoding base64 into one array "
            f"{floors.per_million(floors.decode):.1f} s. A list path's floor is the numpy path's "
            "own CPU plus creating the floats, its strict floor decoding plus creating the "
            "floats; the numpy path's floor is the decoding alone (method: benchmarks/floors.py).",
            table(header, table_rows),
            "Targets:\n" + "\n".join(targets),
        ]
    )


def numpy_section(measurement: Measurement) -> str:
    array = measurement.rows * measurement.width * 4
    bound = NUMPY_BOUND_FACTOR * array + NUMPY_BOUND_SLACK
    verdict = "met" if measurement.peak_bytes <= bound else "NOT MET"
    return (
        f"### The numpy path at scale\n\n"
        f"OrqEmbeddingsClient.embed_numpy, {measurement.rows:,} texts, no added latency: "
        f"{measurement.rows / measurement.seconds:,.0f} texts/s; output array "
        f"{array / MB:,.0f} MB; peak memory rise {measurement.peak_bytes / MB:,.0f} MB; "
        f"bound {NUMPY_BOUND_FACTOR:g} x array + {NUMPY_BOUND_SLACK / MB:g} MB = "
        f"{bound / MB:,.0f} MB: {verdict}."
    )


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]  # fmt: skip
        cpu = names[0] if names else cpu
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} x {cpu}, {memory:.0f} GiB, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def versions() -> str:
    packages = ("orq-embeddings", "langchain-openai", "llama-index-embeddings-openai", "openai",
                "orq-ai-sdk", "numpy", "requests", "httpx")  # fmt: skip
    return ", ".join(f"{name} {metadata.version(name)}" for name in packages)


def header(texts: Sequence[str], repeats: int, command: str) -> str:
    lengths = sorted(map(len, texts))
    return "\n".join(
        [
            f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
            f"- command: `{command}`",
            f"- machine: {machine()}",
            f"- load average at start: {os.getloadavg()[0]:.2f}",
            f"- versions: {versions()}",
            f"- texts: {len(texts):,} passages, {lengths[0]}-{lengths[-1]} characters "
            f"(median {lengths[len(lengths) // 2]}), sha256 {fingerprint(texts)}; "
            f"{DIMENSIONS} dimensions",
            f"- runs: best of {repeats} per client (peers: {SLOW_PEER_REPEATS} at "
            f"{SLOW_LATENCY_MS} ms and more; "
            "range: slowest-fastest), each in a fresh "
            f"process after one {WARMUP_TEXTS}-text warm-up call; CPU s is the median run's CPU "
            "time of the client process (all threads), gateway CPU s the gateway's during it; "
            "peak MB is the largest rise",
            *(f"- {note}" for note in NOTES),
        ]
    )


# -- entry point ----------------------------------------------------------------------------------


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--texts", type=int, default=TEXTS)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--latency", type=int, nargs="+", default=list(LATENCIES_MS))
    parser.add_argument("--only", nargs="+", help="families to run (default: all)")
    parser.add_argument(
        "--before",
        metavar="TREE",
        help="a checkout of this project at an earlier commit: its clients run beside ours, "
        "and a section compares them",
    )
    parser.add_argument("--numpy-texts", type=int, default=NUMPY_TEXTS, help="0 skips it")
    parser.add_argument("--results", type=Path, help="also write the report's section here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--float-lists", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--decode-floor", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    arguments = parse_arguments()
    if arguments.child:
        child(arguments.child, arguments.url, arguments.texts)
        return
    if arguments.float_lists:
        print(json.dumps(float_lists_seconds(arguments.texts, DIMENSIONS)))
        return
    if arguments.decode_floor:
        print(json.dumps(decode_seconds(arguments.texts, DIMENSIONS)))
        return
    from orq_embeddings.config import DEFAULT_MAX_CONCURRENCY
    from orq_embeddings.gateway import LocalGateway

    started = time.perf_counter()
    clients = [c for c in CLIENTS if not arguments.only or c.family in arguments.only]
    if arguments.before:
        clients += [client.before(arguments.before) for client in clients if client.ours]
    command = " ".join(["python", "benchmarks/throughput.py", *sys.argv[1:]])
    sections = [header(corpus(arguments.texts), arguments.repeats, command)]
    print(sections[0], flush=True)
    floors = measured_floors(arguments.texts, arguments.repeats)
    for latency_ms in arguments.latency:
        figures = run_latency(latency_ms, clients, arguments.repeats, arguments.texts)
        sections.append(
            latency_section(
                latency_ms,
                figures,
                DEFAULT_MAX_CONCURRENCY,
                arguments.texts,
                floors.float_creation,
                arguments.repeats,
            )
        )
        print("\n" + sections[-1], flush=True)
        if not latency_ms:
            sections.append(cpu_section(figures, floors))
            print("\n" + sections[-1], flush=True)
        if arguments.before:
            sections.append(comparison_section(latency_ms, figures, floors))
            print("\n" + sections[-1], flush=True)
    if arguments.numpy_texts:
        with LocalGateway(gateway_config(0), separate_process=True) as gateway:
            sections.append(numpy_section(numpy_memory(gateway.url, arguments.numpy_texts)))
        print("\n" + sections[-1], flush=True)
    sections.append(
        f"Took {time.perf_counter() - started:.0f} s; load average at the end "
        f"{os.getloadavg()[0]:.2f} (on {os.cpu_count()} cores, more than about 1 means other "
        "work shared the machine)."
    )
    print("\n" + sections[-1])
    if arguments.results:
        arguments.results.write_text("\n\n".join(["## Throughput", *sections]) + "\n")


if __name__ == "__main__":
    main()
