"""The one path every input takes: event -> load case -> step -> save with outbox -> deliver.

Adapters (Telegram, console, tests) call ``Inbox.handle``, the scheduler ``handle_reminder``;
nothing else changes a case. Each is lock -> load -> step -> commit; what the step queued is
then sent by the sender, which the commit wakes (or, with ``deliver``, before the input returns).

Rules:
- One person's inputs are handled one at a time, in the order they came (a lock per chat);
  different people's run concurrently (the storage serialises their commits).
- A Telegram update is applied at most once: its id is saved with the step it caused, and an
  update that arrives again (after a crash, before Telegram was told it had been received) is
  recognised and dropped.
- Every message, including notices the shell itself sends (an error, a group-chat reply), goes
  through the outbox and its limits.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.delivery import MAIL_FAILED, MAIL_SENT
from bot.metrics import STEPS
from bot.renderer import Renderer
from bot.storage import DueReminder, Storage
from conversations import (
    Case,
    Effect,
    Event,
    Forget,
    Knowledge,
    MailReport,
    Notice,
    Policy,
    Reminder,
    Say,
    step,
    supported_language,
)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
#: Sends what is queued for a chat, before its input returns (the console, tests).
Deliver = Callable[[int], Awaitable[object]]


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
        clock: Clock = utc_now,
        policy: Policy | None = None,
        flood: FloodGuard | None = None,
        deliver: Deliver | None = None,
    ) -> None:
        self._policy = policy or Policy()
        self.flood = flood or FloodGuard()
        self._storage = storage
        self._renderer = renderer
        self._knowledge = knowledge
        #: delivers a chat's queued messages before the input returns ("inline"); without it
        #: the sender, woken by the storage, sends them in its own time
        self._deliver = deliver
        self._clock = clock
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def handle(self, chat_id: int, event: Event, update_id: int | None = None) -> str | None:
        """A person's input (or a report about them): the one way into the brain.

        ``update_id`` is the Telegram update it came in; one already applied is dropped.
        Returns the notice for the button just tapped, if the step has one (the adapter shows
        it on the button; it is not a chat message, so it is not queued).
        """
        notice: str | None = None
        async with self._locks[chat_id]:
            case, seen = await self._storage.load_for_update(chat_id, update_id)
            if seen:
                log.info("update %s came again and was already applied: dropped", update_id)
                return None
            if not isinstance(event, MailReport) and not self.flood.admit(chat_id, self._clock()):
                notified = await self._slow_down(case, update_id)
            else:
                notified, notice = await self._step(chat_id, case, event, None, update_id)
        if notified:
            await self._delivered(chat_id)
        return notice

    async def _slow_down(self, case: Case | None, update_id: int | None) -> bool:
        """Flooding: say so once, store nothing new, and drop the input."""
        if case is None or not self.flood.first_refusal(case.chat_id):
            return False
        log.info("input flood: throttling a chat")
        await self._storage.commit(case, [Say(message="slow_down")], update_id=update_id)
        return True

    async def handle_reminder(self, reminder: DueReminder) -> None:
        """A reminder fell due: its step runs (consuming it in the same commit). Reminders the
        sender left -- how an e-mail copy ended, a message too late to send -- come this way
        too; an e-mail's outcome is a ``MailReport`` to the brain."""
        chat_id, key = reminder.chat_id, reminder.key
        event: Event = (
            MailReport(ok=key == MAIL_SENT)
            if key in (MAIL_SENT, MAIL_FAILED)
            else Reminder(key=key, due_at=reminder.due_at)
        )
        async with self._locks[chat_id]:
            case = await self._storage.load(chat_id)
            notified, _ = await self._step(chat_id, case, event, reminder.id, None)
        if notified:
            await self._delivered(chat_id)

    async def _delivered(self, chat_id: int) -> None:
        if self._deliver is not None:
            await self._deliver(chat_id)

    async def notify_failure(self, chat_id: int) -> None:
        """A step failed: tell the person, in their language, through the outbox."""
        case = await self._storage.load(chat_id)
        language = case.language if case and case.language else "en"
        await self._storage.enqueue(chat_id, language, [Say(message="error")])
        await self._delivered(chat_id)

    async def reply_in_group(
        self, chat_id: int, client_language: str | None, update_id: int | None = None
    ) -> None:
        """The bot was written to in a group: it only works in private chats, and says so."""
        language = supported_language(client_language)
        async with self._locks[chat_id]:
            _, seen = await self._storage.load_for_update(chat_id, update_id)
            if seen:
                return
            await self._storage.enqueue(chat_id, language, [Say(message="group_chat")], update_id)
        await self._delivered(chat_id)

    async def _step(
        self,
        chat_id: int,
        case: Case | None,
        event: Event,
        reminder_id: int | None,
        update_id: int | None,
    ) -> tuple[bool, str | None]:
        """Step and save the loaded case (under the chat's lock). Whether something was
        queued to send, and the notice for a tapped button (rendered, never stored)."""
        now = self._clock()
        if case is None and reminder_id is not None:
            await self._storage.commit(
                Case.new(chat_id, now), [Forget(chat_id=chat_id)], reminder_id
            )
            return False, None  # a reminder for someone who was forgotten: drop it, say nothing
        case = case or Case.new(chat_id, now)
        new_case, effects = step(
            case, event, now, self._knowledge, self._policy, self._renderer.label_texts
        )
        notices = [e for e in effects if isinstance(e, Notice)]
        queued: list[Effect] = [e for e in effects if not isinstance(e, Notice)]
        await self._storage.commit(new_case, queued, reminder_id, update_id)
        # Steps and event kinds only: never chat ids, answers or typed text.
        log.info("step %s -> %s on %s", case.step, new_case.step, event.kind)
        STEPS.labels(step=case.step.value).inc()
        language = new_case.language or "en"
        notice = self._renderer.notice(notices[0], language) if notices else None
        return True, notice
