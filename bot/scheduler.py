"""The scheduler: sleeps until the next reminder in the database falls due, then feeds it to
the brain through the inbox, like any other input.

The database is the truth: nothing is kept in memory that a restart would lose. A reminder is
claimed before it is handled and deleted in the same transaction as the case change it causes;
claims left by a process that died are released at start-up, so the reminder runs again. A
reminder whose step fails is released for another try a little later (keeping when it was first
due), and dropped after a few tries, so one broken case never holds its reminders hostage.

The wake-up signal is cleared before each pass, so a reminder scheduled during a pass is seen by
the next one instead of waiting for the longest sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.logs import log_failure
from bot.metrics import REMINDER_LAG
from bot.storage import DueReminder, Storage

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
HandleReminder = Callable[[DueReminder], Awaitable[None]]

#: Upper bound on one sleep, so a clock jump (suspend, NTP) is noticed within this many seconds.
MAX_SLEEP = 60.0


#: How often retention runs (erasing closed and inactive cases).
PURGE_EVERY = timedelta(hours=1)
#: After a failed step, a reminder is tried again after this long, doubling each time.
RETRY_FIRST = timedelta(seconds=5)


@dataclass(frozen=True)
class Retention:
    closed: timedelta
    inactive: timedelta


class Scheduler:
    def __init__(
        self,
        storage: Storage,
        handle: HandleReminder,
        clock: Clock,
        retention: Retention | None = None,
    ) -> None:
        self._storage = storage
        self._handle = handle
        self._clock = clock
        self._retention = retention
        self._next_purge: datetime | None = None
        #: set by the storage whenever a reminder is scheduled
        self._wake = storage.scheduled

    def wake(self) -> None:
        """Look again now (the storage does this on every commit that schedules something, as
        the new reminder may be earlier than the current sleep)."""
        self._wake.set()

    async def start(self) -> None:
        released = await self._storage.release_claims()
        if released:
            log.info("released %s reminder claim(s) left by an earlier process", released)

    async def run_due(self) -> int:
        """Handle every reminder that is due now. Returns how many were handled."""
        handled = 0
        while due := await self._storage.claim_due(self._clock()):
            for reminder in due:
                lag = (self._clock() - reminder.due_at).total_seconds()
                REMINDER_LAG.observe(max(lag, 0.0))
                try:
                    await self._handle(reminder)
                except Exception as error:  # noqa: BLE001 - one broken case must not stop the rest
                    await self._retry(reminder, error)
                handled += 1
        return handled

    async def _retry(self, reminder: DueReminder, error: Exception) -> None:
        log_failure(f"reminder {reminder.id} failed", error)
        at = self._clock() + RETRY_FIRST * 2**reminder.attempts
        if not await self._storage.retry_reminder(reminder, at):
            log.error("reminder %s dropped after repeated failures", reminder.id)

    async def purge_if_due(self) -> int:
        """Retention: erase closed and inactive cases, at most once per ``PURGE_EVERY``."""
        now = self._clock()
        if self._retention is None or (self._next_purge and now < self._next_purge):
            return 0
        self._next_purge = now + PURGE_EVERY
        erased = await self._storage.purge(
            now - self._retention.closed, now - self._retention.inactive
        )
        if erased:
            log.info("retention: erased %s case(s)", erased)
        return erased

    async def seconds_to_next(self) -> float | None:
        due = await self._storage.next_due()
        if due is None:
            return None
        return max((due - self._clock()).total_seconds(), 0.0)

    async def run(self) -> None:
        await self.start()
        while True:
            self._wake.clear()  # before the pass: a reminder scheduled during it wakes the next
            try:
                await self.purge_if_due()
                await self.run_due()
                wait = await self.seconds_to_next()
            except Exception as error:  # noqa: BLE001 - reminders must outlive a bad moment
                log_failure("scheduler failed; trying again shortly", error)
                wait = 1.0
            timeout = MAX_SLEEP if wait is None else min(wait, MAX_SLEEP)
            if timeout > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=timeout)
