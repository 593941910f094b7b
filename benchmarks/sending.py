#!/usr/bin/env python3
"""Outbound rate at Telegram's limit: our outbox against python-telegram-bot's AIORateLimiter.

Run from the repository root (the project installed, plus the ``bench`` and ``test`` extras)::

    python benchmarks/sending.py            # 50 ms and 150 ms, 15 s each side: about 65 s
    python benchmarks/sending.py --quick    # 8 s each side: about 40 s
    python benchmarks/sending.py --latencies 0.15 --messages 3000 --seconds 30

What is measured: a stand-in Bot API server (a subprocess on 127.0.0.1, so its work does not
share this process's CPU or GIL) answers sendMessage, editMessageText, sendDocument and getMe
after a fixed latency (default 50 ms and 150 ms, roughly a real round trip) and records the
moment each sendMessage *arrives*, which is what Telegram's "30 messages per second" counts.
For each latency, two senders get the same work, over real HTTP (python-telegram-bot's httpx):

a) optout-bot: the bot as ``optout-bot run`` builds it (``build_telegram``: the production
   assembly, ``TelegramTransport`` over ``build_application``), of which only the sender runs:
   ``bot.sender.Sender`` with the default limits (30/s overall, per chat 3 then 1/s), the real
   ``Storage`` (SQLite in a temporary directory, sealed with a fresh key), the real
   ``Renderer`` and templates. A backlog
   of 1,500 check-ins (one per chat) is committed first; ``Sender.run`` then runs for 15 s on the
   real clock. 3 s in, 50 "countdown" messages for 50 other chats are committed (each followed
   by ``sender.wake()``), as the brain does while the backlog drains.
b) baseline: python-telegram-bot's own ``AIORateLimiter`` (30 per 1 s overall) on an
   Application pointed at the same server: the same 1,500 messages (the same rendered text) as
   concurrent ``send_message`` calls started in order (asyncio.gather, FIFO), and 3 s in, the
   same 50 countdown messages as 50 more calls.

Reported per latency: messages per second in sliding 1-second windows at the server (max over
every window; mean and min over the steady part, i.e. without the first and the last second),
PASS/FAIL for "no 1-s window over 30", and the countdown messages' lag (commit or call -> arrival)
p50/p99. Goals: 28-30/s, never over 30, countdown p99 < 2 s. The backlog is larger than either
side can send in the run, so both are at the limit all the way; what is still queued at the end
is dropped. Not a test: nothing here fails the build; read the figures (benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # a checkout without the editable install works too

from telegram import LinkPreviewOptions  # noqa: E402
from telegram.constants import ParseMode  # noqa: E402
from telegram.ext import AIORateLimiter, ApplicationBuilder, Defaults  # noqa: E402

from benchmarks._support.botapi import TOKEN, StubServer  # noqa: E402
from benchmarks._support.cases import new_case  # noqa: E402
from benchmarks._support.report import Table, banner, heading, log, run_in_temp, secs  # noqa: E402
from benchmarks._support.shell import failures, sealer_in, settings_in, utc_now  # noqa: E402
from benchmarks._support.stats import Windows, pct, windows  # noqa: E402
from bot.__main__ import build_telegram  # noqa: E402
from bot.renderer import Renderer  # noqa: E402
from conversations import Say, load_knowledge  # noqa: E402

LIMIT = 30  # Telegram: about 30 messages per second overall
GOAL_RATE = (28.0, 30.0)
GOAL_COUNTDOWN_P99 = 2.0  # seconds
BACKLOG_CHATS = 1_000_001  # first chat id of the backlog ...
COUNTDOWN_CHATS = 2_000_001  # ... and of the countdown messages


# ============================================================================================
# Figures
# ============================================================================================


@dataclass
class Run:
    """What one sender did in one run."""

    label: str
    started: float  # epoch seconds: the sender started
    seconds: float
    arrivals: list[tuple[str, int, float]]
    countdown_sent_at: dict[int, float]  # chat -> epoch seconds of its commit (or call)
    cpu: float  # this process's CPU seconds while sending
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def message_times(self) -> list[float]:
        return sorted(t for m, _, t in self.arrivals if m == "sendMessage")

    def lags(self) -> list[float]:
        """Commit -> arrival of each countdown message; inf for one that never arrived."""
        first: dict[int, float] = {}
        for method, chat, t in self.arrivals:
            if method == "sendMessage" and chat in self.countdown_sent_at:
                first.setdefault(chat, t)
        return [
            first[chat] - sent if chat in first else math.inf
            for chat, sent in self.countdown_sent_at.items()
        ]


def verdict(w: Windows) -> str:
    """PASS, or FAIL with where: by an edge (< 5 ms), only in the first second, or later too."""
    if w.max <= LIMIT:
        return "PASS"
    if w.max_edge <= LIMIT:
        return f"FAIL by an edge (0.995-s windows: max {w.max_edge})"
    if w.later <= LIMIT:
        return f"FAIL: first second only (later windows max {w.later})"
    return f"FAIL: also later (later windows max {w.later})"


def show_lag(value: float, horizon: float) -> str:
    return f"> {horizon:.0f} s" if math.isinf(value) else secs(value)


# ============================================================================================
# The two senders
# ============================================================================================


class LogCounter(logging.Handler):
    """Counts the warnings and errors logged while sending (by logger and message template)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.seen[f"{record.levelname} {record.name}: {record.msg}"] += 1


