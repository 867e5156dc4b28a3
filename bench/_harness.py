"""Shared helpers for the benchmarks: percentiles, timers, tables, machine info and JSON results.

Every benchmark module has ``run(*, quick: bool) -> Result`` and compares against a baseline
measured in the same run, so the ratio holds on any machine even when absolute numbers do not.
The JSON written here carries the machine it ran on, so a result file stands on its own.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

Result = dict[str, Any]

RESULTS_DIR = Path(__file__).parent / "results"
# Versions that move the numbers: the HTTP stacks on both sides and the peer client.
PACKAGES = (
    "nukiasync",
    "httpx",
    "httpcore",
    "anyio",
    "sniffio",
    "aiohttp",
    "httpx-aiohttp",
    "nuki-web-api",
    "requests",
    "attrs",
    "psutil",
)


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct`` percentile (0-100) with linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * pct / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    """The median, NaN for no values."""
    return statistics.median(values) if values else math.nan


class Stopwatch:
    """Wall time and this process's CPU time (all threads) between start and stop."""

    wall = 0.0
    cpu = 0.0


@contextmanager
def stopwatch() -> Iterator[Stopwatch]:
    """Measure a block: ``with stopwatch() as sw: ...; sw.wall, sw.cpu`` in seconds."""
    watch = Stopwatch()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    try:
        yield watch
    finally:
        watch.wall = time.perf_counter() - wall0
        watch.cpu = time.process_time() - cpu0


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux, else what platform says)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def versions() -> dict[str, str | None]:
    """Installed versions of the packages that move the numbers (None: not installed)."""
    found: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def machine_info() -> dict[str, Any]:
    """Where and when a result was measured."""
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": versions(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_result(name: str, result: Result, *, quick: bool) -> Path:
    """Write ``bench/results/<name>.json`` (``<name>-quick.json`` for smoke runs)."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}{'-quick' if quick else ''}.json"
    document = {"benchmark": name, "quick": quick, "machine": machine_info(), **result}
    path.write_text(json.dumps(document, indent=2, sort_keys=False, default=str) + "\n")
    return path


def fmt(value: Any, digits: int = 2) -> str:
    """A table cell: floats rounded, None as '-'."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table (readable in a terminal, pasteable into bench/README.md)."""
    cells = [[fmt(cell) for cell in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]

    def line(items: Sequence[str]) -> str:
        return (
            "| "
            + " | ".join(item.ljust(width) for item, width in zip(items, widths, strict=True))
            + " |"
        )

    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([line(headers), rule, *(line(row) for row in cells)])


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print a titled table to stdout."""
    print(f"\n## {title}\n")
    print(table(headers, rows))
    sys.stdout.flush()


def goal(met: bool | None) -> str:
    """The verdict column: met, NOT MET, or n/a."""
    if met is None:
        return "n/a"
    return "met" if met else "NOT MET"
