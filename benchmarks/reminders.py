#!/usr/bin/env python3
"""Reminders and the outbox under load: memory, start-up, lag, throughput, urgency.

Run from the repository root (the project installed, plus the ``bench`` extra)::

    python benchmarks/reminders.py            # everything, a few minutes (+ PTB with 1,000,000)
    python benchmarks/reminders.py --quick    # smaller sizes, about a minute
    python benchmarks/reminders.py --only lag,backlog

Every figure is printed next to a baseline measured in the same run on the same machine:

1. memory  -- start-up time and peak RSS with 100,000 / 1,000,000 pending reminders in SQLite
              (``Storage.open`` + ``Scheduler.start`` + first ``seconds_to_next``), against
              PTB's JobQueue (APScheduler) holding the same reminders as ``run_once`` jobs, and
              against Python processes that only import the same modules. Each measurement runs
              in a fresh subprocess.
2. lag     -- due-to-sent lag (p50/p99) of ``code_left:30`` reminders, with ``Scheduler.run``
              and ``Outbox.run`` running as in production on the real clock; light, at-limit
              and overload cases, against the outbox's rate limit (30 messages/s).
3. backlog -- delivered messages/s over sliding 1-second windows with a 10,000-message backlog;
              PASS if no window exceeds the limit. Baseline: the same outbox with the limit off.
4. urgency -- how long 50 "countdown" (then 50 "reply") messages wait while 3,000 check-ins are
              queued, against the wait a first-in-first-out queue would give them.

The transport is an in-process fake (no network); messages are rendered with the real
``Renderer`` and templates, so rendering is part of the cost. Not a test: nothing here fails the
build; read the figures (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import itertools
import json
import math
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for mypy only: nothing below is imported when the benchmark runs
    from bot.renderer import Message, Renderer
    from bot.storage import Storage
    from conversations import Case, Knowledge

# Only the standard library at module level: the memory children import exactly what they measure.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # a checkout without the editable install works too

from benchmarks.common import T0, heading, log, machine, pct, secs  # noqa: E402

MIB = 1024 * 1024
HORIZON_S = 30 * 24 * 3600.0  # pending reminders are spread over the next 30 days ...
LEAD_S = 3600.0  # ... starting an hour from now, so none falls due while measuring
RESULT = "RESULT "  # prefix of the one JSON line a child prints


async def open_storage(path: Path) -> Storage:
    """``Storage.open`` with a fresh encryption key, so sealing and opening stored cases and
    messages is part of every figure, as in production."""
    from bot.keys import Sealer, new_key
    from bot.storage import Storage

    return await Storage.open(path, Sealer((new_key(),)))


def peak_rss_bytes() -> int:
    """This process's peak resident set size (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


def ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:,.0f} ms"


def mib(n_bytes: float) -> str:
    return f"{n_bytes / MIB:,.1f} MiB"


@dataclass
class Summary:
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)

    def add(self, measure: str, ours: str, baseline: str, verdict: str = "") -> None:
        self.rows.append((measure, ours, baseline, verdict))

    def print(self) -> None:
        heading("SUMMARY")
        header = ("measure", "optout-bot", "baseline / comparison", "")
        widths = [max(len(r[i]) for r in [header, *self.rows]) for i in range(4)]
        for n, row in enumerate([header, *self.rows]):
            print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
            if n == 0:
                print("  ".join("-" * w for w in widths).rstrip())
        sys.stdout.flush()


# ============================================================================================
# 1. Memory and start-up: pending reminders in SQLite vs PTB's JobQueue
# ============================================================================================
#
# Both sides hold the same reminders: chat k (k = 0..n-1, chat id k+1) is due at
#   base + LEAD_S + rank(k) * HORIZON_S / n,   rank(k) = k * P mod n
# so due times are unrelated to chat ids, and the children regenerate them without a list.


def _stride(n: int) -> int:
    stride = 7919
    while math.gcd(stride, n) != 1:
        stride += 2
    return stride


def reminder_due(base: float, n: int, rank: int) -> float:
    return base + LEAD_S + rank * HORIZON_S / n


def reminders_by_chat(base: float, n: int) -> Iterator[tuple[int, float]]:
    stride = _stride(n)
    for k in range(n):
        yield k + 1, reminder_due(base, n, (k * stride) % n)


def reminders_by_due(base: float, n: int) -> Iterator[tuple[int, float]]:
    inverse = pow(_stride(n), -1, n)
    for rank in range(n):
        yield (rank * inverse) % n + 1, reminder_due(base, n, rank)


