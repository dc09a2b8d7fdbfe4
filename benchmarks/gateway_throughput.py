"""How many base64 1536-d vectors per second the local gateway serves on one core.

The gateway runs in a child process (its own core); this process only sends requests and reads
the raw responses. Two figures per batch size: vectors per wall-clock second (capped by this
Python client at small batches), and vectors per CPU second the gateway process spent, which is
what the gateway alone manages on one core. The model is ``local/precomputed``, the one meant for
client benchmarks: its vectors are looked up, not computed.

    .venv/bin/python benchmarks/gateway_throughput.py [--seconds 5] [--batch 16 128 512]
"""

from __future__ import annotations

import argparse
import json
import threading
import time

import httpx
import psutil

from orq_embeddings.gateway import PRECOMPUTED_MODEL_ID, LocalGateway


def measure(url: str, batch: int, seconds: float, connections: int) -> int:
    """Vectors served over ``connections`` keep-alive connections in ``seconds``."""
    body = json.dumps(
        {
            "input": [f"benchmark text number {i}" for i in range(batch)],
            "model": PRECOMPUTED_MODEL_ID,
            "encoding_format": "base64",
        }
    ).encode()
    headers = {"content-type": "application/json"}
    served = [0] * connections
    deadline = time.perf_counter() + seconds

    def send(slot: int) -> None:
        with httpx.Client(timeout=30) as client:
            while time.perf_counter() < deadline:
                response = client.post(url, content=body, headers=headers)
                response.raise_for_status()
                served[slot] += batch

    threads = [threading.Thread(target=send, args=(slot,)) for slot in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(served)


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per batch size")
    parser.add_argument("--batch", type=int, nargs="+", default=[16, 128, 512])
    parser.add_argument("--connections", type=int, default=2)
    args = parser.parse_args()
    with LocalGateway(separate_process=True) as gateway:
        server = psutil.Process(gateway.pid)
        url = f"{gateway.base_url}/embeddings"
        measure(url, 16, 0.5, 1)  # warm up: the first request prepares the encoded rows
        print("base64 1536-d vectors of local/precomputed")
        print(f"{'batch':>6} {'per wall second':>16} {'per gateway CPU second':>23}")
        for batch in args.batch:
            cpu_before, started = cpu_seconds(server), time.perf_counter()
            vectors = measure(url, batch, args.seconds, args.connections)
            wall = time.perf_counter() - started
            cpu = cpu_seconds(server) - cpu_before
            print(f"{batch:>6} {vectors / wall:>16,.0f} {vectors / cpu:>23,.0f}")


if __name__ == "__main__":
    main()
