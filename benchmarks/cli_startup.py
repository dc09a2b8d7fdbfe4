"""How long ``orq-embeddings --help`` (and each subcommand's ``--help``) takes, start to exit.

    .venv/bin/python benchmarks/cli_startup.py            # 20 runs of each
    .venv/bin/python benchmarks/cli_startup.py --runs 50

Each run is a fresh process of the installed console script, so interpreter start-up and every
import are in the figure, as a user at a shell meets them. ``python -c pass`` is timed the same
way, as the floor no command can go under. The top-level help should stay under 0.3 s: it
imports no subcommand module (see orq_embeddings/cli.py).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

CLI = Path(sys.executable).with_name("orq-embeddings")
COMMANDS = {
    "python -c pass (the floor)": [sys.executable, "-c", "pass"],
    "orq-embeddings --help": [str(CLI), "--help"],
    "orq-embeddings gateway --help": [str(CLI), "gateway", "--help"],
    "orq-embeddings embed --help": [str(CLI), "embed", "--help"],
    "orq-embeddings demo --help": [str(CLI), "demo", "--help"],
}
#: What orq_embeddings/cli.py aims the top-level help at.
TARGET_SECONDS = 0.3


def wall_seconds(command: list[str]) -> float:
    """Seconds from starting ``command`` to its exit (it must succeed)."""
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=20, help="timed runs of each (default: 20)")
    parser.add_argument("--results", type=Path, help="also write the report's section here")
    arguments = parser.parse_args()
    runs = arguments.runs
    lines = [
        "## CLI start-up",
        f"{runs} runs each after one warm-up, Python {sys.version.split()[0]}\n",
        f"| {'command':<32} | median s |  min s |  max s |",
        f"|{'-' * 34}|---------:|-------:|-------:|",
    ]
    print("\n".join(lines), flush=True)
    medians = {}
    for name, command in COMMANDS.items():
        wall_seconds(command)  # warm-up: the file cache, .pyc files
        times = [wall_seconds(command) for _ in range(runs)]
        medians[name] = statistics.median(times)
        lines.append(
            f"| {name:<32} | {medians[name]:8.3f} | {min(times):6.3f} | {max(times):6.3f} |"
        )
        print(lines[-1], flush=True)
    top = medians["orq-embeddings --help"]
    verdict = "within" if top <= TARGET_SECONDS else "OVER"
    lines.append(
        f"\norq-embeddings --help: {top:.3f} s median, {verdict} the {TARGET_SECONDS} s aim"
    )
    print(lines[-1])
    if arguments.results:
        arguments.results.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
