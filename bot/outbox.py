"""Delivering the outbox: render each stored message and hand it to the transport.

Rules:
- A row is deleted only after the transport accepted it, so a crash between the two can at
  worst repeat one message, never lose one.
- Only a chat's oldest message is eligible, so a conversation is never reordered; across chats
  the most urgent goes first (a person waiting for a reply, then the code countdown, then
  check-ins).
- Telegram's limits are kept: at most ``global_per_second`` messages overall and a small burst
  then about one per second per chat. ``RetryLater`` pauses everything for as long as Telegram
  asks; a temporary failure is retried with exponential backoff; ``ChatUnreachable`` (the person
  blocked the bot) drops everything queued and scheduled for that chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from jinja2 import TemplateError

from bot.ics import calendar_file
from bot.mailer import Mailer, PermanentFailure, compose
from bot.renderer import Message, Renderer
from bot.storage import OutboxItem, Storage
from conversations.effects import Say, SendCalendar, SendData, SendEmail, SendLetter

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
#: Past this many remembered chats, buckets that have refilled are dropped.
CHAT_MEMORY = 10_000


class Transport(Protocol):
    async def send_message(self, chat_id: int, message: Message) -> int: ...

    async def edit_message(self, chat_id: int, message_id: int, message: Message) -> None: ...

    async def send_document(self, chat_id: int, filename: str, content: bytes) -> None: ...


class ChatUnreachable(Exception):
    """The person blocked the bot or deleted the chat: drop everything queued for them."""


class RetryLater(Exception):
    """Flood control: nothing may be sent for ``seconds``."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


class MessageGone(Exception):
    """The message to edit no longer exists (or cannot be edited): send a new one instead."""


@dataclass(frozen=True)
class Limits:
    global_per_second: int = 30
    chat_burst: int = 3
    chat_per_second: float = 1.0
    max_attempts: int = 6
    backoff_first: float = 2.0
    backoff_max: float = 300.0


