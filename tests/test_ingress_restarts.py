"""The real bot process fetching updates from a local Bot API server that keeps them the way
Telegram does, killed with SIGKILL at random moments: every message a person wrote is answered,
and a reply arrives twice only when it was in flight at a kill."""

from __future__ import annotations

import asyncio
import bisect
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from conversations.case import Step
from tests.support import open_storage
from tests.support.botapi_server import BotAPIServer, Poll, running_server
from tests.support.processes import bot_env, spawn_bot

CHATS = list(range(6_000_001, 6_000_041))
#: What each reply says, in the order a chat should receive them: the answers to "/start"
#: (the welcome, then the platform question) and to "Facebook" (the country question).
WELCOME = "I am an independent helper, not Meta."
PLATFORMS = "Which accounts should the objection cover?"
COUNTRY = "Which country do you live in?"
EXPECTED = (WELCOME, PLATFORMS, COUNTRY)
#: Each round: when its burst of messages is queued ("down": before the process starts, so its
#: first getUpdates carries them; "up": while it is polling; None: no new burst), and how it
#: ends: SIGKILL right after a getUpdates answer carrying updates was sent ("after_poll"),
#: 0–0.2 s after one, while that batch is being handled and committed ("mid_batch"), 0–1.5 s
#: after the start or the burst ("random"), or SIGTERM once everything is answered ("finish").
ROUNDS: tuple[tuple[str | None, str], ...] = (
    ("down", "after_poll"),
    ("up", "mid_batch"),
    ("up", "random"),
    ("down", "mid_batch"),
    (None, "random"),
    (None, "finish"),
)
BURSTS = 4
STARTUP = 30.0  # seconds a start may take on a busy machine before the test gives up
FINISH = 30.0  # seconds the last run may take to answer everything


@dataclass
class Run:
    proc: asyncio.subprocess.Process
    spawned_at: float
    log: Path


def plan_bursts(rng: random.Random) -> list[list[tuple[int, str]]]:
    """The inbound messages, burst by burst: each chat's "/start" in burst 0 or 1 and its
    "Facebook" in a later one, every burst in a shuffled order across chats."""
    bursts: list[list[tuple[int, str]]] = [[] for _ in range(BURSTS)]
    for i, chat in enumerate(CHATS):
        first = 0 if i < len(CHATS) // 2 else 1
        bursts[first].append((chat, "/start"))
        bursts[rng.randint(first + 1, BURSTS - 1)].append((chat, "Facebook"))
    for burst in bursts:
        rng.shuffle(burst)
    return bursts


def queue(server: BotAPIServer, burst: list[tuple[int, str]]) -> None:
    for chat, text in burst:
        server.queue_text(chat, text, first_name=f"Person{chat % 1000}")


async def start_bot(server: BotAPIServer, env: dict[str, str], log: Path, out: IO[bytes]) -> Run:
    """Start ``python -m bot run`` and wait until it has reached the Bot API (getMe)."""
    before = server.count("getMe")
    spawned_at = time.time()
    proc = await spawn_bot(env, stderr=out)
    deadline = time.monotonic() + STARTUP
    while server.count("getMe") == before:
        if proc.returncode is not None or time.monotonic() > deadline:
            await stop(proc, signal.SIGKILL)
            raise AssertionError(f"the bot did not start (exit {proc.returncode}): {tail(log)}")
        await asyncio.sleep(0.02)
    return Run(proc, spawned_at, log)


async def stop(proc: asyncio.subprocess.Process, signum: signal.Signals) -> int:
    if proc.returncode is None:
        proc.send_signal(signum)
    return await asyncio.wait_for(proc.wait(), timeout=15)


def carried_for(run: Run) -> Callable[[Poll], bool]:
    """A getUpdates answer this run asked for that reached it and carried updates."""

    def accept(poll: Poll) -> bool:
        return poll.delivered and bool(poll.update_ids) and poll.asked_at >= run.spawned_at

    return accept


def tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def arrivals(server: BotAPIServer, chat: int) -> dict[str, list[float]]:
    """When each expected reply reached a chat (every time it did)."""
    received = server.received_for(chat)
    return {m: [r.at for r in received if m in r.text] for m in EXPECTED}


def answered(server: BotAPIServer) -> bool:
    return not server.pending() and all(all(arrivals(server, chat).values()) for chat in CHATS)


def describe_duplicates(times: dict[int, dict[str, list[float]]], kills: list[float]) -> str:
    """Each reply that came more than once, with how long before the next kill it first came."""
    lines = []
    for chat, by_reply in times.items():
        for reply, at in by_reply.items():
            if len(at) > 1:
                k = bisect.bisect(kills, at[0])
                before = (
                    f"{(kills[k] - at[0]) * 1000:.0f} ms before kill {k}" if k < len(kills) else ""
                )
                lines.append(f"chat {chat}: {reply!r} ×{len(at)}, first {before}")
    return "\n".join(lines)


