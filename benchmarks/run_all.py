"""Run every benchmark once and write their reports, from that one run, into RESULTS.md.

Each benchmark is a script of this folder that prints as it goes and, given ``--results PATH``,
writes its Markdown section to PATH. This runs them one after another (so none shares the
machine with another), shows their output live, and joins their sections under one title with
the date and the total time. A benchmark that fails stops the run and leaves RESULTS.md as it
was, so the file never mixes figures of two runs.

    .venv/bin/python benchmarks/run_all.py                      # `make bench`
    .venv/bin/python benchmarks/run_all.py --only cli_startup.py --results /tmp/results.md
    .venv/bin/python benchmarks/run_all.py --quick --results /tmp/quick.md   # seconds
    .venv/bin/python benchmarks/run_all.py --before 9a0bfb4     # `make bench BEFORE=9a0bfb4`

With ``--before COMMIT``, that commit is checked out beside this one (a git worktree, removed at
the end) and throughput.py measures our calls from both, in the same run
(benchmarks/before_after.py).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: The benchmarks ``make bench`` runs, in order, each with the arguments of a ``--quick`` run (a
#: few seconds, for the test that keeps the scripts working): adding one is adding a line here.
BENCHMARKS = {
    "throughput.py": (
        "--texts", "600", "--repeats", "1", "--latency", "0", "100", "--numpy-texts", "600",
        "--only", "OrqEmbeddingsClient", "OrqEmbeddings", "OpenAIEmbeddings",
    ),
    "telemetry_cost.py": ("--texts", "300", "--small-texts", "40", "--repeats", "1"),
    "cli_startup.py": ("--runs", "1"),
    "rate_limits.py": ("--requests", "8", "--limit", "6", "--window", "1"),
    "cluster_budget.py": ("--window", "3"),
}  # fmt: skip
TITLE = "# Benchmark results"


#: The benchmarks that can set an earlier commit's code beside this checkout's.
COMPARES_BEFORE = ("throughput.py",)


@contextlib.contextmanager
def checkout(commit: str) -> Iterator[Path]:
    """``commit`` checked out in a temporary folder (a detached git worktree), then removed."""
    with tempfile.TemporaryDirectory() as folder:
        tree = Path(folder) / "before"
        git = ["git", "-C", str(HERE.parent)]
        subprocess.run([*git, "worktree", "add", "--detach", str(tree), commit], check=True)
        try:
            yield tree
        finally:
            subprocess.run([*git, "worktree", "remove", "--force", str(tree)], check=False)


def run(script: str, results: Path, arguments: tuple[str, ...]) -> None:
    """Run one benchmark, its output shown as it comes; raise if it fails."""
    print(f"\n== {script} {' '.join(arguments)}", flush=True)
    command = [sys.executable, str(HERE / script), *arguments, "--results", str(results)]
    done = subprocess.run(command, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{script} failed (exit {done.returncode}); RESULTS.md left as it was")


def report(sections: list[str], seconds: float, scripts: tuple[str, ...], quick: bool) -> str:
    now = datetime.datetime.now(datetime.timezone.utc)
    command = "python benchmarks/run_all.py --quick" if quick else "make bench"
    intro = (
        f"Written by `{command}`: {', '.join(scripts)}, one "
        f"after another, in one run that ended {now:%Y-%m-%d %H:%M} UTC and took {seconds:.0f} s. "
        "Each section's method is in its script's docstring. Figures are from one machine at one "
        "time: rerun it to see your own."
    )
    return "\n\n".join([TITLE, intro, *sections]) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, help="run these alone")
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument(
        "--quick", action="store_true", help="tiny runs that only show the scripts work"
    )
    parser.add_argument(
        "--before", metavar="COMMIT", help="also measure our calls with this commit's code"
    )
    arguments = parser.parse_args()
    if arguments.quick and arguments.results == HERE / "RESULTS.md":
        parser.error("--quick figures mean nothing: give --results another file")
    scripts = tuple(arguments.only or BENCHMARKS)
    started = time.perf_counter()
    sections = []
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        before = stack.enter_context(checkout(arguments.before)) if arguments.before else None
        for number, script in enumerate(scripts):
            section = folder / f"{number}.md"
            options = BENCHMARKS[script] if arguments.quick else ()
            if before is not None and script in COMPARES_BEFORE:
                options = (*options, "--before", str(before))
            run(script, section, options)
            sections.append(section.read_text().strip())
    seconds = time.perf_counter() - started
    arguments.results.write_text(report(sections, seconds, scripts, arguments.quick))
    print(f"\nwrote {arguments.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
