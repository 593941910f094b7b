"""2. lag: due-to-sent lag of reminders, with the scheduler and the outbox as in production.

Each reminder is ``code_left:30`` for its own chat and produces one ``code_reminder`` message.
The bot comes from the production assembly; ``Scheduler.run`` and ``Sender.run`` run as
asyncio tasks on the real clock. Baseline: the lag the 30 messages/s limit alone forces.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from benchmarks._support.cases import code_case
from benchmarks._support.report import Table, heading, log, ms, secs
from benchmarks._support.shell import RecordingTransport, assemble_in, at, stop, utc_now
from benchmarks._support.stats import Windows, pct, windows
from bot.storage import Storage
from conversations import CODE_LEFT, Case, Effect, Schedule


@dataclass(frozen=True)
class Load:
    count: int
    spread: float  # seconds over which the reminders fall due

    @property
    def rate(self) -> float:
        return self.count / self.spread

    def __str__(self) -> str:
        return f"{self.count:,} over {self.spread:g}s ({self.rate:,.0f}/s due)"


@dataclass(frozen=True)
class LagRun:
    complete: bool
    sent: int
    lags: list[float]  # due -> accepted by the transport
    to_queue: list[float]  # due -> committed (the scheduler claims, the brain steps, commit)
    in_queue: list[float]  # committed -> accepted by the transport (the sender)
    rates: Windows
    wrong: int  # messages without "30 minutes"
    left_reminders: int
    left_outbox: int
    limit: int


def note_commits(storage: Storage, queued: dict[int, float]) -> None:
    """Note when each chat's first commit from now on returned: its message is queued from
    then on. The wiring stays production's; only this storage's ``commit`` is watched."""
    commit = storage.commit

    async def noted(
        case: Case,
        effects: list[Effect],
        consumed_reminder: int | None = None,
        update_id: int | None = None,
    ) -> None:
        await commit(case, effects, consumed_reminder, update_id)
        queued.setdefault(case.chat_id, time.time())

    storage.commit = noted  # type: ignore[method-assign]


async def lag_run(tmp: Path, load: Load, latency: float) -> LagRun:
    transport = RecordingTransport(latency)
    services = await assemble_in(tmp / f"lag-{load.count}", transport)
    storage, sender = services.storage, services.sender
    queued: dict[int, float] = {}
    chats = range(1_000_001, 1_000_001 + load.count)
    try:
        # Pass 1 creates the cases and tells how long pass 2 (same number of commits) will take,
        # so the first reminder falls due just after everything is written.
        now = utc_now()
        t = time.perf_counter()
        for chat in chats:
            await storage.commit(code_case(chat, now, now + timedelta(hours=1)), [])
        setup = time.perf_counter() - t
        start = time.time() + max(2.0, 1.5 * setup + 1.0)
        due: dict[int, float] = {}
        for i, chat in enumerate(chats):
            due[chat] = start + i * load.spread / load.count
            case = code_case(chat, now, at(due[chat]) + timedelta(minutes=30))
            await storage.commit(case, [Schedule(key=f"{CODE_LEFT}:30", due_at=at(due[chat]))])
        early = time.time() - start
        if early > 0:
            log(f"  warning: set-up overran the first due time by {early:.2f}s")
        note_commits(storage, queued)
        tasks = [
            asyncio.create_task(services.scheduler.run(), name="scheduler"),
            asyncio.create_task(sender.run(), name="sender"),
        ]
        limit = sender.limits.global_per_second
        timeout = (start - time.time()) + load.spread + load.count / limit * 1.5 + 30
        complete = await transport.wait_for(lambda: len(transport.sent) >= load.count, timeout)
        await stop(*tasks)
        left_reminders = await storage.count("reminders")
        left_outbox = await storage.count("outbox")
    finally:
        await storage.close()
    sent = {s.chat_id: s for s in transport.sent}
    return LagRun(
        complete=complete,
        sent=len(transport.sent),
        lags=[sent[c].at - due[c] for c in chats if c in sent],
        to_queue=[queued[c] - due[c] for c in chats if c in queued],
        in_queue=[sent[c].at - queued[c] for c in chats if c in sent and c in queued],
        rates=windows([s.mono for s in transport.sent]),
        wrong=sum(1 for s in transport.sent if "30 minutes" not in s.html),
        left_reminders=left_reminders,
        left_outbox=left_outbox,
        limit=limit,
    )


def rate_limited_lags(load: Load, limit: int) -> list[float]:
    """The lags a perfect sender would have under the same rule (at most ``limit`` messages in
    any second, in due order, no time spent per message): message i leaves at
    max(due_i, left_{i-1}, left_{i-limit} + 1s)."""
    left: list[float] = []
    lags = []
    for i in range(load.count):
        due = i * load.spread / load.count
        t = max(due, left[i - 1] if i else due, left[i - limit] + 1.0 if i >= limit else due)
        left.append(t)
        lags.append(t - due)
    return lags


async def run(tmp: Path, loads: list[Load], latency: float, summary: Table) -> None:
    heading("2. Due-to-sent lag: Scheduler.run + Sender.run on the real clock")
    print(
        "  Each reminder is 'code_left:30' for its own chat (step CODE, code expires 30 min after\n"
        "  the due time) and produces one 'code_reminder' message. Lag = accepted by the\n"
        "  transport - due. Split: due -> queued (the scheduler claims, the brain steps, storage\n"
        "  commits) and queued -> sent (the outbox; rate limit 30 messages/s overall).\n"
        "  Baseline: the lag the rate limit alone forces (a sender that takes no time and sends\n"
        "  in due order, at most 30 in any second)."
    )
    for load in loads:
        log(f"lag: {load} ...")
        r = await lag_run(tmp, load, latency)
        lags, limit, rates = r.lags, r.limit, r.rates
        ideal = rate_limited_lags(load, limit)
        within = rates.max <= limit
        log(
            f"  sent {r.sent:,}/{load.count:,}"
            + ("" if r.complete else " (TIMED OUT)")
            + f"; lag p50 {secs(pct(lags, 50))}, p99 {secs(pct(lags, 99))}, "
            f"max {secs(max(lags, default=math.nan))}"
        )
        log(
            f"  due -> queued p50 {ms(pct(r.to_queue, 50))}, p99 {ms(pct(r.to_queue, 99))}; "
            f"queued -> sent p50 {secs(pct(r.in_queue, 50))}, p99 {secs(pct(r.in_queue, 99))}"
        )
        log(
            f"  delivered {rates.mean:.1f}/s (mean 1-s window while sending), max 1-s window "
            f"{rates.max} (limit {limit}"
            + ("" if within else f", EXCEEDED; {rates.max_edge} in any 0.995-s window")
            + "); baseline, "
            f"rate limit alone: lag p50 {secs(pct(ideal, 50))}, p99 {secs(pct(ideal, 99))}"
        )
        if r.wrong or r.left_reminders or r.left_outbox:
            log(
                f"  check: {r.wrong} unexpected texts, {r.left_reminders} reminders and "
                f"{r.left_outbox} messages left over"
            )
        summary.add(
            f"lag {load}: p50 / p99",
            f"{secs(pct(lags, 50))} / {secs(pct(lags, 99))}",
            f"rate limit alone: {secs(pct(ideal, 50))} / {secs(pct(ideal, 99))}",
            f"{rates.mean:.1f} msg/s, max window {rates.max}"
            + ("" if within else f" > {limit}")
            + ("" if r.complete else ", INCOMPLETE"),
        )
