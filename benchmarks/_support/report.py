"""What every benchmark prints with: elapsed-time log lines, headings, durations and sizes, a
line about the machine, and tables (the SUMMARY tables and steps.py's per-step table)."""

from __future__ import annotations

import math
import os
import platform
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

T0 = time.perf_counter()
MIB = 1024 * 1024


def log(text: str) -> None:
    print(f"[{time.perf_counter() - T0:7.1f}s] {text}", flush=True)


def heading(text: str) -> None:
    print(f"\n=== {text} " + "=" * max(0, 86 - len(text)), flush=True)


def secs(seconds: float) -> str:
    if math.isnan(seconds):
        return "n/a"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:,.0f} ms"


def mib(n_bytes: float) -> str:
    return f"{n_bytes / MIB:,.1f} MiB"


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


def banner(title: str) -> None:
    """The first two lines of a run: what and when, and on which machine."""
    print(f"{title} -- {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {machine()}")


@dataclass
class Table:
    """Columns padded to their widest cell, a rule under the header. A row with fewer cells
    than the header is padded with empty ones."""

    header: tuple[str, ...]
    rows: list[tuple[str, ...]] = field(default_factory=list)

    def add(self, *cells: str) -> None:
        self.rows.append(cells + ("",) * (len(self.header) - len(cells)))

    def render(self, indent: str = "") -> str:
        rows = [self.header, *self.rows]
        widths = [max(len(r[i]) for r in rows) for i in range(len(self.header))]
        lines = []
        for n, row in enumerate(rows):
            lines.append(indent + "  ".join(c.ljust(widths[i]) for i, c in enumerate(row)).rstrip())
            if n == 0:
                lines.append(indent + "  ".join("-" * w for w in widths).rstrip())
        return "\n".join(lines)

    def print(self, indent: str = "") -> None:
        print(self.render(indent), flush=True)

    def print_summary(self) -> None:
        """The run's last word: a SUMMARY heading and this table."""
        heading("SUMMARY")
        self.print()


def run_in_temp(work: Callable[[Path], None], summary: Table | None = None) -> int:
    """Run ``work`` in a temporary directory, removed afterwards. Ctrl-C stops it and keeps what
    was measured: the summary (if any) is printed either way, then the total time."""
    with tempfile.TemporaryDirectory(prefix="optout-bench-") as directory:
        try:
            work(Path(directory))
        except KeyboardInterrupt:
            partial = ": partial results follow" if summary is not None else ""
            print(f"\ninterrupted{partial}", flush=True)
        if summary is not None:
            summary.print_summary()
    print(f"\ntotal {time.perf_counter() - T0:.0f}s")
    return 0
