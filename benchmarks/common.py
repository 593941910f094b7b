"""What every benchmark script prints with: elapsed-time log lines, headings, percentiles,
durations and a line about the machine. Imported as ``benchmarks.common`` (each script puts
the repository root on ``sys.path`` first, so it runs from a plain checkout)."""

from __future__ import annotations

import math
import os
import platform
import time
from collections.abc import Sequence

T0 = time.perf_counter()


def log(text: str) -> None:
    print(f"[{time.perf_counter() - T0:7.1f}s] {text}", flush=True)


def heading(text: str) -> None:
    print(f"\n=== {text} " + "=" * max(0, 86 - len(text)), flush=True)


def pct(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def secs(seconds: float) -> str:
    if math.isnan(seconds):
        return "n/a"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def machine() -> str:
    """Platform, Python, CPUs (and those this process may use) and RAM, for the record."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            memory = f"{int(f.readline().split()[1]) / 1024 / 1024:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        memory = "RAM unknown"
    cpus = f"{os.cpu_count()} CPUs"
    if hasattr(os, "sched_getaffinity"):
        cpus += f" (nproc {len(os.sched_getaffinity(0))})"
    return f"{platform.platform()}, Python {platform.python_version()}, {cpus}, {memory}"
