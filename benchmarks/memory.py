"""1. memory: start-up and peak RSS with many pending reminders, against PTB's JobQueue.

Our side: a fresh process opens a database of N pending reminders (``Storage.open``), starts
the scheduler (``Scheduler.start``) and asks for the first ``seconds_to_next``; once with the
file dropped from the page cache (best effort), then warm. PTB's side: a fresh process holds
the same reminders as ``run_once`` jobs of its JobQueue (APScheduler). Baselines: an empty
Python process, and processes that only import the same modules.

Each measurement is a child process: ``python -m benchmarks.memory bare|ours|ptb ...``. Only
the standard library at module level: a child imports exactly what it measures.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import math
import os
import sqlite3
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks._support.child import emit, run_child
from benchmarks._support.report import MIB, Table, heading, log, mib, secs

if TYPE_CHECKING:  # for mypy only: a child imports these when it measures them
    from bot.storage import Storage

CHILD = "benchmarks.memory"
HORIZON_S = 30 * 24 * 3600.0  # pending reminders are spread over the next 30 days ...
LEAD_S = 3600.0  # ... starting an hour from now, so none falls due while measuring


async def open_storage(path: Path) -> Storage:
    """``Storage.open`` with a fresh encryption key, as in production (imported here, in the
    child, so its imports are part of what it measures)."""
    from bot.keys import Sealer, new_key
    from bot.storage import Storage

    return await Storage.open(path, Sealer((new_key(),)))


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


def child_ours(n: int, db: str) -> None:
    started = time.perf_counter()
    import aiosqlite  # noqa: F401  (imported by bot.storage anyway; listed for clarity)

    from bot.scheduler import Scheduler
    from bot.storage import DueReminder

    imported = time.perf_counter() - started
    if n < 0:
        emit({"kind": "ours-imports", "import_s": imported})

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

    emit(asyncio.run(main()))


def child_ptb(n: int, base: float, budget: float, order: str) -> None:
    started = time.perf_counter()
    from telegram.ext import ApplicationBuilder, ContextTypes

    if importlib.util.find_spec("apscheduler") is None:  # python-telegram-bot[job-queue]
        missing = "APScheduler missing: pip install 'python-telegram-bot[job-queue]'"
        emit({"kind": "ptb", "error": missing}, rss=False)
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

        async def remind(context: ContextTypes.DEFAULT_TYPE) -> None:  # noqa: ARG001 - never runs
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

    emit(asyncio.run(main()))


def child_main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="a memory child (see benchmarks/reminders.py)")
    parser.add_argument("kind", choices=("bare", "ours", "ptb"))
    parser.add_argument("--n", type=int, default=0)
    parser.add_argument("--db", default="")
    parser.add_argument("--base", type=float, default=0.0)
    parser.add_argument("--budget", type=float, default=300.0)
    parser.add_argument("--ptb-order", choices=("due", "chat"), default="due")
    args = parser.parse_args(argv)
    if args.kind == "bare":
        emit({"kind": "bare"})
    elif args.kind == "ours":
        child_ours(args.n, args.db)
    else:
        child_ptb(args.n, args.base, args.budget, args.ptb_order)


# -- the parent ---------------------------------------------------------------------------------


def run(
    tmp: Path, sizes: list[int], budget: float, order: str, skip_ptb: bool, summary: Table
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
    bare = run_child(CHILD, ["bare"], 60)
    ours0 = run_child(CHILD, ["ours", "--n", "-1", "--db", "-"], 120)
    ptb0 = {} if skip_ptb else run_child(CHILD, ["ptb", "--n", "-1"], 120)
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
        cold = run_child(CHILD, ["ours", "--n", str(n), "--db", str(db)], 600)
        warm = run_child(CHILD, ["ours", "--n", str(n), "--db", str(db)], 600)
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
            args = ["ptb", "--n", str(n), "--base", repr(base), "--budget", str(budget)]
            ptb = run_child(CHILD, [*args, "--ptb-order", order], timeout=2 * budget + 300)
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


if __name__ == "__main__":
    child_main()
