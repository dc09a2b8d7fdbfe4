"""Our calls with the code of an earlier commit beside this checkout's, in the same run.

``make bench BEFORE=<commit>`` checks that commit out beside this one (benchmarks/run_all.py
``--before``), and benchmarks/throughput.py then measures each of our calls twice, from each
tree, interleaved round by round in fresh processes against the same gateway, so a change can
be judged without the machine's mood of another day in the figures.

A row is worse beyond noise when this checkout's best run is slower than the earlier code's
slowest run and more than :data:`NOISE` below its best, or when its median CPU is above the
earlier code's highest and more than :data:`NOISE` above its median. At no added latency each
list path's CPU is also set against its own tree's floor (that tree's numpy path plus creating
the floats, as in benchmarks/floors.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from floors import CpuFloors
from report_tables import table

#: How far a figure may move between two runs of the same code before it counts as a change.
NOISE = 0.05


def _pairs(figures: Sequence[Any]) -> list[tuple[Any, Any]]:
    """(before, after) figures of each call measured from both trees."""
    after = {f.client.base_name: f for f in figures if f.client.ours}
    return [
        (f, after[f.client.base_name])
        for f in figures
        if f.client.tree and f.client.base_name in after
    ]


def slower(before: Any, after: Any) -> bool:
    """Whether ``after`` is slower than ``before`` beyond the noise of their runs."""
    return after.rate < min(before.rates) and after.rate < before.rate * (1 - NOISE)


def costlier(before: Any, after: Any) -> bool:
    """Whether ``after`` spends more CPU than ``before`` beyond the noise of their runs."""
    highest = max(run.measurement.cpu_seconds for run in before.runs)
    return after.cpu_seconds > highest and after.cpu_seconds > before.cpu_seconds * (1 + NOISE)


def _numpy_cpu(figures: Sequence[Any], before: bool) -> float | None:
    return next(
        (
            f.cpu_seconds
            for f in figures
            if f.client.call == "embed_numpy" and bool(f.client.tree) == before
        ),
        None,
    )


def comparison_section(latency_ms: int, figures: Sequence[Any], floors: CpuFloors) -> str:
    """The before-and-after table of one latency, and its verdicts."""
    pairs = _pairs(figures)
    numpy_before, numpy_after = _numpy_cpu(figures, True), _numpy_cpu(figures, False)
    per_million = floors.per_million

    def x_floor(figure: Any, numpy_cpu: float | None) -> str:
        if latency_ms or numpy_cpu is None or figure.client.call == "embed_numpy":
            return "-"
        return f"{figure.cpu_seconds / (numpy_cpu + floors.float_creation):.2f}x"

    rows = [
        [
            after.client.base_name,
            f"{before.rate:,.0f}",
            f"{after.rate:,.0f}",
            f"{after.rate / before.rate:.2f}",
            f"{per_million(before.cpu_seconds):.1f}",
            f"{per_million(after.cpu_seconds):.1f}",
            f"{after.cpu_seconds / before.cpu_seconds:.2f}",
            x_floor(before, numpy_before),
            x_floor(after, numpy_after),
        ]
        for before, after in pairs
    ]
    header = (
        "client.call",
        "texts/s before",
        "after",
        "after/before",
        "CPU s/1M before",
        "after",
        "after/before",
        "x list floor before",
        "after",
    )
    worse = [
        f"{after.client.base_name} ({'slower' if slower(before, after) else 'more CPU'})"
        for before, after in pairs
        if slower(before, after) or costlier(before, after)
    ]
    verdict = (
        f"Worse beyond noise: {', '.join(worse)}."
        if worse
        else f"No row is worse beyond noise ({NOISE:.0%} and the spread of the runs)."
    )
    title = (
        f"### Before and after, {latency_ms} ms added"
        if latency_ms
        else ("### Before and after, no added latency")
    )
    return "\n\n".join([title, table(header, rows), verdict])
