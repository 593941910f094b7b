"""The one path every input takes: event -> load case -> step -> save with outbox -> deliver.

Adapters (Telegram, console, tests) call ``Inbox.handle``; nothing else changes a case. The only
thing done here before the brain sees an event is reading a typed button label as that button's
press, so every question can be answered without tapping.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.renderer import Renderer
from bot.storage import DueReminder, Storage
from conversations import machine, questions
from conversations.case import Case
from conversations.countries import normalize
from conversations.effects import Forget, Say, Schedule
from conversations.events import Event, MailReport, Press, Reminder, Text
from conversations.handling import Policy
from conversations.knowledge import Knowledge

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class FloodGuard:
    """Per-person input limit: a burst, then ``per_second``. Beyond it, input is dropped and
    the person is told once per flood to slow down; nobody else is slowed."""

    burst: int = 10
    per_second: float = 1.0
    _buckets: dict[int, tuple[float, datetime]] = field(default_factory=dict)
    _warned: set[int] = field(default_factory=set)

    def admit(self, chat_id: int, now: datetime) -> bool:
        tokens, since = self._buckets.get(chat_id, (float(self.burst), now))
        tokens = min(self.burst, tokens + (now - since).total_seconds() * self.per_second)
        if tokens >= 1:
            self._buckets[chat_id] = (tokens - 1, now)
            if tokens - 1 >= self.burst / 2:
                self._warned.discard(chat_id)  # calm again: a new flood gets a new notice
            return True
        self._buckets[chat_id] = (tokens, now)
        return False

    def first_refusal(self, chat_id: int) -> bool:
        if chat_id in self._warned:
            return False
        self._warned.add(chat_id)
        return True


class Inbox:
    def __init__(
        self,
        storage: Storage,
        renderer: Renderer,
        knowledge: Knowledge,
        after_commit: Callable[[int], Awaitable[object]],
        clock: Clock = utc_now,
        policy: Policy | None = None,
        flood: FloodGuard | None = None,
    ) -> None:
        self._policy = policy or Policy()
        self.flood = flood or FloodGuard()
        self._storage = storage
        self._renderer = renderer
        self._knowledge = knowledge
        self._after_commit = after_commit
        self._clock = clock
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        #: called after a commit that scheduled something (the scheduler's wake-up)
        self.on_scheduled: Callable[[], None] | None = None

    async def handle(self, chat_id: int, event: Event) -> None:
        """A person's input (or a report about them): the one way into the brain."""
        if not isinstance(event, MailReport) and not self.flood.admit(chat_id, self._clock()):
            await self._slow_down(chat_id)
            return
        await self._step(chat_id, event, None)

    async def _slow_down(self, chat_id: int) -> None:
        """Flooding: say so once, store nothing new, and drop the input."""
        if not self.flood.first_refusal(chat_id):
            return
        log.info("input flood: throttling a chat")
        case = await self._storage.load(chat_id)
        if case is not None:
            await self._storage.commit(case, [Say(message="slow_down")])
            await self._after_commit(chat_id)

    async def handle_reminder(self, reminder: DueReminder) -> None:
        event = Reminder(key=reminder.key, due_at=reminder.due_at)
        await self._step(reminder.chat_id, event, reminder.id)

    async def _step(self, chat_id: int, event: Event, reminder_id: int | None) -> None:
        async with self._locks[chat_id]:
            now = self._clock()
            case = await self._storage.load(chat_id)
            if case is None and reminder_id is not None:
                await self._storage.commit(
                    Case.new(chat_id, now), [Forget(chat_id=chat_id)], reminder_id
                )
                return  # a reminder for someone who was forgotten: drop it, say nothing
            case = case or Case.new(chat_id, now)
            event = self._label_as_press(case, event)
            new_case, effects = machine.step(case, event, now, self._knowledge, self._policy)
            await self._storage.commit(new_case, effects, reminder_id)
            # Steps and event kinds only: never chat ids, answers or typed text.
            log.info("step %s -> %s on %s", case.step, new_case.step, event.kind)
        if self.on_scheduled is not None and any(isinstance(e, Schedule) for e in effects):
            self.on_scheduled()
        await self._after_commit(chat_id)

    def _label_as_press(self, case: Case, event: Event) -> Event:
        """A typed text that equals a button label of the current question is that button."""
        if not isinstance(event, Text):
            return event
        typed = _fold(event.text)
        if not typed:
            return event
        shown = questions.ask(case, self._knowledge)
        for say in shown:
            for row in say.buttons:
                for button in row:
                    if not button.data:
                        continue
                    value = button.data.partition(":")[2]
                    aliases = {_fold(a) for a in self._renderer.label_aliases(button)} | {
                        _fold(value)
                    }
                    if typed in aliases:
                        return Press(data=button.data, client_language=event.client_language)
        return event


def _fold(text: str) -> str:
    return normalize(text.removeprefix("✅"))
