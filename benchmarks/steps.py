#!/usr/bin/env python3
"""The cost of one journey step through the whole stack, against a bare PTB ConversationHandler.

Run from the repository root (the project installed, plus the ``bench`` extra)::

    python benchmarks/steps.py              # 300 chats x 7 steps, 3 rounds per side: ~75 s
    python benchmarks/steps.py --quick      # 100 chats, 1 round: ~10 s, a smoke run
    python benchmarks/steps.py --profile    # and a cProfile summary of the full stack (+20 s)

What is measured: N chats (default 300) walk the same 7-step script: "/start", the platform
button, the country typed ("Germany"), the e-mail typed, a reason button, "done", and "skip"
for the own words (which writes the letter: a message and a .txt document). The updates are
the raw JSON Telegram sends, in sequential batches of 50 updates from 50 different chats (as
one getUpdates returns them): batch k holds step k of 50 chats. Bot API calls are answered at
once by an in-process stub (a PTB ``BaseRequest``, no network), the same for every side.

a) optout-bot, the whole stack: ``build_telegram(settings, sealer, request=stub,
   delivery="inline")`` from ``bot.__main__``, each batch handed to ``bot.ingress.accept``:
   parsing, the inbox, the brain, the encrypted commit to SQLite (a temporary directory), and
   the delivery of each reply (rendering, the outbox rows, the Bot API call) before it returns.
b) baseline: a bare python-telegram-bot ``ConversationHandler`` with the same states, each
   callback answering with one ``reply_text`` (and ``answer()`` for a button), fed the same
   updates through ``Update.de_json`` + ``app.process_update`` (concurrently within a batch, as
   the ingress does), without persistence and with ``PicklePersistence`` (a temporary file,
   saved with ``update_persistence()`` after each batch, i.e. before the batch would be
   confirmed to Telegram; ``--pickle-save end`` saves only at the end instead).
c) the same bare PTB, but sending what the full stack sends at each step (``SAME_REPLIES``:
   1.43 messages a step, buttons where it has them, the letter's file), texts of the full
   stack's mean length: what the replies themselves cost, apart from the machinery around them.

Reported: steps per second (wall clock), CPU milliseconds per step (``time.process_time``: the
whole process, SQLite's thread included), Bot API calls per step, and the ratio full stack /
each baseline in steps per second (goal >= 0.6x against b). Each round builds every side
afresh and warms it up with 50 chats (not counted); the sides take turns, and the fastest of 3
rounds is reported.
With ``--profile``, one more full-stack round runs under cProfile: the top 15 functions by
cumulative time and the share of named parts (sealing, validation, rendering, commits, PTB).
Not a test: nothing here fails the build; read the figures (benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import itertools
import logging
import math
import os
import pstats
import sys
import time
import warnings
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # a checkout without the editable install works too

from telegram import (  # noqa: E402
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode  # noqa: E402
from telegram.ext import (  # noqa: E402
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    Defaults,
    MessageHandler,
    PicklePersistence,
    filters,
)

from benchmarks._support.botapi import BOT_ID, TOKEN  # noqa: E402
from benchmarks._support.report import Table, banner, heading, log, run_in_temp  # noqa: E402
from benchmarks._support.shell import DATE, StubAPI, sealer_in, settings_in  # noqa: E402
from bot.__main__ import build_telegram  # noqa: E402
from conversations import Step  # noqa: E402

GOAL_RATIO = 0.6
BATCH = 50
#: One chat's journey: (kind, value) -- a typed text (or command) or a button press.
SCRIPT: tuple[tuple[str, str], ...] = (
    ("text", "/start"),
    ("press", "platforms:facebook"),
    ("text", "Germany"),
    ("text", "a@example.org"),
    ("press", "reasons:children"),
    ("press", "reasons:done"),
    ("press", "own_words:skip"),
)


# ============================================================================================
# The updates
# ============================================================================================


class Updates:
    """Raw updates as getUpdates returns them, numbered in one sequence."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)

    def _chat(self, chat_id: int) -> dict[str, Any]:
        return {"id": chat_id, "type": "private", "first_name": "Bench"}

    def _user(self, chat_id: int) -> dict[str, Any]:
        return {"id": chat_id, "is_bot": False, "first_name": "Bench", "language_code": "en"}

    def make(self, chat_id: int, kind: str, value: str) -> dict[str, Any]:
        update_id = next(self._ids)
        if kind == "press":
            return {
                "update_id": update_id,
                "callback_query": {
                    "id": str(update_id),
                    "from": self._user(chat_id),
                    "chat_instance": "ci",
                    "data": value,
                    "message": {
                        "message_id": update_id + 10_000,
                        "date": DATE,
                        "chat": self._chat(chat_id),
                        "from": {"id": BOT_ID, "is_bot": True, "first_name": "Bench"},
                        "text": "(earlier message)",
                    },
                },
            }
        message: dict[str, Any] = {
            "message_id": update_id + 10_000,
            "date": DATE,
            "chat": self._chat(chat_id),
            "from": self._user(chat_id),
            "text": value,
        }
        if value.startswith("/"):
            length = len(value.split()[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return {"update_id": update_id, "message": message}


# ============================================================================================
# Driving a side and the figures
# ============================================================================================

Accept = Callable[[list[dict[str, Any]]], Awaitable[None]]


@dataclass
class Result:
    label: str
    steps: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    per_step_cpu: list[float] = field(default_factory=lambda: [0.0] * len(SCRIPT))
    per_step_count: list[int] = field(default_factory=lambda: [0] * len(SCRIPT))
    calls: Counter[str] = field(default_factory=Counter)
    ended: Counter[str] = field(default_factory=Counter)  # the steps the chats ended at

    @property
    def rate(self) -> float:
        return self.steps / self.wall if self.wall else math.nan

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu / self.steps if self.steps else math.nan


async def walk(
    accept: Accept,
    updates: Updates,
    chats: Sequence[int],
    batch: int,
    result: Result | None = None,
    after_batch: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Every group of ``batch`` chats walks the script, one batch per step."""
    for first in range(0, len(chats), batch):
        group = chats[first : first + batch]
        for index, (kind, value) in enumerate(SCRIPT):
            raw = [updates.make(chat, kind, value) for chat in group]
            cpu, wall = time.process_time(), time.perf_counter()
            await accept(raw)
            if after_batch is not None:
                await after_batch()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            if result is not None:
                result.steps += len(raw)
                result.wall += wall
                result.cpu += cpu
                result.per_step_cpu[index] += cpu
                result.per_step_count[index] += len(raw)


def chat_range(start: int, count: int) -> list[int]:
    return list(range(start, start + count))


async def run_full(
    tmp: Path, chats: int, batch: int, profiler: cProfile.Profile | None = None
) -> Result:
    """The whole stack, built afresh in ``tmp``. With ``profiler``, the measured walk runs
    under it (its figures are then distorted and only the profile is of use)."""
    settings = settings_in(tmp, input_burst=100_000)
    stub = StubAPI()
    bot = await build_telegram(settings, sealer_in(settings), request=stub, delivery="inline")
    await bot.initialize()
    updates = Updates()

    async def accept(raw: list[dict[str, Any]]) -> None:
        await bot.ingress.accept(raw)

    result = Result("full stack")
    try:
        await walk(accept, updates, chat_range(9_000_001, batch), batch)  # warm-up
        stub.calls.clear()
        measured = chat_range(1_000_001, chats)
        if profiler is not None:
            profiler.enable()
        try:
            await walk(accept, updates, measured, batch, result)
        finally:
            if profiler is not None:
                profiler.disable()
        result.calls = Counter(stub.calls)
        for chat in measured:
            case = await bot.storage.load(chat)
            result.ended[case.step.value if case else "none"] += 1
        if result.ended[Step.LETTER.value] != chats:
            log(f"warning: not every chat reached step 'letter': {dict(result.ended)}")
    finally:
        await bot.stop()
    return result


#: What the full stack sends at each step of the script: its messages (True: with buttons)
#: and whether a document comes too. The "same replies" baseline sends as much.
SAME_REPLIES: tuple[tuple[tuple[bool, ...], bool], ...] = (
    ((False, True), False),  # /start: the welcome, the platform question
    ((True,), False),  # the country question
    ((True, False), False),  # the country confirmed, the e-mail question
    ((True,), False),  # the reasons question
    ((True,), False),  # the reasons question again, the tick moved
    ((True,), False),  # the own-words question
    ((False, True), True),  # the letter, the form help; the letter as a file
)
#: About the length of the full stack's messages in this script (their mean, in characters).
SAME_REPLY_TEXT = "<b>A question</b> " + "and some words around it " * 24


async def run_ptb(
    tmp: Path, chats: int, batch: int, pickle: str | None, same_replies: bool = False
) -> Result:
    """A bare ConversationHandler with the same states, one reply per step (``same_replies``:
    as many messages, buttons and documents as the full stack sends, ``SAME_REPLIES``)."""
    platforms, country, email, reasons, own_words, letter = range(6)
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(f"Option {n}", callback_data=f"x:{n}")] for n in range(4)]
    )

    def reply(text: str, answer: bool, then: int, index: int = 0) -> Any:
        messages, document = SAME_REPLIES[index] if same_replies else ((False,), False)

        async def callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
            if answer and update.callback_query is not None:
                await update.callback_query.answer()
                value = update.callback_query.data
            else:
                value = update.effective_message.text if update.effective_message else None
            if context.user_data is not None:
                context.user_data[text] = value
            message = update.effective_message
            if message is not None:
                for buttons in messages:
                    await message.reply_text(
                        SAME_REPLY_TEXT if same_replies else text,
                        reply_markup=keyboard if buttons else None,
                    )
                if document:
                    await message.reply_document(b"x" * 1500, filename="letter.txt")
            return then

        return callback

    typed = filters.TEXT & ~filters.COMMAND
    with warnings.catch_warnings():  # per_message=False with CallbackQueryHandlers: intended
        warnings.simplefilter("ignore")
        conversation = ConversationHandler(
            entry_points=[CommandHandler("start", reply("Which platform?", False, platforms, 0))],
            states={
                platforms: [
                    CallbackQueryHandler(reply("Country?", True, country, 1), "^platforms:")
                ],
                country: [MessageHandler(typed, reply("E-mail?", False, email, 2))],
                email: [MessageHandler(typed, reply("Reasons?", False, reasons, 3))],
                reasons: [
                    CallbackQueryHandler(reply("Own words?", True, own_words, 5), "^reasons:done$"),
                    CallbackQueryHandler(reply("Reasons (more)?", True, reasons, 4), "^reasons:"),
                ],
                own_words: [CallbackQueryHandler(reply("Your letter", True, letter, 6), "^own_wo")],
                letter: [CallbackQueryHandler(reply("Submitted?", True, letter))],
            },
            fallbacks=[],
            name="journey",
            persistent=pickle is not None,
        )
    stub = StubAPI()
    builder = (
        ApplicationBuilder()
        .token(TOKEN)
        .request(stub)
        .get_updates_request(stub)
        .updater(None)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
    )
    if pickle is not None:
        builder = builder.persistence(PicklePersistence(tmp / f"ptb-{pickle}.pickle"))
    app = builder.build()
    app.add_handler(conversation)
    await app.initialize()

    async def accept(raw: list[dict[str, Any]]) -> None:
        parsed = [Update.de_json(r, app.bot) for r in raw]
        await asyncio.gather(*(app.process_update(u) for u in parsed))

    save = app.update_persistence if pickle == "batch" else None
    label = "bare PTB" + ("" if pickle is None else f" + PicklePersistence ({pickle})")
    if same_replies:
        label += ", same replies"
    result = Result(label)
    try:
        await walk(accept, Updates(), chat_range(9_000_001, batch), batch, None, save)
        stub.calls.clear()
        await walk(accept, Updates(), chat_range(1_000_001, chats), batch, result, save)
        if pickle == "end":  # saved once, at the end: counted too
            cpu, wall = time.process_time(), time.perf_counter()
            await app.update_persistence()
            result.cpu += time.process_time() - cpu
            result.wall += time.perf_counter() - wall
        result.calls = Counter(stub.calls)
    finally:
        await app.shutdown()
    return result


# ============================================================================================
# The profile
# ============================================================================================

#: Where a step's time goes: (label, file suffix, function names) of the profiled functions.
PARTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("parse the update (Update.de_json)", "telegram/_update.py", ("de_json",)),
    ("PTB dispatch (process_update)", "telegram/ext/_application.py", ("process_update",)),
    ("inbox.handle (load, step, commit, deliver)", "bot/inbox.py", ("handle",)),
    ("  storage: load the case", "bot/storage.py", ("load", "load_for_update")),
    ("  machine.step (the brain)", "conversations/machine.py", ("step",)),
    ("  storage.commit (seal + write)", "bot/storage.py", ("commit",)),
    ("  sender.flush (deliver the replies)", "bot/sender.py", ("flush",)),
    ("    storage: read queued rows (open + validate)", "bot/storage.py", ("pending",)),
    ("    renderer.message (Jinja)", "bot/renderer.py", ("message",)),
    ("    renderer.letter (Jinja)", "bot/renderer.py", ("letter",)),
    ("    Bot API calls (bot.botapi, raw)", "bot/botapi.py", ("call",)),
    ("    storage: delete the delivered rows", "bot/storage.py", ("delivered",)),
    ("Sealer.seal (Fernet)", "bot/keys.py", ("seal",)),
    ("Sealer.open (Fernet)", "bot/keys.py", ("open",)),
    ("answerCallbackQuery", "telegram/_callbackquery.py", ("answer",)),
)


def _plumbing(file: str, _line: int, func: str) -> bool:
    """asyncio's event loop, selectors and context runs: around everything, telling nothing."""
    path = file.replace(os.sep, "/")
    return (
        "/asyncio/" in path
        or path.endswith("/selectors.py")
        or func in ("<method 'run' of '_contextvars.Context' objects>",)
        or "epoll" in func
    )


def profile_summary(profiler: cProfile.Profile, steps: int) -> str:
    """Top 15 by cumulative time, and a few named parts in ms per step."""
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    entries: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    raw = dict(entries)
    total = sum(tt for _, _, tt, _, _ in raw.values())
    idle = sum(tt for (_, _, func), (_, _, tt, _, _) in raw.items() if "epoll" in func)
    for key in [k for k in entries if _plumbing(*k)]:
        del entries[key]  # the event loop's own frames would fill the top of the list
    stats.strip_dirs().sort_stats("cumulative").print_stats(15)
    table = Table(("part (cumulative, main thread)", "ms/step", "share"))
    for label, suffix, names in PARTS:
        cumulative = sum(
            ct
            for (file, _, func), (_, _, _, ct, _) in raw.items()
            if func in names and file.replace(os.sep, "/").endswith(suffix)
        )
        table.add(label, f"{1000 * cumulative / steps:.3f}", f"{100 * cumulative / total:.0f}%")
    grouped: Counter[str] = Counter()
    for (file, _, func), (_, _, tt, _, _) in raw.items():
        path = file.replace(os.sep, "/")
        if "pydantic" in path or "pydantic_core" in func:
            grouped["pydantic (own time, all calls)"] += tt
        elif "/jinja2/" in path or "<template>" in path or path.endswith(".j2"):
            grouped["Jinja (own time, all calls)"] += tt
        elif "cryptography" in path or "openssl" in func.lower():
            grouped["cryptography (own time, all calls)"] += tt
        elif "/telegram/" in path:
            grouped["python-telegram-bot (own time, all calls)"] += tt
        elif "/aiosqlite/" in path or "sqlite3" in func:
            grouped["aiosqlite, event-loop side (own time)"] += tt
    for label, tt in grouped.most_common():
        table.add(label, f"{1000 * tt / steps:.3f}", f"{100 * tt / total:.0f}%")
    idle_ms = f"{1000 * idle / steps:.3f}"
    table.add("event loop idle (epoll: waiting for SQLite)", idle_ms, f"{100 * idle / total:.0f}%")
    return (
        f"  profiled: {steps:,} steps, {total:.2f} s of main-thread time under cProfile (the\n"
        "  profiler slows Python code down; SQLite's own thread is not profiled). Coroutines are\n"
        "  counted per resume, so 'cumulative' is the time spent running in each, not awaiting.\n\n"
        + table.render("  ")
        + "\n\n  top 15 by cumulative time (without asyncio's own frames):\n"
        + "\n".join("  " + line for line in out.getvalue().strip().splitlines())
    )


# ============================================================================================


def ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}x" if theirs else "n/a"


async def live(args: argparse.Namespace, tmp: Path) -> None:
    chats, batch, rounds = args.chats, args.batch, args.rounds
    heading(f"{chats} chats x {len(SCRIPT)} steps, batches of {batch} updates, {rounds} round(s)")
    print("  script: " + ", ".join(v for _, v in SCRIPT))
    print(
        "  Each round builds every side afresh (new database, new pickle file), warms it up with\n"
        "  50 chats, then times the walk; the sides take turns. Reported: the fastest round of\n"
        "  each side (the least disturbed on a shared machine); every round is listed below."
    )
    runs: dict[str, list[Result]] = {}
    for n in range(rounds):
        here = tmp / f"round-{n + 1}"
        for side in (
            run_full(here / "full", chats, batch),
            run_ptb(here, chats, batch, None),
            run_ptb(here, chats, batch, None, same_replies=True),
            run_ptb(here, chats, batch, args.pickle_save),
        ):
            result = await side
            runs.setdefault(result.label, []).append(result)
            log(
                f"round {n + 1}, {result.label}: {result.rate:,.0f} steps/s, "
                f"{result.cpu_ms:.2f} ms CPU per step"
            )
    best = [max(results, key=lambda r: r.rate) for results in runs.values()]
    full, bare = best[0], best[1]
    log(
        f"full stack: {sum(full.ended.values())} chats walked, "
        f"{full.ended['letter']} reached step 'letter'"
    )

    heading("CPU ms per step, by step of the script (fastest round)")
    by_step = Table(("step", *(s.label for s in best)))
    for index, (kind, value) in enumerate(SCRIPT):
        by_step.add(
            f"{index + 1}. {kind} {value}",
            *(
                f"{1000 * s.per_step_cpu[index] / max(s.per_step_count[index], 1):.2f}"
                for s in best
            ),
        )
    by_step.print("  ")

    if args.profile:
        heading("cProfile: the full stack (--profile, one more round)")
        profiler = cProfile.Profile()
        await run_full(tmp / "profile", chats, batch, profiler)
        print(profile_summary(profiler, chats * len(SCRIPT)))

    heading("SUMMARY")
    print(
        f"  goal: full stack >= {GOAL_RATIO}x bare PTB in steps/s. "
        f"Fastest of {rounds} round(s) per side."
    )
    summary = Table(("measure", *(s.label for s in best)))
    summary.add("steps/s (wall)", *(f"{s.rate:,.0f}" for s in best))
    if rounds > 1:
        summary.add(
            "steps/s, every round",
            *(" / ".join(f"{r.rate:,.0f}" for r in results) for results in runs.values()),
        )
    summary.add("CPU ms per step", *(f"{s.cpu_ms:.2f}" for s in best))
    summary.add(
        "Bot API calls per step",
        *(f"{sum(s.calls.values()) / max(s.steps, 1):.2f}" for s in best),
    )
    summary.add(
        "full stack / this, steps/s",
        "1.00x",
        *(ratio(full.rate, s.rate) for s in best[1:]),
    )
    summary.add(
        "full stack / this, by CPU per step",
        "1.00x",
        *(ratio(s.cpu_ms, full.cpu_ms) for s in best[1:]),
    )
    summary.add(
        f"verdict (steps/s >= {GOAL_RATIO}x)",
        "",
        *(
            ("meets the goal" if full.rate >= GOAL_RATIO * s.rate else "below the goal")
            for s in best[1:]
        ),
    )
    summary.print()
    calls = ", ".join(f"{m} {n:,}" for m, n in full.calls.most_common())
    print(f"\n  full stack's Bot API calls: {calls}")
    calls = ", ".join(f"{m} {n:,}" for m, n in bare.calls.most_common())
    print(f"  bare PTB's Bot API calls:   {calls}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--chats", type=int, default=None, help="measured chats (default 300)")
    parser.add_argument("--batch", type=int, default=BATCH, help="updates per batch (50)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds per side (default 3)")
    parser.add_argument("--quick", action="store_true", help="100 chats, 1 round (a smoke run)")
    parser.add_argument("--profile", action="store_true", help="cProfile the full stack too")
    parser.add_argument(
        "--pickle-save",
        choices=("batch", "end"),
        default="batch",
        help="PicklePersistence: update_persistence() after each batch (default) or at the end",
    )
    args = parser.parse_args(argv)
    if args.chats is None:
        args.chats = 100 if args.quick else 300
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    # The bot's INFO lines (one per step) would swamp the figures; warnings and errors stay.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    banner("optout-bot step benchmark")
    return run_in_temp(lambda tmp: asyncio.run(live(args, tmp)))


if __name__ == "__main__":
    raise SystemExit(main())