async def _sleep_until(moment: float) -> None:
    await asyncio.sleep(max(0.0, moment - time.time()))


async def run_ours(
    stub: StubServer,
    tmp: Path,
    latency: float,
    messages: int,
    countdowns: int,
    countdown_at: float,
    seconds: float,
) -> Run:
    settings = settings_in(tmp / f"outbox-{latency:g}", telegram_api_url=stub.base_url)
    bot = await build_telegram(settings, sealer_in(settings))  # only its sender runs here
    storage, sender = bot.storage, bot.services.sender
    try:
        await bot.initialize()
        checkin = Say(message="help", urgency="checkin")
        countdown = Say(message="help", urgency="countdown")
        t = time.perf_counter()
        now = utc_now()
        for chat in range(BACKLOG_CHATS, BACKLOG_CHATS + messages):
            await storage.commit(new_case(chat, now), [checkin])
        log(f"ours: committed {messages:,} check-ins in {secs(time.perf_counter() - t)}")
        stub.reset(latency)
        cpu = time.process_time()
        started = time.time()
        task = asyncio.create_task(sender.run(), name="sender")
        await _sleep_until(started + countdown_at)
        committed: dict[int, float] = {}
        for chat in range(COUNTDOWN_CHATS, COUNTDOWN_CHATS + countdowns):
            await storage.commit(new_case(chat, utc_now()), [countdown])
            committed[chat] = time.time()
            sender.wake()
        await _sleep_until(started + seconds)
        task.cancel()
        results = await asyncio.gather(task, return_exceptions=True)
        cpu = time.process_time() - cpu
        errors = failures(results)
        left = await storage.count("outbox")
        log(f"ours: {sender.delivered_count:,} delivered, {left:,} still queued at the end")
    finally:
        await bot.stop()
    return Run("ours", started, seconds, stub.arrivals(), committed, cpu, errors)


async def run_ptb(
    stub: StubServer,
    latency: float,
    messages: int,
    countdowns: int,
    countdown_at: float,
    seconds: float,
    text: str,
) -> Run:
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(stub.base_url)
        .updater(None)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .rate_limiter(AIORateLimiter(overall_max_rate=LIMIT, overall_time_period=1))
        .build()
    )
    try:
        await app.initialize()
        stub.reset(latency)
        cpu = time.process_time()
        started = time.time()
        calls = [
            asyncio.ensure_future(app.bot.send_message(chat, text))
            for chat in range(BACKLOG_CHATS, BACKLOG_CHATS + messages)
        ]
        everything = asyncio.gather(*calls, return_exceptions=True)
        await _sleep_until(started + countdown_at)
        called: dict[int, float] = {}
        for chat in range(COUNTDOWN_CHATS, COUNTDOWN_CHATS + countdowns):
            called[chat] = time.time()
            calls.append(asyncio.ensure_future(app.bot.send_message(chat, text)))
        await _sleep_until(started + seconds)
        done = sum(1 for c in calls if c.done())
        for c in calls:
            c.cancel()
        results = [*await everything, *await asyncio.gather(*calls, return_exceptions=True)]
        cpu = time.process_time() - cpu
        errors = failures(results)
        log(f"PTB: {done:,} calls done, {len(calls) - done:,} still waiting at the end")
    finally:
        await app.shutdown()
    return Run("ptb", started, seconds, stub.arrivals(), called, cpu, errors)


