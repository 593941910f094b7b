"""The scheduler: sleeps until the next reminder in the database falls due, then feeds it to
the brain through the inbox, like any other input.

The database is the truth: nothing is kept in memory that a restart would lose. A reminder is
claimed before it is handled and deleted in the same transaction as the case change it causes;
claims left by a process that died are released at start-up, so the reminder runs again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.storage import DueReminder, Storage

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
HandleReminder = Callable[[DueReminder], Awaitable[None]]

#: Upper bound on one sleep, so a clock jump (suspend, NTP) is noticed within this many seconds.
MAX_SLEEP = 60.0


#: How often retention runs (erasing closed and inactive cases).
PURGE_EVERY = timedelta(hours=1)


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
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Something was scheduled: look again (it may be earlier than the current sleep)."""
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
                try:
                    await self._handle(reminder)
                except Exception as error:  # noqa: BLE001 - one broken case must not stop the rest
                    log.error("reminder %s failed: %s", reminder.id, type(error).__name__)
                handled += 1
        return handled

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
            try:
                await self.purge_if_due()
                await self.run_due()
                wait = await self.seconds_to_next()
            except Exception as error:  # noqa: BLE001 - reminders must outlive a bad moment
                log.error("scheduler failed (%s); trying again shortly", type(error).__name__)
                wait = 1.0
            self._wake.clear()
            timeout = MAX_SLEEP if wait is None else min(wait, MAX_SLEEP)
            if timeout > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=timeout)
