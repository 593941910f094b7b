"""The real bot process against a local Bot API server, killed with SIGKILL at random moments:
no reminder is lost, and a duplicate can only come from the instant between a message being
accepted and its delivery being recorded."""

from __future__ import annotations

import asyncio
import random
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from conversations.case import Case, Step
from conversations.effects import Schedule
from tests.support import open_storage
from tests.support.botapi_server import running_server
from tests.support.processes import bot_env, spawn_bot

CHATS = 60
REMINDER_TEXT = "minutes left for Meta's code"


async def seed(db: Path) -> list[int]:
    """60 people in the middle of a code countdown, each with a reminder due in the next seconds."""
    rng = random.Random(7)
    storage = await open_storage(db)
    now = datetime.now(UTC)
    chats = list(range(5_000_001, 5_000_001 + CHATS))
    for chat in chats:
        due = now + timedelta(seconds=rng.uniform(0.5, 4.0))
        case = Case.new(chat, now).model_copy(
            update={
                "step": Step.CODE,
                "language": "en",
                "country": "DE",
                "timezone": "Europe/Berlin",
                "code_received_at": due - timedelta(minutes=30),
                "code_expires_at": due + timedelta(minutes=30),
            }
        )
        await storage.commit(case, [Schedule(key="code_left:30", due_at=due)])
    await storage.close()
    return chats


async def test_sigkill_at_random_moments_loses_no_reminder(tmp_path: Path) -> None:
    """Five SIGKILLs while reminders fall due and are delivered; then every person has theirs."""
    db = tmp_path / "data" / "restarts.sqlite3"
    chats = await seed(db)
    rng = random.Random(20261126)
    kills = 0
    with running_server() as server:
        env = bot_env(db, server.url)
        for round_ in range(6):
            proc = await spawn_bot(env)
            started = server.count("getMe")
            deadline = time.monotonic() + 30
            while server.count("getMe") == started and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if round_ < 5:
                await asyncio.sleep(rng.uniform(0.0, 1.5))
                proc.send_signal(signal.SIGKILL)
                await proc.wait()
                kills += 1
                continue
            deadline = time.monotonic() + 60  # the last run: let it finish
            while time.monotonic() < deadline:
                if all(any(REMINDER_TEXT in t for t in server.texts_for(c)) for c in chats):
                    break
                await asyncio.sleep(0.2)
            proc.send_signal(signal.SIGTERM)
            await proc.wait()
        missing = [c for c in chats if not any(REMINDER_TEXT in t for t in server.texts_for(c))]
        duplicates = sum(
            max(0, sum(REMINDER_TEXT in t for t in server.texts_for(c)) - 1) for c in chats
        )
    assert missing == []
    # at most the one message in flight at each kill can arrive twice
    assert duplicates <= kills, f"{duplicates} duplicates after {kills} kills"
    storage = await open_storage(db)
    try:
        assert await storage.count("reminders") == 0
        assert await storage.count("outbox") == 0
    finally:
        await storage.close()
