#!/usr/bin/env python3
"""Outbound rate at Telegram's limit: our outbox against python-telegram-bot's AIORateLimiter.

Run from the repository root (the project installed, plus the ``bench`` extra)::

    python benchmarks/sending.py            # 50 ms and 150 ms, 15 s each side: about 65 s
    python benchmarks/sending.py --quick    # 8 s each side: about 40 s
    python benchmarks/sending.py --latencies 0.15 --messages 3000 --seconds 30

What is measured: a stand-in Bot API server (a subprocess on 127.0.0.1, so its work does not
share this process's CPU or GIL) answers sendMessage, editMessageText, sendDocument and getMe
after a fixed latency (default 50 ms and 150 ms, roughly a real round trip) and records the
moment each sendMessage *arrives*, which is what Telegram's "30 messages per second" counts.
For each latency, two senders get the same work, over real HTTP (python-telegram-bot's httpx):

a) optout-bot: ``bot.outbox.Outbox`` with ``Limits()`` (30/s overall, per chat 3 then 1/s),
   the real ``Storage`` (SQLite in a temporary directory, sealed with a fresh key), the real
   ``Renderer`` and templates, and ``TelegramTransport`` over ``build_application``. A backlog
   of 1,500 check-ins (one per chat) is committed first; ``Outbox.run`` then runs for 15 s on the
   real clock. 3 s in, 50 "countdown" messages for 50 other chats are committed (each followed
   by ``outbox.wake()``), as the brain does while the backlog drains.
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
import contextlib
import json
import logging
import math
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for mypy only: nothing below is imported when the benchmark runs
    from bot.renderer import Renderer

# Only the standard library at module level: the stub server child imports nothing else.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # a checkout without the editable install works too

from benchmarks.common import T0, heading, log, machine, pct, secs  # noqa: E402

TOKEN = "123:bench"
BOT_ID = 123
LIMIT = 30  # Telegram: about 30 messages per second overall
GOAL_RATE = (28.0, 30.0)
GOAL_COUNTDOWN_P99 = 2.0  # seconds
BACKLOG_CHATS = 1_000_001  # first chat id of the backlog ...
COUNTDOWN_CHATS = 2_000_001  # ... and of the countdown messages
RECORDED = ("sendMessage", "editMessageText", "sendDocument")


@dataclass
class Summary:
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)

    def add(self, measure: str, ours: str, baseline: str, note: str = "") -> None:
        self.rows.append((measure, ours, baseline, note))

    def print(self) -> None:
        heading("SUMMARY")
        header = ("measure", "optout-bot Outbox", "PTB AIORateLimiter", "goal / note")
        widths = [max(len(r[i]) for r in [header, *self.rows]) for i in range(4)]
        for n, row in enumerate([header, *self.rows]):
            print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
            if n == 0:
                print("  ".join("-" * w for w in widths).rstrip())
        sys.stdout.flush()


# ============================================================================================
# The stand-in Bot API server (a child process: ``--stub-server``)
# ============================================================================================


def _parse(content_type: str, body: bytes) -> dict[str, Any]:
    """Bot API parameters as python-telegram-bot sends them (JSON, multipart or a form)."""
    if content_type.startswith("application/json"):
        return dict(json.loads(body or b"{}"))
    if content_type.startswith("multipart/form-data"):
        fields: dict[str, Any] = {}
        boundary = content_type.split("boundary=", 1)[1].encode()
        for part in body.split(b"--" + boundary):
            head, _, value = part.partition(b"\r\n\r\n")
            if b'name="' in head and b"filename=" not in head:
                name = head.split(b'name="', 1)[1].split(b'"', 1)[0].decode()
                fields[name] = value.rstrip(b"\r\n").decode("utf-8", "replace")
        return fields
    return {k: v[0] for k, v in urllib.parse.parse_qs(body.decode("utf-8")).items()}


def _answer(method: str, params: dict[str, Any], message_id: int) -> Any:
    if method == "getMe":
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Bench",
            "username": "bench_bot",
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
    if method in RECORDED:
        chat_id = int(params.get("chat_id", 0))
        message: dict[str, Any] = {
            "message_id": int(params.get("message_id", message_id)),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Bench"},
        }
        if method == "sendDocument":
            message["document"] = {"file_id": "f1", "file_unique_id": "u1", "file_name": "x"}
        else:
            message["text"] = str(params.get("text", ""))
        return message
    return True


def serve_stub() -> None:
    """Serve until stdin closes. ``/_reset?latency=S`` sets the latency and forgets what
    arrived; ``/_arrivals`` returns ``[[method, chat_id, epoch seconds], ...]``."""
    lock = threading.Lock()
    arrivals: list[tuple[str, int, float]] = []
    state = {"latency": 0.0, "message_id": 1000}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as api.telegram.org

        def do_POST(self) -> None:
            arrived = time.time()
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            path, _, query = self.path.partition("?")
            method = path.rsplit("/", 1)[-1]
            result: Any
            if method == "_reset":
                latency = float(urllib.parse.parse_qs(query).get("latency", ["0"])[0])
                with lock:
                    arrivals.clear()
                    state["latency"] = latency
                result = True
            elif method == "_arrivals":
                with lock:
                    result = list(arrivals)
            else:
                params = _parse(self.headers.get("Content-Type", ""), body)
                with lock:
                    state["message_id"] += 1
                    message_id = int(state["message_id"])
                    latency = float(state["latency"])
                    if method in RECORDED:
                        arrivals.append((method, int(params.get("chat_id", 0)), arrived))
                if latency:
                    time.sleep(latency)
                result = _answer(method, params, message_id)
            payload = json.dumps({"ok": True, "result": result}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST

        def log_message(self, format: str, *args: Any) -> None:
            return None

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256  # 30 connections opened at once must not wait for a SYN retry

        def handle_error(self, request: Any, client_address: Any) -> None:
            if not isinstance(sys.exc_info()[1], ConnectionError):  # a call cancelled at the end
                super().handle_error(request, client_address)

    server = Server(("127.0.0.1", 0), Handler)
    print(f"PORT {server.server_address[1]}", flush=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    sys.stdin.read()  # the parent closes our stdin when it is done
    server.shutdown()
    server.server_close()


class Stub:
    """The stub server child, seen from the benchmark."""

    def __init__(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--stub-server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line.startswith("PORT "):
            self.close()
            raise RuntimeError(f"the stub server did not start: {line!r}")
        self.port = int(line.split()[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def _call(self, name: str, **query: Any) -> Any:
        url = f"http://127.0.0.1:{self.port}/_{name}?{urllib.parse.urlencode(query)}"
        with urllib.request.urlopen(url, data=b"", timeout=30) as answer:
            return json.loads(answer.read())["result"]

    def reset(self, latency: float) -> None:
        self._call("reset", latency=latency)

    def arrivals(self) -> list[tuple[str, int, float]]:
        return [(m, int(c), float(t)) for m, c, t in self._call("arrivals")]

    def close(self) -> None:
        if self._proc.stdin is not None:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


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


@dataclass(frozen=True)
class Windows:
    max: int  # the most messages in any window [t, t + 1 s)
    max_edge: int  # ... in any window 5 ms shorter (tells an edge effect from an excess)
    later: int  # the most in any window starting 1 s or more after the first arrival
    first: int  # in the first second of sending
    mean: float  # over the steady part
    min: float
    overall: float  # messages / (last - first arrival)
    count: int


def windows(times: Sequence[float], width: float = 1.0, step: float = 0.1) -> Windows:
    """Messages per 1-s window: the exact maximum over every window starting at an arrival;
    mean and min over windows starting every ``step`` s, leaving out the first and last second
    (the start-up burst and the cut-off at the end)."""
    ts = sorted(times)
    if not ts:
        return Windows(0, 0, 0, 0, math.nan, math.nan, math.nan, 0)

    def most(w: float, since: float = -math.inf) -> int:
        best, j = 0, 0
        for i in range(len(ts)):
            if ts[i] < since:
                continue
            while j < len(ts) and ts[j] < ts[i] + w:
                j += 1
            best = max(best, j - i)
        return best

    def within(start: float) -> int:
        return sum(1 for t in ts if start <= t < start + width)

    counts: list[int] = []
    start = ts[0] + width
    while start + width <= ts[-1] - width + 1e-9:
        counts.append(within(start))
        start += step
    if not counts:  # too short for a steady part: every full window
        start = ts[0]
        while start + width <= ts[-1] + 1e-9:
            counts.append(within(start))
            start += step
    span = ts[-1] - ts[0]
    return Windows(
        max=most(width),
        max_edge=most(width - 0.005),
        later=most(width, since=ts[0] + width),
        first=within(ts[0]),
        mean=sum(counts) / len(counts) if counts else math.nan,
        min=min(counts) if counts else math.nan,
        overall=len(ts) / span if span > 0 else math.nan,
        count=len(ts),
    )


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


def utc_now() -> datetime:
    return datetime.now(UTC)


def _case(chat_id: int, now: datetime) -> Any:
    from conversations import Case

    return Case.new(chat_id, now).model_copy(update={"language": "en"})


async def _sleep_until(moment: float) -> None:
    await asyncio.sleep(max(0.0, moment - time.time()))


async def run_ours(
    stub: Stub,
    tmp: Path,
    latency: float,
    messages: int,
    countdowns: int,
    countdown_at: float,
    seconds: float,
    renderer: Renderer,
) -> Run:
    from bot.keys import Sealer, new_key
    from bot.outbox import Limits, Outbox
    from bot.storage import Storage
    from bot.telegram_adapter import TelegramTransport, build_application
    from conversations import Say

    storage = await Storage.open(tmp / f"outbox-{latency:g}.sqlite3", Sealer((new_key(),)))
    app = build_application(TOKEN, stub.base_url)
    try:
        await app.initialize()
        outbox = Outbox(storage, renderer, TelegramTransport(app), utc_now, Limits())
        checkin = Say(message="help", urgency="checkin")
        countdown = Say(message="help", urgency="countdown")
        t = time.perf_counter()
        now = utc_now()
        for chat in range(BACKLOG_CHATS, BACKLOG_CHATS + messages):
            await storage.commit(_case(chat, now), [checkin])
        log(f"ours: committed {messages:,} check-ins in {secs(time.perf_counter() - t)}")
        stub.reset(latency)
        cpu = time.process_time()
        started = time.time()
        task = asyncio.create_task(outbox.run(), name="outbox")
        await _sleep_until(started + countdown_at)
        committed: dict[int, float] = {}
        for chat in range(COUNTDOWN_CHATS, COUNTDOWN_CHATS + countdowns):
            await storage.commit(_case(chat, utc_now()), [countdown])
            committed[chat] = time.time()
            outbox.wake()
        await _sleep_until(started + seconds)
        task.cancel()
        results = await asyncio.gather(task, return_exceptions=True)
        cpu = time.process_time() - cpu
        errors: Counter[str] = Counter(
            type(r).__name__
            for r in results
            if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError)
        )
        left = await storage.count("outbox")
        log(f"ours: {outbox.delivered_count:,} delivered, {left:,} still queued at the end")
    finally:
        await app.shutdown()
        await storage.close()
    return Run("ours", started, seconds, stub.arrivals(), committed, cpu, errors)


async def run_ptb(
    stub: Stub,
    latency: float,
    messages: int,
    countdowns: int,
    countdown_at: float,
    seconds: float,
    text: str,
) -> Run:
    from telegram import LinkPreviewOptions
    from telegram.constants import ParseMode
    from telegram.ext import AIORateLimiter, ApplicationBuilder, Defaults

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
        errors: Counter[str] = Counter(
            type(r).__name__
            for r in results
            if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError)
        )
        log(f"PTB: {done:,} calls done, {len(calls) - done:,} still waiting at the end")
    finally:
        await app.shutdown()
    return Run("ptb", started, seconds, stub.arrivals(), called, cpu, errors)


async def bench_latency(
    stub: Stub,
    tmp: Path,
    latency: float,
    args: argparse.Namespace,
    renderer: Renderer,
    summary: Summary,
) -> None:
    from conversations import Say

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
            renderer,
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
        w = windows(run.message_times)
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


async def live(args: argparse.Namespace, tmp: Path, summary: Summary) -> None:
    from bot.renderer import Renderer
    from conversations import load_knowledge

    renderer = Renderer(load_knowledge())
    stub = Stub()
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
    parser.add_argument("--stub-server", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stub_server:
        serve_stub()
        return 0
    args.latencies = [float(x) for x in args.latencies.split(",") if x.strip()]
    if args.seconds is None:
        args.seconds = 8.0 if args.quick else 15.0
    if args.countdown_at >= args.seconds:
        parser.error("--countdown-at must be within --seconds")

    logging.getLogger().setLevel(logging.WARNING)  # counted per run (LogCounter), not printed
    print(f"optout-bot sending benchmark -- {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {machine()}")
    print(
        f"goals: {GOAL_RATE[0]:.0f}-{GOAL_RATE[1]:.0f} messages/s, never more than {LIMIT} in "
        f"any 1-s window, countdown p99 < {GOAL_COUNTDOWN_P99:g} s"
    )
    summary = Summary()
    with tempfile.TemporaryDirectory(prefix="optout-bench-") as directory:
        try:
            asyncio.run(live(args, Path(directory), summary))
        except KeyboardInterrupt:
            print("\ninterrupted: partial results follow", flush=True)
        summary.print()
    print(f"\ntotal {time.perf_counter() - T0:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
