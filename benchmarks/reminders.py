#!/usr/bin/env python3
"""Reminders and the outbox under load: memory, start-up, lag, throughput, urgency.

Run from the repository root (the project installed, plus the ``bench`` and ``test`` extras)::

    python benchmarks/reminders.py            # everything, a few minutes (+ PTB with 1,000,000)
    python benchmarks/reminders.py --quick    # smaller sizes, about a minute
    python benchmarks/reminders.py --only lag,backlog

Every figure is printed next to a baseline measured in the same run on the same machine. One
module a section:

1. memory  -- start-up time and peak RSS with 100,000 / 1,000,000 pending reminders in SQLite
              (``Storage.open`` + ``Scheduler.start`` + first ``seconds_to_next``), against
              PTB's JobQueue (APScheduler) holding the same reminders as ``run_once`` jobs, and
              against Python processes that only import the same modules. Each measurement runs
              in a fresh subprocess (``benchmarks/memory.py``).
2. lag     -- due-to-sent lag (p50/p99) of ``code_left:30`` reminders, with ``Scheduler.run``
              and ``Sender.run`` running as in production on the real clock; light, at-limit
              and overload cases, against the outbox's rate limit (30 messages/s) (``lag.py``).
3. backlog -- delivered messages/s over sliding 1-second windows with a 10,000-message backlog;
              PASS if no window exceeds the limit. Baseline: the same outbox with the limit off
              (``backlog.py``).
4. urgency -- how long 50 "countdown" (then 50 "reply") messages wait while 3,000 check-ins are
              queued, against the wait a first-in-first-out queue would give them
              (``urgency.py``).

Sections 2-4 build the bot with the production assembly (``bot.assembly.assemble``) behind an
in-process fake transport (no network); messages are rendered with the real ``Renderer`` and
templates, so rendering is part of the cost. Not a test: nothing here fails the build; read
the figures (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # a checkout without the editable install works too

# Only the standard library and these until the memory section is done: a child's peak RSS
# (ru_maxrss) starts at its parent's, so the parent stays small while the children run.
from benchmarks import memory  # noqa: E402
from benchmarks._support.report import Table, banner, run_in_temp  # noqa: E402

PHASES = ("memory", "lag", "backlog", "urgency")
URGENT = 50  # countdowns, then replies, in section 4


def parse_loads(text: str) -> list[tuple[int, float]]:
    """Lag loads ``COUNT/SECONDS,...`` (SECONDS defaults to 10)."""
    loads = []
    for part in text.split(","):
        count, _, spread = part.partition("/")
        loads.append((int(count), float(spread or 10)))
    return loads


async def live(
    tmp: Path,
    phases: set[str],
    loads: list[tuple[int, float]],
    backlog_size: int,
    duration: float,
    checkins: int,
    latency: float,
    summary: Table,
) -> None:
    """Sections 2-4, in this process (imported here: see above)."""
    from benchmarks import backlog, lag, urgency

    if "lag" in phases:
        await lag.run(tmp, [lag.Load(*load) for load in loads], latency, summary)
    if "backlog" in phases:
        await backlog.run(tmp, backlog_size, duration, latency, summary)
    if "urgency" in phases:
        await urgency.run(tmp, checkins, URGENT, latency, summary)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--only", default=",".join(PHASES), help="phases to run")
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    parser.add_argument("--sizes", default=None, help="pending reminders (default 100000,1000000)")
    parser.add_argument("--ptb-budget", type=float, default=300.0, help="seconds (default 300)")
    parser.add_argument(
        "--ptb-order",
        choices=("due", "chat"),
        default="due",
        help="order of run_once calls: by due time (APScheduler's cheapest) or by chat id",
    )
    parser.add_argument("--skip-ptb", action="store_true", help="no JobQueue comparison")
    parser.add_argument(
        "--loads", default=None, help="lag loads COUNT/SECONDS,... (default 100/10,300/10,2000/10)"
    )
    parser.add_argument("--backlog", type=int, default=None, help="messages (default 10000)")
    parser.add_argument("--duration", type=float, default=10.0, help="backlog run, seconds")
    parser.add_argument("--checkins", type=int, default=None, help="queued check-ins (3000)")
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        help="seconds the fake transport takes per call (default 0; try 0.05 for a real API)",
    )
    args = parser.parse_args(argv)

    phases = {p.strip() for p in args.only.split(",") if p.strip()}
    unknown = phases - set(PHASES)
    if unknown:
        parser.error(f"unknown phase(s): {', '.join(sorted(unknown))}")
    quick = args.quick
    sizes = [
        int(s) for s in (args.sizes or ("10000,100000" if quick else "100000,1000000")).split(",")
    ]
    loads = parse_loads(args.loads or ("100/10,600/10" if quick else "100/10,300/10,2000/10"))
    backlog_size = args.backlog or (3000 if quick else 10_000)
    duration = min(args.duration, 5.0) if quick else args.duration
    checkins = args.checkins or (1000 if quick else 3000)
    latency = args.latency
    banner("optout-bot reminder benchmarks")
    if latency:
        print(f"fake transport latency: {latency * 1000:.0f} ms per call")
    summary = Table(("measure", "optout-bot", "baseline / comparison", ""))

    def work(tmp: Path) -> None:
        if "memory" in phases:
            memory.run(tmp, sizes, args.ptb_budget, args.ptb_order, args.skip_ptb, summary)
        if phases - {"memory"}:
            asyncio.run(
                live(tmp, phases, loads, backlog_size, duration, checkins, latency, summary)
            )

    return run_in_temp(work, summary)


if __name__ == "__main__":
    raise SystemExit(main())