async def test_sigkill_while_updates_come_in_loses_no_message(tmp_path: Path) -> None:
    """Bursts from 40 chats, five SIGKILLs, some just after getUpdates: every message answered."""
    db = tmp_path / "data" / "ingress.sqlite3"
    db.parent.mkdir(parents=True)
    rng = random.Random(20261202)
    bursts = plan_bursts(rng)
    kills: list[float] = []
    logs: list[Path] = []
    with running_server() as server:
        env = bot_env(db, server.url) | {"OPTOUT_INPUT_BURST": "1000"}
        for number, (when, end) in enumerate(ROUNDS):
            burst = bursts.pop(0) if when is not None else []
            if when == "down":
                queue(server, burst)
            log = tmp_path / f"bot-{number}.log"
            logs.append(log)
            with log.open("wb") as out:
                run = await start_bot(server, env, log, out)
                polls_before = 0
                if when == "up":
                    await asyncio.sleep(rng.uniform(0.0, 0.3))
                    polls_before = len(server.polls_since(0))
                    queue(server, burst)
                if end in ("after_poll", "mid_batch"):
                    poll = await asyncio.to_thread(
                        server.wait_for_poll, polls_before, carried_for(run), 15.0
                    )
                    assert poll is not None, f"no getUpdates answer carried updates: {tail(log)}"
                    if end == "mid_batch":
                        await asyncio.sleep(rng.uniform(0.0, 0.2))
                elif end == "random":
                    await asyncio.sleep(rng.uniform(0.0, 1.5))
                else:
                    deadline = time.monotonic() + FINISH
                    while not answered(server) and time.monotonic() < deadline:
                        assert run.proc.returncode is None, f"the bot died: {tail(log)}"
                        await asyncio.sleep(0.1)
                    await asyncio.sleep(0.5)  # a late duplicate would arrive now
                    assert await stop(run.proc, signal.SIGTERM) == 0, tail(log)
                    continue
                assert run.proc.returncode is None, f"the bot died by itself: {tail(log)}"
                kills.append(time.time())
                await stop(run.proc, signal.SIGKILL)
        times = {chat: arrivals(server, chat) for chat in CHATS}
        others = {
            chat: [t for t in server.texts_for(chat) if not any(m in t for m in EXPECTED)]
            for chat in CHATS
        }
        pending = server.pending()
    assert bursts == []
    logs_text = "\n".join(f"--- {log.name}\n{tail(log)}" for log in logs)
    missing = {chat: [m for m, at in t.items() if not at] for chat, t in times.items()}
    missing = {chat: replies for chat, replies in missing.items() if replies}
    assert missing == {}, f"replies never arrived: {missing}\n{logs_text}"
    unexpected = {chat: texts for chat, texts in others.items() if texts}
    assert unexpected == {}, f"replies nobody asked for: {unexpected}\n{logs_text}"
    assert pending == [], f"updates never confirmed: {pending}"
    for chat, by_reply in times.items():
        firsts = [by_reply[m][0] for m in EXPECTED]
        assert firsts == sorted(firsts), f"chat {chat} got its replies out of order"
    storage = await open_storage(db)
    try:
        steps = {chat: await storage.load(chat) for chat in CHATS}
        stuck = {c: case.step if case else None for c, case in steps.items()}
        stuck = {c: step for c, step in stuck.items() if step is not Step.COUNTRY}
        assert stuck == {}, f"chats not at the country question: {stuck}"
        assert await storage.count("outbox") == 0
    finally:
        await storage.close()
    extra = sum(len(at) - 1 for by_reply in times.values() for at in by_reply.values())
    # at most the one reply in flight at each kill can arrive twice
    assert extra <= len(kills), (
        f"{extra} duplicates after {len(kills)} kills:\n{describe_duplicates(times, kills)}"
    )


async def test_a_stop_signal_during_start_up_retries_ends_the_process(tmp_path: Path) -> None:
    """The Bot API cannot be reached: the bot keeps trying (it does not exit), and SIGTERM
    still stops it cleanly with exit code 0."""
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = bot_env(tmp_path / "data" / "db.sqlite3", f"http://127.0.0.1:{port}/bot")
    proc = await spawn_bot(env)
    await asyncio.sleep(2.5)  # start-up has failed and is being retried by now
    assert proc.returncode is None, "the bot gave up instead of retrying"
    proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(proc.wait(), timeout=15) == 0