class Outbox:
    def __init__(
        self,
        storage: Storage,
        renderer: Renderer,
        transport: Transport,
        clock: Clock,
        limits: Limits | None = None,
        mailer: Mailer | None = None,
    ) -> None:
        self._mailer = mailer
        #: told how each e-mail copy ended (sent, or finally failed), to tell the person
        self.on_mail_report: Callable[[int, bool], Awaitable[None]] | None = None
        self._storage = storage
        self._renderer = renderer
        self._transport = transport
        self._clock = clock
        self.limits = limits or Limits()
        self._sent: deque[datetime] = deque()  # send times within the last second, all chats
        self._chat_tokens: dict[int, tuple[float, datetime]] = {}
        self._paused_until: datetime | None = None
        self._wake = asyncio.Event()
        self.delivered_count = 0
        self.on_delivered: Callable[[OutboxItem, datetime], None] | None = None

    def wake(self) -> None:
        self._wake.set()

    # -- the background sender ---------------------------------------------------------------

    async def run(self, sleep: Callable[[float], Awaitable[None]] | None = None) -> None:
        """Deliver forever: send what is ready, then sleep until something can go out."""
        while True:
            try:
                pause = await self.send_ready()
            except Exception as error:  # noqa: BLE001 - the sender must outlive a bad moment
                log.error("sender failed (%s); trying again shortly", type(error).__name__)
                pause = self.limits.backoff_first
            self._wake.clear()
            if pause is None:
                pause = 60.0
            if pause > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=pause)

    async def send_ready(self) -> float | None:
        """Send everything that may go out now. Returns seconds until the next try (None: idle)."""
        while True:
            now = self._clock()
            if self._paused_until is not None and now < self._paused_until:
                return (self._paused_until - now).total_seconds()
            items = await self._storage.ready(now, limit=self.limits.global_per_second * 2)
            if not items:
                retry = await self._storage.next_retry(now)
                return max((retry - now).total_seconds(), 0.001) if retry else None
            sent_any = False
            wait = 1.0
            for item in items:
                if item.rank != items[0].rank:
                    break  # look again: sending may have brought something more urgent forward
                now = self._clock()
                if item.lane == "chat":  # Telegram's limits; the mail lane has its own server
                    global_wait = self._global_wait(now)
                    if global_wait > 0:
                        return global_wait
                    chat_wait = self._chat_wait(item.chat_id, now)
                    if chat_wait > 0:
                        wait = min(wait, chat_wait)
                        continue
                await self._attempt(item, now)
                sent_any = True
                if self._paused_until is not None:
                    break
            if not sent_any:
                return wait

    async def flush(self, chat_id: int | None = None) -> int:
        """Deliver what is pending right away, ignoring rate limits (console and tests)."""
        before = self.delivered_count
        for _ in range(10_000):
            items = await self._storage.pending(chat_id, limit=1)
            if not items:
                break
            item = items[0]
            if not await self._attempt(item, self._clock()):
                break
        return self.delivered_count - before

    # -- rate limits ---------------------------------------------------------------------------

    def _global_wait(self, now: datetime) -> float:
        while self._sent and now - self._sent[0] >= timedelta(seconds=1):
            self._sent.popleft()
        if len(self._sent) < self.limits.global_per_second:
            return 0.0
        return max((self._sent[0] + timedelta(seconds=1) - now).total_seconds(), 0.001)

    def _chat_wait(self, chat_id: int, now: datetime) -> float:
        tokens, since = self._chat_tokens.get(chat_id, (float(self.limits.chat_burst), now))
        tokens = min(
            self.limits.chat_burst,
            tokens + (now - since).total_seconds() * self.limits.chat_per_second,
        )
        self._chat_tokens[chat_id] = (tokens, now)
        return 0.0 if tokens >= 1 else (1 - tokens) / self.limits.chat_per_second

    def _spend(self, chat_id: int, now: datetime) -> None:
        self._sent.append(now)
        if len(self._chat_tokens) > CHAT_MEMORY:  # forget chats whose bucket is full again
            full = timedelta(seconds=self.limits.chat_burst / self.limits.chat_per_second)
            self._chat_tokens = {c: v for c, v in self._chat_tokens.items() if now - v[1] < full}
        tokens, _ = self._chat_tokens.get(chat_id, (float(self.limits.chat_burst), now))
        self._chat_tokens[chat_id] = (tokens - 1, now)

    # -- one delivery --------------------------------------------------------------------------

    async def _attempt(self, item: OutboxItem, now: datetime) -> bool:
        """Try to deliver one message; record the outcome. True if it is off the queue."""
        try:
            await self._deliver(item)
        except ChatUnreachable:
            log.info("chat unreachable: dropping its queue and reminders (item %s)", item.id)
            await self._storage.drop_chat(item.chat_id)
            return True
        except TemplateError as error:
            # A template bug, not a delivery problem: retrying cannot help, and the person's
            # queue must not stall behind it.
            log.error("cannot render outbox item %s (%s); dropped", item.id, type(error).__name__)
            await self._give_up(item)
            return True
        except PermanentFailure as error:
            log.warning("outbox item %s refused for good (%s)", item.id, error)
            await self._give_up(item)
            return True
        except RetryLater as flood:
            log.warning("flood control: pausing all sending for %.1fs", flood.seconds)
            self._paused_until = now + timedelta(seconds=flood.seconds)
            return False
        except Exception as error:  # noqa: BLE001 - any transport failure is retried later
            attempts = item.attempts + 1
            if attempts >= self.limits.max_attempts:
                log.error("giving up on outbox item %s after %s attempts", item.id, attempts)
                await self._give_up(item)
                return True
            delay = min(self.limits.backoff_first * 2 ** (attempts - 1), self.limits.backoff_max)
            log.warning("delivery failed (%s); retry in %.0fs", type(error).__name__, delay)
            await self._storage.failed(item.id, now + timedelta(seconds=delay))
            return False
        if item.lane == "chat":
            self._spend(item.chat_id, self._clock())  # counted when Telegram took it
        await self._storage.delivered(item.id)
        self.delivered_count += 1
        if self.on_delivered is not None:
            self.on_delivered(item, self._clock())
        if item.lane == "mail" and self.on_mail_report is not None:
            await self.on_mail_report(item.chat_id, True)
        return True

    async def _give_up(self, item: OutboxItem) -> None:
        await self._storage.delivered(item.id)
        if item.lane == "mail" and self.on_mail_report is not None:
            await self.on_mail_report(item.chat_id, False)

    async def _deliver(self, item: OutboxItem) -> None:
        effect, chat = item.effect, item.chat_id
        if isinstance(effect, Say):
            message = self._renderer.message(effect, item.language)
            await self._say(chat, effect, message)
        elif isinstance(effect, SendLetter):
            letter = self._renderer.letter(effect.case, effect.letter)
            message = self._renderer.letter_message(letter, item.language, effect.letter)
            await self._transport.send_message(chat, message)
            await self._transport.send_document(chat, letter.filename, letter.full_text.encode())
        elif isinstance(effect, SendCalendar):
            name, content = calendar_file(effect.case, self._renderer)
            await self._transport.send_document(chat, name, content)
        elif isinstance(effect, SendEmail):
            if self._mailer is None:
                raise PermanentFailure("no SMTP server configured")
            await self._mailer.send(compose(effect.case, self._renderer, self._mailer.config))
        elif isinstance(effect, SendData):
            export = {
                "exported_at": self._clock().isoformat(),
                "case": effect.case.model_dump(mode="json"),
                "scheduled": {
                    key: due.isoformat()
                    for key, due in (await self._storage.reminders(chat)).items()
                },
            }
            content = json.dumps(export, indent=2, ensure_ascii=False).encode("utf-8")
            await self._transport.send_document(chat, "my-data.json", content)

    async def _say(self, chat: int, effect: Say, message: Message) -> None:
        if effect.slot and effect.edit:
            message_id = await self._storage.slot(chat, effect.slot)
            if message_id is not None:
                try:
                    await self._transport.edit_message(chat, message_id, message)
                    return
                except MessageGone:
                    pass  # fall through: send it as a new message
        message_id = await self._transport.send_message(chat, message)
        if effect.slot:
            await self._storage.set_slot(chat, effect.slot, message_id)
