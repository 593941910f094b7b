"""The shell is assembled once: the console and Telegram get the same services from settings."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.assembly import assemble
from bot.console import ConsoleTransport
from bot.settings import Settings
from conversations import Command, Schedule
from tests.support import key_file_for, sealer_for_db


@pytest.mark.parametrize("delivery", ["inline", "background"])
async def test_every_transport_gets_the_settings_flood_and_sending_limits(
    db_path: Path, delivery: str
) -> None:
    """Every shell gets the settings' sending limits and, unless it passes its own, their flood
    guard (the console passes one that admits every typed line: a terminal is one person)."""
    settings = Settings(
        database_path=db_path,
        key_file=key_file_for(db_path),
        input_burst=4,
        input_per_second=0.5,
        send_per_second=12,
        send_per_chat_per_second=0.5,
        _env_file=None,
    )
    services = await assemble(
        settings,
        sealer_for_db(db_path),
        ConsoleTransport(io.StringIO()),
        delivery,  # type: ignore[arg-type]
    )
    try:
        assert (services.inbox.flood.burst, services.inbox.flood.per_second) == (4, 0.5)
        assert services.sender.limits.global_per_second == 12
        assert services.sender.limits.chat_per_second == 0.5
    finally:
        await services.storage.close()


async def test_the_parts_are_wired_when_built_and_a_commit_wakes_them(db_path: Path) -> None:
    """Nothing is attached after construction: a person's input committed by the inbox wakes
    the running sender (it is sent without anyone calling wake), a reminder it schedules wakes
    the running scheduler, and the scheduler feeds it back to the inbox."""
    settings = Settings(database_path=db_path, key_file=key_file_for(db_path), _env_file=None)
    out = io.StringIO()
    services = await assemble(settings, sealer_for_db(db_path), ConsoleTransport(out))
    tasks = [
        asyncio.create_task(services.sender.run()),
        asyncio.create_task(services.scheduler.run()),
    ]
    try:
        await services.inbox.handle(7, Command(name="start", client_language="en"))
        async with asyncio.timeout(10):  # the idle sleeps are a minute
            while "Which accounts" not in out.getvalue():
                await asyncio.sleep(0.01)
        case = await services.storage.load(7)
        assert case is not None
        due = datetime.now(UTC) + timedelta(milliseconds=50)
        await services.storage.commit(case, [Schedule(key="nothing_to_do", due_at=due)])
        async with asyncio.timeout(10):
            while "nothing_to_do" in await services.storage.reminders(7):
                await asyncio.sleep(0.01)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await services.storage.close()