async def bench_latency(
    stub: StubServer,
    tmp: Path,
    latency: float,
    args: argparse.Namespace,
    renderer: Renderer,
    summary: Table,
) -> None:
    heading(f"stub latency {latency * 1000:.0f} ms: {args.messages:,} check-ins + 50 countdowns")
    text = renderer.message(Say(message="help"), "en").html
    counter = LogCounter()
    logging.getLogger().addHandler(counter)
    try:
        ours = await run_ours(
            stub,
            tmp,
            latency,
            args.messages,
            args.countdowns,
            args.countdown_at,
            args.seconds,
        )
        ours_log, counter.seen = counter.seen, Counter()
        ptb = await run_ptb(
            stub, latency, args.messages, args.countdowns, args.countdown_at, args.seconds, text
        )
        ptb_log = counter.seen
    finally:
        logging.getLogger().removeHandler(counter)

    tag = f"{latency * 1000:.0f} ms"
    figures: dict[str, tuple[Windows, list[float]]] = {}
    for run, logged in ((ours, ours_log), (ptb, ptb_log)):
        w = windows(run.message_times, trim=1.0)  # mean, min: without the first and last s
        lags = run.lags()
        figures[run.label] = (w, lags)
        name = "ours" if run.label == "ours" else "PTB "
        arrived = sum(1 for lag in lags if not math.isinf(lag))
        horizon = run.seconds - args.countdown_at
        log(
            f"{name}: {w.count:,} messages arrived in {run.seconds:g}s; per 1-s window max "
            f"{w.max} (first second {w.first}, windows from 1 s on {w.later}), "
            f"steady mean {w.mean:.1f}, min {w.min:.0f}; "
            f"{w.overall:.1f}/s overall -> {verdict(w)}"
        )
        log(
            f"{name}: countdown lag p50 {show_lag(pct(lags, 50), horizon)}, p99 "
            f"{show_lag(pct(lags, 99), horizon)} ({arrived}/{len(lags)} arrived); CPU "
            f"{100 * run.cpu / run.seconds:.0f}% of a core, "
            f"{1000 * run.cpu / max(w.count, 1):.2f} ms per message"
        )
        for problem, n in sorted({**run.errors, **logged}.items()):
            log(f"{name}: logged/raised {n} x {problem}")

    (ow, olags), (pw, plags) = figures["ours"], figures["ptb"]
    horizon = args.seconds - args.countdown_at
    queued_at_countdown = max(0.0, args.messages - LIMIT * args.countdown_at)
    summary.add(
        f"{tag}: msg/s per 1-s window max / mean / min",
        f"{ow.max} / {ow.mean:.1f} / {ow.min:.0f}",
        f"{pw.max} / {pw.mean:.1f} / {pw.min:.0f}",
        f"goal {GOAL_RATE[0]:.0f}-{GOAL_RATE[1]:.0f}/s, never over {LIMIT}",
    )
    summary.add(
        f"{tag}: no 1-s window over {LIMIT}",
        verdict(ow),
        verdict(pw),
        f"first second: {ow.first} vs {pw.first}",
    )
    summary.add(
        f"{tag}: {args.countdowns} countdowns, lag p50 / p99",
        f"{show_lag(pct(olags, 50), horizon)} / {show_lag(pct(olags, 99), horizon)}",
        f"{show_lag(pct(plags, 50), horizon)} / {show_lag(pct(plags, 99), horizon)}",
        f"goal p99 < {GOAL_COUNTDOWN_P99:g} s; FIFO ~{queued_at_countdown / LIMIT:.0f} s",
    )
    summary.add(
        f"{tag}: delivered in {args.seconds:g}s, CPU ms/message",
        f"{ow.count:,}, {1000 * ours.cpu / max(ow.count, 1):.2f}",
        f"{pw.count:,}, {1000 * ptb.cpu / max(pw.count, 1):.2f}",
        "this process only (the server is a child)",
    )


async def live(args: argparse.Namespace, tmp: Path, summary: Table) -> None:
    renderer = Renderer(load_knowledge())  # for the text PTB's side sends
    stub = StubServer()
    log(f"stub Bot API server on {stub.base_url} (a child process)")
    try:
        for latency in args.latencies:
            await bench_latency(stub, tmp, latency, args, renderer, summary)
    finally:
        stub.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--latencies",
        default="0.05,0.15",
        help="seconds the server waits before answering, comma-separated (default 0.05,0.15)",
    )
    parser.add_argument("--messages", type=int, default=1500, help="backlog (default 1500)")
    parser.add_argument("--seconds", type=float, default=None, help="per run (default 15)")
    parser.add_argument("--countdowns", type=int, default=50, help="urgent messages (50)")
    parser.add_argument("--countdown-at", type=float, default=3.0, help="seconds in (default 3)")
    parser.add_argument("--quick", action="store_true", help="8 s per run (a smoke run)")
    args = parser.parse_args(argv)
    args.latencies = [float(x) for x in args.latencies.split(",") if x.strip()]
    if args.seconds is None:
        args.seconds = 8.0 if args.quick else 15.0
    if args.countdown_at >= args.seconds:
        parser.error("--countdown-at must be within --seconds")

    logging.getLogger().setLevel(logging.WARNING)  # counted per run (LogCounter), not printed
    banner("optout-bot sending benchmark")
    print(
        f"goals: {GOAL_RATE[0]:.0f}-{GOAL_RATE[1]:.0f} messages/s, never more than {LIMIT} in "
        f"any 1-s window, countdown p99 < {GOAL_COUNTDOWN_P99:g} s"
    )
    summary = Table(("measure", "optout-bot Sender", "PTB AIORateLimiter", "goal / note"))
    return run_in_temp(lambda tmp: asyncio.run(live(args, tmp, summary)), summary)


if __name__ == "__main__":
    raise SystemExit(main())