def make_reminder_db(path: Path, n: int, base: float) -> None:
    """A database with ``n`` pending check-in reminders: migrations by ``Storage.open``, rows by
    one ``executemany`` (the schema is the project's, the insert path is not what is measured)."""

    async def migrate() -> None:
        storage = await open_storage(path)
        await storage.close()

    asyncio.run(migrate())
    db = sqlite3.connect(path)
    try:
        with db:
            db.executemany(
                "INSERT INTO reminders (chat_id, key, due_at) VALUES (?, 'checkin', ?)",
                reminders_by_chat(base, n),
            )
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()


def drop_page_cache(path: Path) -> bool:
    """Best effort: ask the kernel to forget the database file's cached pages (no root needed)."""
    if not hasattr(os, "posix_fadvise"):
        return False
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if file.exists():
            fd = os.open(file, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
    return True


# -- the children (fresh processes; they print one RESULT line) -------------------------------


def _emit(result: dict[str, Any]) -> None:
    result["peak_rss"] = peak_rss_bytes()
    print(RESULT + json.dumps(result), flush=True)
    sys.stderr.flush()
    os._exit(0)  # skip tearing down a million objects: not part of what is measured


def child_bare() -> None:
    _emit({"kind": "bare"})


def child_ours(n: int, db: str) -> None:
    started = time.perf_counter()
    import aiosqlite  # noqa: F401  (imported by bot.storage anyway; listed for clarity)

    from bot.scheduler import Scheduler
    from bot.storage import DueReminder

    imported = time.perf_counter() - started
    if n < 0:
        _emit({"kind": "ours-imports", "import_s": imported})

    async def ignore(reminder: DueReminder) -> None:  # nothing falls due while measuring
        raise AssertionError(f"reminder {reminder.id} fell due during the measurement")

    def clock() -> datetime:
        return datetime.now(UTC)

    async def main() -> dict[str, Any]:
        t0 = time.perf_counter()
        storage = await open_storage(Path(db))
        t1 = time.perf_counter()
        scheduler = Scheduler(storage, ignore, clock)
        await scheduler.start()
        t2 = time.perf_counter()
        wait = await scheduler.seconds_to_next()
        t3 = time.perf_counter()
        handled = await scheduler.run_due()  # what Scheduler.run does next (nothing is due)
        t4 = time.perf_counter()
        count = await storage.count("reminders")
        await storage.close()
        return {
            "kind": "ours",
            "n": count,
            "import_s": imported,
            "open_s": t1 - t0,
            "start_s": t2 - t1,
            "next_s": t3 - t2,
            "run_due_s": t4 - t3,
            "startup_s": t3 - t0,
            "seconds_to_next": wait,
            "handled": handled,
        }

    _emit(asyncio.run(main()))


def child_ptb(n: int, base: float, budget: float, order: str) -> None:
    started = time.perf_counter()
    from telegram.ext import ApplicationBuilder, ContextTypes

    if importlib.util.find_spec("apscheduler") is None:  # python-telegram-bot[job-queue]
        missing = "APScheduler missing: pip install 'python-telegram-bot[job-queue]'"
        print(RESULT + json.dumps({"kind": "ptb", "error": missing}), flush=True)
        os._exit(0)
    imported = time.perf_counter() - started

    async def main() -> dict[str, Any]:
        t0 = time.perf_counter()
        app = ApplicationBuilder().token("1:x").build()  # no network: nothing is initialised
        job_queue = app.job_queue
        if job_queue is None:
            missing = "no JobQueue (pip install 'python-telegram-bot[job-queue]')"
            return {"kind": "ptb", "error": missing}
        await job_queue.start()
        t1 = time.perf_counter()
        if n < 0:
            return {"kind": "ptb-imports", "import_s": imported, "build_s": t1 - t0}

        async def remind(context: ContextTypes.DEFAULT_TYPE) -> None:  # never runs here
            raise AssertionError("a job fell due during the measurement")

        rows = reminders_by_due(base, n) if order == "due" else reminders_by_chat(base, n)
        scheduled, exceeded = 0, False
        deadline = time.perf_counter() + budget
        for chat_id, due in rows:
            job_queue.run_once(
                remind, datetime.fromtimestamp(due, UTC), chat_id=chat_id, name=f"{chat_id}:checkin"
            )
            scheduled += 1
            if scheduled % 1000 == 0:
                if time.perf_counter() > deadline:
                    exceeded = True
                    break
                if scheduled % 100_000 == 0:
                    spent = time.perf_counter() - t1
                    print(f"{'':10}PTB child: {scheduled:,} jobs in {spent:.1f}s", file=sys.stderr)
        t2 = time.perf_counter()
        # add_job queued one scheduler wake-up per job (call_soon_threadsafe); let them run.
        settled: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon_threadsafe(settled.set_result, None)
        await settled
        t3 = time.perf_counter()
        return {
            "kind": "ptb",
            "n": n,
            "scheduled": scheduled,
            "exceeded": exceeded,
            "import_s": imported,
            "build_s": t1 - t0,
            "schedule_s": t2 - t1,
            "settle_s": t3 - t2,
            "startup_s": t3 - t1,
            "jobs": len(job_queue.scheduler.get_jobs()),
        }

    _emit(asyncio.run(main()))


def run_child(args: list[str], timeout: float) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", *args]
    started = time.perf_counter()
    try:
        done = subprocess.run(
            command,
            capture_output=False,
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


def bench_memory(
    tmp: Path, sizes: list[int], budget: float, order: str, skip_ptb: bool, summary: Summary
) -> None:
    heading("1. Memory and start-up: pending reminders in SQLite vs PTB JobQueue")
    print(
        "  ours: fresh process; time = Storage.open + Scheduler.start + first seconds_to_next;\n"
        "        'cold' after dropping the DB file from the page cache (best effort), then warm.\n"
        f"  PTB:  fresh process; Application (token '1:x', no network), job_queue.start(), then\n"
        f"        N x run_once(datetime) in {order} order (chat_id, name '<chat>:checkin'),\n"
        "        then the scheduler's queued wake-ups drain; budget "
        f"{budget:.0f}s for the scheduling loop.\n"
        "  RSS:  peak (ru_maxrss) of that process; delta against a process that only imports\n"
        "        the same modules (and for PTB builds the Application and starts the JobQueue)."
    )
    base = time.time()
    bare = run_child(["bare"], 60)
    ours0 = run_child(["ours", "--n", "-1", "--db", "-"], 120)
    ptb0 = {} if skip_ptb else run_child(["ptb", "--n", "-1"], 120)
    base_ours, base_ptb = ours0.get("peak_rss", 0), ptb0.get("peak_rss", 0)
    log(f"empty Python process: peak RSS {mib(bare.get('peak_rss', 0))}")
    log(
        f"baseline, ours (imports bot.storage, bot.scheduler and what they import): peak RSS "
        f"{mib(base_ours)} (imports {secs(ours0.get('import_s', math.nan))})"
    )
    summary.add("empty Python process: peak RSS", mib(bare.get("peak_rss", 0)), "", "")
    summary.add(
        "imports only: peak RSS",
        mib(ours0.get("peak_rss", 0)),
        "PTB: " + (mib(ptb0["peak_rss"]) if "peak_rss" in ptb0 else "skipped"),
        "",
    )
    if "error" in ptb0:
        log(f"baseline, PTB: {ptb0['error']}")
    elif ptb0:
        log(
            f"baseline, PTB (imports telegram.ext; Application + JobQueue (APScheduler) started): "
            f"peak RSS {mib(base_ptb)} (imports {secs(ptb0['import_s'])}, "
            f"build+start {secs(ptb0['build_s'])})"
        )
    for n in sizes:
        db = tmp / f"reminders-{n}.sqlite3"
        log(f"N={n:,}: creating the SQLite file ...")
        t = time.perf_counter()
        make_reminder_db(db, n, base)
        log(
            f"N={n:,}: created in {secs(time.perf_counter() - t)}, "
            f"{db.stat().st_size / MIB:,.1f} MiB on disk"
        )
        dropped = drop_page_cache(db)
        cold = run_child(["ours", "--n", str(n), "--db", str(db)], 600)
        warm = run_child(["ours", "--n", str(n), "--db", str(db)], 600)
        for label, r in (("cold" if dropped else "first", cold), ("warm", warm)):
            if "error" in r:
                log(f"N={n:,} ours ({label}): {r['error']}")
                continue
            log(
                f"N={n:,} ours ({label}): start-up {secs(r['startup_s'])} "
                f"(open {secs(r['open_s'])}, start/release_claims {secs(r['start_s'])}, "
                f"seconds_to_next {secs(r['next_s'])}; then run_due {secs(r['run_due_s'])}); "
                f"peak RSS {mib(r['peak_rss'])} (+{mib(r['peak_rss'] - base_ours)} "
                f"over imports); {r['n']:,} reminders, next in {r['seconds_to_next']:.0f}s"
            )
        ours_ok = "error" not in cold and "error" not in warm
        if skip_ptb:
            ptb: dict[str, Any] = {"error": "skipped (--skip-ptb)"}
        else:
            log(f"N={n:,}: PTB JobQueue child (budget {budget:.0f}s) ...")
            ptb = run_child(
                [
                    "ptb",
                    "--n",
                    str(n),
                    "--base",
                    repr(base),
                    "--budget",
                    str(budget),
                    "--ptb-order",
                    order,
                ],
                timeout=2 * budget + 300,
            )
        if "error" in ptb:
            log(f"N={n:,} PTB: {ptb['error']}")
            ptb_time, ptb_rss = ptb["error"], "n/a"
        elif ptb["exceeded"]:
            rate = ptb["scheduled"] / ptb["schedule_s"]
            log(
                f"N={n:,} PTB: EXCEEDED the {budget:.0f}s budget: {ptb['scheduled']:,} of {n:,} "
                f"jobs scheduled in {secs(ptb['schedule_s'])} ({rate:,.0f} jobs/s; all {n:,} "
                f"would take >= {n / rate:,.0f}s); peak RSS {mib(ptb['peak_rss'])} at that point"
            )
            ptb_time = f"> {budget:.0f} s budget ({ptb['scheduled']:,} jobs done)"
            ptb_rss = f">= {mib(ptb['peak_rss'])} (partial)"
        else:
            log(
                f"N={n:,} PTB: start-up {secs(ptb['startup_s'])} (run_once x {n:,}: "
                f"{secs(ptb['schedule_s'])}, wake-ups drained: {secs(ptb['settle_s'])}); "
                f"peak RSS {mib(ptb['peak_rss'])} (+{mib(ptb['peak_rss'] - base_ptb)} "
                f"over its baseline, {(ptb['peak_rss'] - base_ptb) / n:,.0f} B/job); "
                f"{ptb['jobs']:,} jobs held"
            )
            ptb_time = secs(ptb["startup_s"])
            ptb_rss = f"{mib(ptb['peak_rss'])} (+{mib(ptb['peak_rss'] - base_ptb)})"
        if ours_ok:
            summary.add(
                f"N={n:,}: start-up (cold / warm)",
                f"{secs(cold['startup_s'])} / {secs(warm['startup_s'])}",
                f"PTB: {ptb_time}",
            )
            summary.add(
                f"N={n:,}: peak RSS (+ over imports)",
                f"{mib(warm['peak_rss'])} (+{mib(warm['peak_rss'] - base_ours)})",
                f"PTB: {ptb_rss}",
            )
        db.unlink(missing_ok=True)
        for suffix in ("-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)


# ============================================================================================
# Shared pieces for the live benchmarks (real clock, real renderer, fake transport)
# ============================================================================================


@dataclass(frozen=True)
class Sent:
    chat_id: int
    at: float  # epoch seconds (compared with due times)
    mono: float  # monotonic seconds (for rates)
    html: str


class RecordingTransport:
    """Accepts every message at once (or after ``latency`` seconds) and records when."""

    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self.sent: list[Sent] = []
        self._next_id = 0
        self.changed = asyncio.Event()

    async def _accept(self, chat_id: int, html: str) -> int:
        if self.latency:
            await asyncio.sleep(self.latency)
        self.sent.append(Sent(chat_id, time.time(), time.monotonic(), html))
        self.changed.set()
        self._next_id += 1
        return self._next_id

    async def send_message(self, chat_id: int, message: Message) -> int:
        return await self._accept(chat_id, message.html)

    async def edit_message(self, chat_id: int, message_id: int, message: Message) -> None:
        await self._accept(chat_id, message.html)

    async def send_document(self, chat_id: int, filename: str, content: bytes) -> None:
        await self._accept(chat_id, filename)

    async def wait_for(self, done: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), timeout=min(left, 0.5))
        return True


def utc_now() -> datetime:
    return datetime.now(UTC)


def at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def window_rates(times: Sequence[float], width: float = 1.0, step: float = 0.1) -> dict[str, float]:
    """Messages per ``width`` seconds: the exact maximum over every window [t, t+width) (and over
    windows 5 ms shorter, to tell an edge effect from a real excess), and the mean / minimum over
    windows starting every ``step`` seconds while sending went on."""
    ts = sorted(times)
    if not ts:
        return {"max": 0, "max_edge": 0, "mean": math.nan, "min": math.nan, "overall": math.nan}

    def most(width: float) -> int:
        best, j = 0, 0
        for i in range(len(ts)):
            while j < len(ts) and ts[j] < ts[i] + width:
                j += 1
            best = max(best, j - i)
        return best

    counts = []
    start = ts[0]
    while start + width <= ts[-1] + 1e-9:
        counts.append(sum(1 for t in ts if start <= t < start + width))
        start += step
    span = ts[-1] - ts[0]
    overall = len(ts) / span if span > 0 else math.nan
    return {
        "max": most(width),
        "max_edge": most(width - 0.005),
        "mean": sum(counts) / len(counts) if counts else overall,
        "min": min(counts) if counts else math.nan,
        "overall": overall,
    }


def bursts(times: Sequence[float], gap: float = 0.2) -> tuple[float, float, float]:
    """How sending is spread: median burst size, duration (s) and start-to-start period (s),
    a burst being sends less than ``gap`` seconds apart."""
    ts = sorted(times)
    groups: list[list[float]] = []
    for t in ts:
        if groups and t - groups[-1][-1] < gap:
            groups[-1].append(t)
        else:
            groups.append([t])
    full = groups[:-1] or groups  # the last burst may have been cut off by the end of the run
    periods = [b[0] - a[0] for a, b in itertools.pairwise(groups)]
    return (
        pct([len(g) for g in full], 50),
        pct([g[-1] - g[0] for g in full], 50),
        pct(periods, 50),
    )


async def stop(*tasks: asyncio.Task[Any]) -> None:
    for task in tasks:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
            log(f"warning: a background task had failed: {result!r}")


def _case(chat_id: int, now: datetime, **fields: Any) -> Case:
    from conversations import Case

    return Case(chat_id=chat_id, language="en", created_at=now, updated_at=now, **fields)


def code_case(chat_id: int, now: datetime, expires: datetime) -> Case:
    """A person who has Meta's code (step CODE): a ``code_left:30`` reminder says "30 minutes"."""
    from conversations import Platform, Step

    return _case(
        chat_id,
        now,
        step=Step.CODE,
        country="DE",
        platforms=(Platform.INSTAGRAM,),
        timezone="Europe/Berlin",
        letter_written_at=now - timedelta(minutes=20),
        form_submitted_at=now - timedelta(minutes=5),
        code_received_at=now,
        code_expires_at=expires,
    )


def waiting_case(chat_id: int, now: datetime) -> Case:
    """A person waiting for Meta's answer (step WAITING): the one who gets check-ins."""
    from conversations import Platform, Step

    return _case(
        chat_id,
        now,
        step=Step.WAITING,
        country="DE",
        platforms=(Platform.FACEBOOK,),
        timezone="Europe/Berlin",
        form_submitted_at=now - timedelta(days=1),
        code_entered_at=now - timedelta(days=1),
        deadline_at=now + timedelta(days=29),
        next_checkin_at=now + timedelta(days=2),
    )


# ============================================================================================
# 2. Due-to-sent lag with the scheduler and the outbox running as in production
# ============================================================================================


@dataclass(frozen=True)
class Load:
    count: int
    spread: float  # seconds over which the reminders fall due

    @property
    def rate(self) -> float:
        return self.count / self.spread

    def __str__(self) -> str:
        return f"{self.count:,} over {self.spread:g}s ({self.rate:,.0f}/s due)"


async def lag_run(
    tmp: Path, load: Load, renderer: Renderer, knowledge: Knowledge, latency: float
) -> dict[str, Any]:
    from bot.inbox import Inbox
    from bot.outbox import Outbox
    from bot.scheduler import Scheduler
    from conversations import CODE_LEFT, Schedule

    path = tmp / f"lag-{load.count}.sqlite3"
    storage = await open_storage(path)
    transport = RecordingTransport(latency)
    outbox = Outbox(storage, renderer, transport, utc_now)
    queued: dict[int, float] = {}

    async def after_commit(chat_id: int) -> None:  # production's wake_sender, plus a timestamp
        queued.setdefault(chat_id, time.time())
        outbox.wake()

    inbox = Inbox(storage, renderer, knowledge, after_commit, utc_now)
    scheduler = Scheduler(storage, inbox.handle_reminder, utc_now)
    inbox.on_scheduled = scheduler.wake
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
        tasks = [
            asyncio.create_task(scheduler.run(), name="scheduler"),
            asyncio.create_task(outbox.run(), name="outbox"),
        ]
        limit = outbox.limits.global_per_second
        timeout = (start - time.time()) + load.spread + load.count / limit * 1.5 + 30
        complete = await transport.wait_for(lambda: len(transport.sent) >= load.count, timeout)
        await stop(*tasks)
        left_reminders = await storage.count("reminders")
        left_outbox = await storage.count("outbox")
    finally:
        await storage.close()
    sent = {s.chat_id: s for s in transport.sent}
    lags = [sent[c].at - due[c] for c in chats if c in sent]
    to_queue = [queued[c] - due[c] for c in chats if c in queued]
    in_queue = [sent[c].at - queued[c] for c in chats if c in sent and c in queued]
    wrong = sum(1 for s in transport.sent if "30 minutes" not in s.html)
    rates = window_rates([s.mono for s in transport.sent])
    return {
        "complete": complete,
        "sent": len(transport.sent),
        "lags": lags,
        "to_queue": to_queue,
        "in_queue": in_queue,
        "rates": rates,
        "wrong": wrong,
        "left_reminders": left_reminders,
        "left_outbox": left_outbox,
        "limit": limit,
    }


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


async def bench_lag(
    tmp: Path,
    loads: list[Load],
    renderer: Renderer,
    knowledge: Knowledge,
    latency: float,
    summary: Summary,
) -> None:
    heading("2. Due-to-sent lag: Scheduler.run + Outbox.run on the real clock")
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
        r = await lag_run(tmp, load, renderer, knowledge, latency)
        lags, limit = r["lags"], r["limit"]
        ideal = rate_limited_lags(load, limit)
        rates = r["rates"]
        within = rates["max"] <= limit
        log(
            f"  sent {r['sent']:,}/{load.count:,}"
            + ("" if r["complete"] else " (TIMED OUT)")
            + f"; lag p50 {secs(pct(lags, 50))}, p99 {secs(pct(lags, 99))}, "
            f"max {secs(max(lags, default=math.nan))}"
        )
        log(
            f"  due -> queued p50 {ms(pct(r['to_queue'], 50))}, p99 {ms(pct(r['to_queue'], 99))}; "
            f"queued -> sent p50 {secs(pct(r['in_queue'], 50))}, p99 {secs(pct(r['in_queue'], 99))}"
        )
        log(
            f"  delivered {rates['mean']:.1f}/s (mean 1-s window while sending), max 1-s window "
            f"{rates['max']} (limit {limit}"
            + ("" if within else f", EXCEEDED; {rates['max_edge']} in any 0.995-s window")
            + "); baseline, "
            f"rate limit alone: lag p50 {secs(pct(ideal, 50))}, p99 {secs(pct(ideal, 99))}"
        )
        if r["wrong"] or r["left_reminders"] or r["left_outbox"]:
            log(
                f"  check: {r['wrong']} unexpected texts, {r['left_reminders']} reminders and "
                f"{r['left_outbox']} messages left over"
            )
        summary.add(
            f"lag {load}: p50 / p99",
            f"{secs(pct(lags, 50))} / {secs(pct(lags, 99))}",
            f"rate limit alone: {secs(pct(ideal, 50))} / {secs(pct(ideal, 99))}",
            f"{rates['mean']:.1f} msg/s, max window {rates['max']}"
            + ("" if within else f" > {limit}")
            + ("" if r["complete"] else ", INCOMPLETE"),
        )


# ============================================================================================
# 3. Throughput under a backlog: never more than 30 messages in any second
# ============================================================================================


async def bench_backlog(
    tmp: Path, backlog: int, duration: float, renderer: Renderer, latency: float, summary: Summary
) -> None:
    from bot.outbox import Limits, Outbox
    from conversations import Say

    heading(f"3. Throughput with a {backlog:,}-message backlog (rate limit 30/s)")
    print(
        f"  {backlog:,} 'help' replies for {backlog:,} chats are queued, then Outbox.run sends\n"
        f"  for {duration:g}s on the real clock. Windows: every [t, t+1s) on the transport's\n"
        "  clock (exact max; mean/min over windows starting every 0.1s). CPU: this process\n"
        "  (event loop + SQLite thread) while sending. Baseline: the same outbox with the limit\n"
        "  raised to 100,000/s for 3s (what the pipeline itself can do; it then reads the whole\n"
        "  queue per batch instead of 60 rows)."
    )
    storage = await open_storage(tmp / "backlog.sqlite3")
    try:
        now = utc_now()
        t = time.perf_counter()
        for chat in range(2_000_001, 2_000_001 + backlog):
            await storage.commit(_case(chat, now), [Say(message="help")])
        log(f"backlog: queued {backlog:,} messages in {secs(time.perf_counter() - t)}")
        transport = RecordingTransport(latency)
        outbox = Outbox(storage, renderer, transport, utc_now)
        cpu = time.process_time()
        task = asyncio.create_task(outbox.run(), name="outbox")
        await asyncio.sleep(duration)
        await stop(task)
        cpu = time.process_time() - cpu
        sent = len(transport.sent)
        limited = window_rates([s.mono for s in transport.sent])
        limit = outbox.limits.global_per_second
        verdict = "PASS" if limited["max"] <= limit else "FAIL"
        log(
            f"backlog: sent {sent:,} in {duration:g}s: max {limited['max']} / "
            f"mean {limited['mean']:.1f} / min {limited['min']} per 1-s window -> {verdict} "
            f"(limit {limit}/s"
            + ("" if verdict == "PASS" else f"; {limited['max_edge']} in any 0.995-s window")
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
        fast = RecordingTransport(latency)
        unlimited = Outbox(storage, renderer, fast, utc_now, Limits(global_per_second=100_000))
        task = asyncio.create_task(unlimited.run(), name="outbox-unlimited")
        await asyncio.sleep(3.0)
        await stop(task)
        capacity = window_rates([s.mono for s in fast.sent])
        log(
            f"backlog baseline (limit off): {len(fast.sent):,} sent in 3s, "
            f"{capacity['overall']:,.0f} msg/s while sending, max 1-s window {capacity['max']:,}"
        )
    finally:
        await storage.close()
    summary.add(
        f"backlog {backlog:,}: msg/s per 1-s window max / mean",
        f"{limited['max']} / {limited['mean']:.1f}",
        f"limit {limit}/s; limit off: {capacity['overall']:,.0f}/s",
        f"{verdict}; CPU {100 * cpu / duration:.0f}% of a core; {pattern.split(' (')[0]}",
    )


# ============================================================================================
# 4. Urgency: countdowns and replies jump a queue of check-ins
# ============================================================================================


async def bench_urgency(
    tmp: Path,
    checkins: int,
    urgent: int,
    renderer: Renderer,
    knowledge: Knowledge,
    latency: float,
    summary: Summary,
) -> None:
    from bot.outbox import Outbox
    from conversations import Say, checkin

    heading(f"4. Urgency: {urgent} countdowns / replies while {checkins:,} check-ins are queued")
    print(
        f"  {checkins:,} check-ins (urgency 'checkin', one per chat) are queued; the outbox runs\n"
        f"  2s, then at t0 {urgent} 'code_reminder' messages (urgency 'countdown') for other\n"
        f"  chats are committed and the outbox woken; then {urgent} 'help' replies ('reply').\n"
        "  Wait = sent - t0. Baseline: a first-in-first-out queue would send them after every\n"
        "  check-in still queued at t0 (backlog / 30 per s). Extra: 50 replies for chats spread\n"
        "  over the queue that have a check-in of their own queued: a chat's messages keep their\n"
        "  order, so each waits for its own check-in (baseline: that check-in's position / 30)."
    )
    storage = await open_storage(tmp / "urgency.sqlite3")
    transport = RecordingTransport(latency)
    outbox = Outbox(storage, renderer, transport, utc_now)
    limit = outbox.limits.global_per_second
    checkin_chats = range(3_000_001, 3_000_001 + checkins)
    try:
        now = utc_now()
        t = time.perf_counter()
        for chat in checkin_chats:
            case = waiting_case(chat, now)
            await storage.commit(case, [checkin(case, knowledge, False)])
        log(f"urgency: queued {checkins:,} check-ins in {secs(time.perf_counter() - t)}")
        task = asyncio.create_task(outbox.run(), name="outbox")
        await asyncio.sleep(2.0)
        countdown = Say(message="code_reminder", context={"minutes": 10}, urgency="countdown")
        reply = Say(message="help")
        rounds: list[tuple[str, Sequence[int] | None, Any, float]] = [
            ("countdown", range(4_000_001, 4_000_001 + urgent), countdown, 30.0),
            ("reply", range(5_000_001, 5_000_001 + urgent), reply, 30.0),
            ("reply, own check-in queued", None, reply, 20.0),
        ]
        for label, chosen, say, timeout in rounds:
            queue = [item.chat_id for item in await storage.pending(limit=10 * checkins)]
            backlog = len(queue)
            if chosen is None:  # chats spread evenly over the check-ins still queued
                step = max(1, len(queue) // urgent)
                chosen = queue[::step][:urgent]
            chats = list(chosen)
            position = {chat: queue.index(chat) if chat in queue else 0 for chat in chats}
            expected = renderer.message(say, "en").html  # (not the chat's own check-in)
            before = len(transport.sent)
            t0 = time.time()
            for chat in chats:
                await storage.commit(_case(chat, now), [say])
                outbox.wake()
            committed = time.time() - t0
            targets = set(chats)

            def all_sent(
                targets: set[int] = targets, before: int = before, html: str = expected
            ) -> bool:
                new = transport.sent[before:]
                got = sum(1 for s in new if s.chat_id in targets and s.html == html)
                return got >= len(targets)

            done = await transport.wait_for(all_sent, timeout)
            waits: list[float] = []
            overtook = 0
            for s in transport.sent[before:]:
                if s.chat_id in targets and s.html == expected:
                    waits.append(s.at - t0)
                elif len(waits) < len(targets) and 3_000_001 <= s.chat_id < 3_000_001 + checkins:
                    overtook += 1
            missing = len(targets) - len(waits)
            everything = waits + [math.inf] * missing
            p50, p99 = pct(everything, 50), pct(everything, 99)

            def show(value: float, timeout: float = timeout) -> str:
                return f"> {timeout:g} s" if math.isinf(value) else secs(value)

            if any(position.values()):
                own = sorted(position[c] / limit for c in chats)
                fifo_text = f"own check-in first: ~{pct(own, 50):.0f} s / ~{pct(own, 99):.0f} s"
            else:
                fifo_text = f"FIFO: ~{backlog / limit:.0f} s behind {backlog:,} queued"
            log(
                f"urgency '{label}': {len(waits)}/{len(targets)} sent"
                + ("" if done else f" within {timeout:g}s")
                + f"; wait p50 {show(p50)}, p99 {show(p99)} (commits took {ms(committed)}); "
                f"{overtook} check-ins went out meanwhile; {backlog:,} queued at t0; " + fifo_text
            )
            summary.add(
                f"wait: {len(targets)} x '{label}' p50 / p99",
                f"{show(p50)} / {show(p99)}"
                + ("" if done else f" ({len(waits)}/{len(targets)} in {timeout:g}s)"),
                fifo_text,
                f"{overtook} check-ins went first",
            )
            await asyncio.sleep(1.0)
        await stop(task)
    finally:
        await storage.close()


# ============================================================================================


def parse_loads(text: str) -> list[Load]:
    loads = []
    for part in text.split(","):
        count, _, spread = part.partition("/")
        loads.append(Load(int(count), float(spread or 10)))
    return loads


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--only", default="memory,lag,backlog,urgency", help="phases to run")
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
    # internal: the memory children
    parser.add_argument("--child", choices=("bare", "ours", "ptb"), help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--db", default="", help=argparse.SUPPRESS)
    parser.add_argument("--base", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--budget", type=float, default=300.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child == "bare":
        child_bare()
    elif args.child == "ours":
        child_ours(args.n, args.db)
    elif args.child == "ptb":
        child_ptb(args.n, args.base, args.budget, args.ptb_order)

    phases = {p.strip() for p in args.only.split(",") if p.strip()}
    unknown = phases - {"memory", "lag", "backlog", "urgency"}
    if unknown:
        parser.error(f"unknown phase(s): {', '.join(sorted(unknown))}")
    quick = args.quick
    sizes = [
        int(s) for s in (args.sizes or ("10000,100000" if quick else "100000,1000000")).split(",")
    ]
    loads = parse_loads(args.loads or ("100/10,600/10" if quick else "100/10,300/10,2000/10"))
    backlog = args.backlog or (3000 if quick else 10_000)
    duration = min(args.duration, 5.0) if quick else args.duration
    checkins = args.checkins or (1000 if quick else 3000)

    print(f"optout-bot reminder benchmarks -- {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {machine()}")
    if args.latency:
        print(f"fake transport latency: {args.latency * 1000:.0f} ms per call")
    summary = Summary()
    with tempfile.TemporaryDirectory(prefix="optout-bench-") as directory:
        tmp = Path(directory)
        try:
            if "memory" in phases:
                bench_memory(tmp, sizes, args.ptb_budget, args.ptb_order, args.skip_ptb, summary)
            if phases & {"lag", "backlog", "urgency"}:
                asyncio.run(live(tmp, phases, loads, backlog, duration, checkins, args, summary))
        except KeyboardInterrupt:
            print("\ninterrupted: partial results follow", flush=True)
        summary.print()
    print(f"\ntotal {time.perf_counter() - T0:.0f}s")
    return 0


async def live(
    tmp: Path,
    phases: set[str],
    loads: list[Load],
    backlog: int,
    duration: float,
    checkins: int,
    args: argparse.Namespace,
    summary: Summary,
) -> None:
    from bot.renderer import Renderer
    from conversations import load_knowledge

    t = time.perf_counter()
    knowledge = load_knowledge()
    renderer = Renderer(knowledge)
    log(f"renderer ready in {secs(time.perf_counter() - t)} (real knowledge file and templates)")
    if "lag" in phases:
        await bench_lag(tmp, loads, renderer, knowledge, args.latency, summary)
    if "backlog" in phases:
        await bench_backlog(tmp, backlog, duration, renderer, args.latency, summary)
    if "urgency" in phases:
        await bench_urgency(tmp, checkins, 50, renderer, knowledge, args.latency, summary)


if __name__ == "__main__":
    raise SystemExit(main())
