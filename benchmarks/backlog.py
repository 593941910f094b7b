"""3. backlog: messages per 1-second window while a backlog drains; never more than 30.

The outbox comes from the production assembly and runs on the real clock. Baseline: the same
outbox with the limit raised to 100,000/s, what the pipeline itself can do.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import time
from pathlib import Path

from benchmarks._support.cases import new_case
from benchmarks._support.report import Table, heading, log, secs
from benchmarks._support.shell import RecordingTransport, assemble_in, stop, utc_now
from benchmarks._support.stats import bursts, windows
from bot.sender import Sender
from conversations import Say


async def run(tmp: Path, backlog: int, duration: float, latency: float, summary: Table) -> None:
    heading(f"3. Throughput with a {backlog:,}-message backlog (rate limit 30/s)")
    print(
        f"  {backlog:,} 'help' replies for {backlog:,} chats are queued, then Sender.run sends\n"
        f"  for {duration:g}s on the real clock. Windows: every [t, t+1s) on the transport's\n"
        "  clock (exact max; mean/min over windows starting every 0.1s). CPU: this process\n"
        "  (event loop + SQLite thread) while sending. Baseline: the same outbox with the limit\n"
        "  raised to 100,000/s for 3s (what the pipeline itself can do; it then reads the whole\n"
        "  queue per batch instead of 60 rows)."
    )
    transport = RecordingTransport(latency)
    services = await assemble_in(tmp / "backlog", transport)
    storage, sender = services.storage, services.sender
    try:
        now = utc_now()
        t = time.perf_counter()
        for chat in range(2_000_001, 2_000_001 + backlog):
            await storage.commit(new_case(chat, now), [Say(message="help")])
        log(f"backlog: queued {backlog:,} messages in {secs(time.perf_counter() - t)}")
        cpu = time.process_time()
        task = asyncio.create_task(sender.run(), name="sender")
        await asyncio.sleep(duration)
        await stop(task)
        cpu = time.process_time() - cpu
        sent = len(transport.sent)
        limited = windows([s.mono for s in transport.sent])
        limit = sender.limits.global_per_second
        verdict = "PASS" if limited.max <= limit else "FAIL"
        log(
            f"backlog: sent {sent:,} in {duration:g}s: max {limited.max} / "
            f"mean {limited.mean:.1f} / min {limited.min} per 1-s window -> {verdict} "
            f"(limit {limit}/s"
            + ("" if verdict == "PASS" else f"; {limited.max_edge} in any 0.995-s window")
            + f"); CPU {100 * cpu / duration:.0f}% of one core "
            f"({cpu / max(sent, 1) * 1000:.2f} ms per message)"
        )
        size, span, period = bursts([s.mono for s in transport.sent])
        if math.isnan(period):
            pattern = "continuous (no pause of 0.2 s or more: the sender is the bottleneck)"
        else:
            pattern = f"bursts every {period:.3f} s"
            log(
                f"backlog: sending pattern: bursts of {size:.0f} in {span * 1000:.0f} ms, one "
                f"every {period:.3f} s (a 1-s window between two bursts can hold 0; a period "
                "above 1 s is time spent before a burst's first send, e.g. the ready() query)"
            )
        # The settings cap the limit at Telegram's 30/s, so the baseline's sender is made here:
        # the same storage (and what it remembers), renderer and clock, the limit raised.
        fast = RecordingTransport(latency)
        raised = dataclasses.replace(sender.limits, global_per_second=100_000)
        unlimited = Sender(storage, services.renderer, fast, utc_now, raised)
        task = asyncio.create_task(unlimited.run(), name="outbox-unlimited")
        await asyncio.sleep(3.0)
        await stop(task)
        capacity = windows([s.mono for s in fast.sent])
        log(
            f"backlog baseline (limit off): {len(fast.sent):,} sent in 3s, "
            f"{capacity.overall:,.0f} msg/s while sending, max 1-s window {capacity.max:,}"
        )
    finally:
        await storage.close()
    summary.add(
        f"backlog {backlog:,}: msg/s per 1-s window max / mean",
        f"{limited.max} / {limited.mean:.1f}",
        f"limit {limit}/s; limit off: {capacity.overall:,.0f}/s",
        f"{verdict}; CPU {100 * cpu / duration:.0f}% of a core; {pattern.split(' (')[0]}",
    )
