"""Child processes: a benchmark module run as ``python -m`` from the repository root.

A memory child prints one ``RESULT {json}`` line with its peak RSS and exits at once
(``emit``); ``run_child`` waits for it and returns what it printed. A server child runs
alongside the benchmark (``spawn``) until its stdin closes. Only the standard library here:
a memory child imports exactly what it measures.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

ROOT = Path(__file__).resolve().parents[2]
RESULT = "RESULT "  # prefix of the one JSON line a memory child prints


def command(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def peak_rss_bytes() -> int:
    """This process's peak resident set size (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


def emit(result: dict[str, Any], rss: bool = True) -> NoReturn:
    """Print the child's result (with its peak RSS) and end the process."""
    if rss:
        result["peak_rss"] = peak_rss_bytes()
    print(RESULT + json.dumps(result), flush=True)
    sys.stderr.flush()
    os._exit(0)  # skip tearing down a million objects: not part of what is measured


def run_child(module: str, args: list[str], timeout: float) -> dict[str, Any]:
    """Run ``python -m module *args`` and return its result, with ``wall_s`` added (or
    ``error``)."""
    started = time.perf_counter()
    try:
        done = subprocess.run(
            command(module, *args),
            stdout=subprocess.PIPE,
            text=True,
            timeout=timeout,
            cwd=ROOT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"killed after {timeout:.0f}s", "killed": True}
    for line in done.stdout.splitlines():
        if line.startswith(RESULT):
            result: dict[str, Any] = json.loads(line[len(RESULT) :])
            result["wall_s"] = time.perf_counter() - started
            return result
    return {"error": f"child exited {done.returncode} without a result"}


def spawn(module: str, *args: str) -> subprocess.Popen[str]:
    """Start ``python -m module *args`` with pipes to its stdin and stdout."""
    return subprocess.Popen(
        command(module, *args), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
