"""The scheduler: wake-ups are never lost, and a reminder whose step fails is tried again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.scheduler import Scheduler
from bot.storage import REMINDER_ATTEMPTS, DueReminder, Storage
from conversations.case import Case
from conversations.effects import Schedule
from tests.support import START, Clock


async def test_a_failed_step_releases_its_reminder_for_another_try(
    storage: Storage, clock: Clock
) -> None:
    """The step fails once: the reminder is not left claimed; it runs again a little later,
    still carrying the moment it was first due."""
    seen: list[DueReminder] = []

    async def handle(reminder: DueReminder) -> None:
        seen.append(reminder)
        if len(seen) == 1:
            raise RuntimeError("database hiccup")

    await storage.commit(Case.new(1, START), [Schedule(key="tick", due_at=START)])
    scheduler = Scheduler(storage, handle, clock)
    assert await scheduler.run_due() == 1
    assert await storage.next_due() is not None  # released, not stuck as claimed
    clock.advance(seconds=1)
    assert await scheduler.run_due() == 0  # not yet: it waits a little first
    clock.advance(minutes=1)
    assert await scheduler.run_due() == 1
    assert [r.due_at for r in seen] == [START, START]
    assert seen[1].attempts == 1


async def test_a_reminder_that_always_fails_is_dropped_after_a_few_tries(
    storage: Storage, clock: Clock
) -> None:
    """A broken case cannot keep its reminder firing forever."""
    tries = 0

    async def handle(reminder: DueReminder) -> None:  # noqa: ARG001 - the handler's signature
        nonlocal tries
        tries += 1
        raise RuntimeError("always")

    await storage.commit(Case.new(1, START), [Schedule(key="tick", due_at=START)])
    scheduler = Scheduler(storage, handle, clock)
    for _ in range(REMINDER_ATTEMPTS + 2):
        await scheduler.run_due()
        clock.advance(hours=1)
    assert tries == REMINDER_ATTEMPTS
    assert await storage.reminders(1) == {}


async def test_a_reminder_scheduled_during_a_pass_is_not_left_for_the_long_sleep(
    storage: Storage,
) -> None:
    """Something is scheduled and the scheduler woken while it is busy with another reminder:
    the new one runs right after that pass, not after the longest sleep."""
    handled: list[str] = []
    busy = asyncio.Event()

    async def handle(reminder: DueReminder) -> None:
        handled.append(reminder.key)
        if reminder.key == "first":
            busy.set()
            await asyncio.sleep(0.3)

    now = datetime.now(UTC)
    await storage.commit(Case.new(1, now), [Schedule(key="first", due_at=now)])
    scheduler = Scheduler(storage, handle, lambda: datetime.now(UTC))
    task = asyncio.create_task(scheduler.run())
    try:
        await busy.wait()
        soon = datetime.now(UTC) + timedelta(milliseconds=50)
        await storage.commit(Case.new(2, now), [Schedule(key="second", due_at=soon)])
        scheduler.wake()
        async with asyncio.timeout(10):  # the longest sleep is 60 s
            while "second" not in handled:
                await asyncio.sleep(0.01)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert handled == ["first", "second"]
