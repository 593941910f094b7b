"""Delivering the outbox: render each stored message and hand it to the transport.

Rules:
- A row is deleted only after the transport accepted it, so a crash between the two can at
  worst repeat one Bot API call, never lose one. A letter is two rows (its message, its file),
  so retrying one never repeats the other.
- Only a chat's oldest message is eligible and a chat has at most one call under way, so a
  conversation is never reordered; across chats several calls are under way at once, the most
  urgent first (a person waiting for a reply, then the code countdown, then check-ins).
- Telegram's limits are kept: at most ``global_per_second`` messages in any one second overall,
  and a small burst then about one per second per chat. A message holds its place in the
  second from the moment it is sent until a second after Telegram can have received it (its
  answer, less the fastest round trip seen), so slow or uneven answers never let more than the
  limit arrive within one second. ``RetryLater`` pauses everyone for as long as Telegram asks;
  a temporary failure is retried with exponential backoff; ``ChatUnreachable`` (the person
  blocked the bot) drops everything queued and scheduled for that chat.
- A time-bound message ("4 minutes left") that is past its moment when its turn comes is not
  sent: its reminder is due again at once, so the brain says what fits now instead.
- How an e-mail copy ended is a reminder for the inbox too (``MAIL_SENT``/``MAIL_FAILED``),
  written with the row's removal in one transaction: the sender knows nothing of the inbox.
- The wake-up signal is the storage's ``queued`` event, set by every commit that queues a
  message; it is cleared before each pass over the queue, so a message committed during a pass
  is seen by the next one, never left for the idle pause.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from jinja2 import TemplateError

from bot import export
from bot.delivery import MAIL_FAILED, MAIL_SENT, parts
from bot.ics import calendar_file
from bot.logs import log_failure
from bot.mailer import Mailer, PermanentFailure, compose
from bot.metrics import EMAILS, FLOOD_PAUSES, SEND_FAILURES, SENDS
from bot.renderer import Message, Renderer
from bot.storage import FollowUp, OutboxItem, Storage
from conversations import (
    Case,
    DeleteMessage,
    Say,
    SendCalendar,
    SendData,
    SendEmail,
    SendEvidence,
    SendLetter,
)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
#: Past this many remembered chats, buckets that have refilled are dropped.
CHAT_MEMORY = 10_000
#: The queue is read again at least this often while messages wait.
READ_EVERY = timedelta(seconds=1)
#: Rows flush() reads at a time.
FLUSH_PAGE = 20
#: How long the sender sleeps when nothing is queued (a commit wakes it at once).
IDLE_PAUSE = 60.0
#: Round trips seen before the fastest one is trusted as a bound (the first ones open
#: connections and are slow); until then a message counts from its answer.
TRIPS_TO_TRUST = 30
#: Jitter allowed for between a call being started and its request leaving the process.
HOLD_MARGIN = timedelta(milliseconds=15)


class Transport(Protocol):
    async def send_message(self, chat_id: int, message: Message) -> int: ...

    async def edit_message(self, chat_id: int, message_id: int, message: Message) -> None: ...

    async def send_document(self, chat_id: int, filename: str, content: bytes) -> None: ...

    async def delete_message(self, chat_id: int, message_id: int) -> None: ...


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
    #: messages that may leave at once before the rest are paced at ``global_per_second``
    global_burst: int = 3
    chat_burst: int = 3
    chat_per_second: float = 1.0
    max_attempts: int = 6
    backoff_first: float = 2.0
    backoff_max: float = 300.0
    #: Bot API calls under way at once (each to a different chat)
    in_flight: int = 30
    #: e-mails being handed to the SMTP server at once
    mail_in_flight: int = 2


class Sender:
    """The sender: delivers queued rows within Telegram's limits, several chats at a time."""

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
        self._storage = storage
        self._renderer = renderer
        self._transport = transport
        self._clock = clock
        self.limits = limits or Limits()
        #: when each recent chat message stops counting against the overall limit (a heap)
        self._holds: list[datetime] = []
        self._fastest: timedelta | None = None  # the fastest Bot API round trip seen
        self._pace: tuple[float, datetime] = (float(self.limits.global_burst), clock())
        self._trips = 0
        self._chat_tokens: dict[int, tuple[float, datetime]] = {}
        self._paused_until: datetime | None = None
        self._busy: dict[tuple[int, str], asyncio.Task[bool]] = {}
        #: the next message of each chat as last read, most urgent first; read again when
        #: woken, when used up, when a chat with more queued got one out, or after READ_EVERY
        self._next: list[OutboxItem] = []
        self._fresh = False
        #: a chat with more queued got a message out since the last pass looked
        self._more_after_call = False
        self._read_at: datetime | None = None
        #: set by the storage whenever a message is queued
        self._wake = storage.queued
        self.delivered_count = 0

    def wake(self) -> None:
        """Look at the queue again now (the storage does this on every commit that queues)."""
        self._wake.set()

    def _woken(self) -> None:
        """Take the wake-up: something new was queued, so the queue is read again."""
        if self._wake.is_set():
            self._fresh = False
        self._wake.clear()

    # -- the background sender ---------------------------------------------------------------

    async def run(self) -> None:
        """Deliver forever: send what is ready, then sleep until something can go out."""
        while True:
            self._woken()  # before the pass: a commit during it wakes the next one
            try:
                pause = await self.send_ready()
            except Exception as error:  # noqa: BLE001 - the sender must outlive a bad moment
                log_failure("sender failed; trying again shortly", error)
                pause = self.limits.backoff_first
            if pause is None:
                pause = IDLE_PAUSE
            if pause > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=pause)

    async def send_ready(self) -> float | None:
        """Send everything that may go out now, several chats at once, and wait for those
        calls. Returns seconds until the next try (None: nothing queued)."""
        try:
            while True:
                pause = await self._dispatch()
                if not self._busy:
                    if self._more_after_call:  # a call ended while the queue was being read:
                        self._more_after_call = False  # its chat's next message is not in it
                        continue
                    return pause
                await self._settle(pause)
        except asyncio.CancelledError:
            for task in self._busy.values():
                task.cancel()  # shutting down: the rows stay queued for the next start
            raise

    async def _settle(self, pause: float | None) -> None:
        """Wait until a call finishes, a new message is committed, or ``pause`` is over."""
        woken = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait(
                [woken, *self._busy.values()],
                timeout=pause,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            woken.cancel()
        self._woken()  # the next dispatch reads the queue afresh

    async def _dispatch(self) -> float | None:
        """Start every delivery that the limits allow now. Returns how long until more could
        start (None: nothing is waiting, or only for a call under way to end)."""
        now = self._clock()
        if self._paused_until is not None and now < self._paused_until:
            return (self._paused_until - now).total_seconds()
        if not (self._fresh and self._next and self._read_at and now - self._read_at < READ_EVERY):
            batch = self.limits.global_per_second * 2 + len(self._busy)
            self._next = await self._storage.ready(now, limit=batch)
            self._fresh, self._read_at = True, now
        items = [i for i in self._next if (i.chat_id, i.lane) not in self._busy]
        if not items:
            retry = await self._storage.next_retry(now)
            return max((retry - now).total_seconds(), 0.001) if retry else None
        wait = 1.0
        for item in items:
            if item.lane == "chat":
                global_wait = self._global_wait(now)
                if global_wait != 0:
                    return global_wait  # the second is full (or every call slot is in use)
                chat_wait = self._chat_wait(item.chat_id, now)
                if chat_wait > 0:
                    wait = min(wait, chat_wait)
                    continue
                self._take(item.chat_id, now)
            elif self._lane_busy("mail") >= self.limits.mail_in_flight:
                continue
            self._start(item, now)
        return wait

    def _start(self, item: OutboxItem, now: datetime) -> None:
        key = (item.chat_id, item.lane)
        self._next.remove(item)
        task = asyncio.create_task(self._attempt(item, now), name=f"deliver-{item.id}")

        def done(_: asyncio.Task[bool]) -> None:
            self._busy.pop(key, None)
            # What was read about this chat while its call was under way is out of date (it
            # may be this very row, read before its delivery was recorded).
            self._next = [i for i in self._next if (i.chat_id, i.lane) != key]
            if item.queued > 1:
                self._fresh = False  # this chat's next message is not in what was read
                self._more_after_call = True

        task.add_done_callback(done)
        self._busy[key] = task

    def _lane_busy(self, lane: str) -> int:
        return sum(1 for _, busy_lane in self._busy if busy_lane == lane)

    async def flush(self, chat_id: int | None = None) -> int:
        """Deliver what is pending right away, one by one, ignoring rate limits (console)."""
        before = self.delivered_count
        for _ in range(1_000):
            items = await self._storage.pending(chat_id, limit=FLUSH_PAGE)
            for item in items:
                if not await self._attempt(item, self._clock()):
                    return self.delivered_count - before
            if len(items) < FLUSH_PAGE:
                break  # that was the whole queue (what delivering it queued, it flushed itself)
        return self.delivered_count - before

    # -- rate limits ---------------------------------------------------------------------------

    def _global_wait(self, now: datetime) -> float | None:
        """0 if a chat message may start now; else seconds until one may (None: when a call
        under way has finished)."""
        while self._holds and self._holds[0] <= now:
            heapq.heappop(self._holds)
        if self._lane_busy("chat") + len(self._holds) < self.limits.global_per_second:
            if self._lane_busy("chat") >= self.limits.in_flight:
                return None
            return self._pace_wait(now)
        if not self._holds:
            return None
        return max((self._holds[0] - now).total_seconds(), 0.001)

    def _pace_wait(self, now: datetime) -> float:
        """Messages leave evenly, a short burst then one every 1/30 s, rather than thirty at
        once: the second stays evenly filled, and few calls are ever under way together (so a
        crash can repeat few of them)."""
        tokens, since = self._pace
        tokens = min(
            float(self.limits.global_burst),
            tokens + (now - since).total_seconds() * self.limits.global_per_second,
        )
        self._pace = (tokens, now)
        return _until_one(tokens, self.limits.global_per_second)

    def _chat_wait(self, chat_id: int, now: datetime) -> float:
        tokens, since = self._chat_tokens.get(chat_id, (float(self.limits.chat_burst), now))
        tokens = min(
            self.limits.chat_burst,
            tokens + (now - since).total_seconds() * self.limits.chat_per_second,
        )
        self._chat_tokens[chat_id] = (tokens, now)
        return _until_one(tokens, self.limits.chat_per_second)

    def _take(self, chat_id: int, now: datetime) -> None:
        """Spend one of the chat's tokens and one of the pace's (its place in the second is
        held while under way)."""
        tokens, since = self._pace
        self._pace = (tokens - 1, since)
        if len(self._chat_tokens) > CHAT_MEMORY:  # forget chats whose bucket is full again
            full = timedelta(seconds=self.limits.chat_burst / self.limits.chat_per_second)
            self._chat_tokens = {c: v for c, v in self._chat_tokens.items() if now - v[1] < full}
        tokens, _ = self._chat_tokens.get(chat_id, (float(self.limits.chat_burst), now))
        self._chat_tokens[chat_id] = (tokens - 1, now)

    def _release(self, started: datetime) -> None:
        """A chat message's call ended: it counts for one second from when Telegram can have
        received it, at the latest its answer less the fastest round trip seen (and a margin
        for the jitter of the event loop). Until a few round trips have been seen, it counts
        for a second from its answer."""
        ended = self._clock()
        trip = max(ended - started, timedelta(0))
        self._trips += 1
        self._fastest = trip if self._fastest is None else min(self._fastest, trip)
        head_start = self._fastest - HOLD_MARGIN if self._trips > TRIPS_TO_TRUST else timedelta(0)
        heapq.heappush(self._holds, ended - max(head_start, timedelta(0)) + timedelta(seconds=1))

    # -- one delivery --------------------------------------------------------------------------

    async def _attempt(self, item: OutboxItem, now: datetime) -> bool:
        """Try to deliver one row; record the outcome. True if it is off the queue."""
        try:
            if self._is_stale(item, now):
                # Too late to send: its step runs again, so the person gets what fits now.
                refresh = item.effect.refresh if isinstance(item.effect, Say) else None
                again = FollowUp(item.chat_id, refresh, now) if refresh else None
                await self._storage.delivered(item.id, then=again)
                return True
            started = self._clock()  # the call's own start, after its turn in the event loop
            try:
                await self._deliver(item)
            finally:
                if item.lane == "chat":
                    self._release(started)
        except ChatUnreachable:
            log.info("chat unreachable: dropping its queue and reminders (item %s)", item.id)
            SEND_FAILURES.labels(kind=item.effect.kind, outcome="unreachable").inc()
            await self._storage.drop_chat(item.chat_id)
            return True
        except TemplateError as error:
            # A template bug, not a delivery problem: retrying cannot help, and the person's
            # queue must not stall behind it.
            log_failure(f"cannot render outbox item {item.id}; dropped", error)
            SEND_FAILURES.labels(kind=item.effect.kind, outcome="given_up").inc()
            await self._give_up(item)
            return True
        except PermanentFailure as error:
            log.warning("outbox item %s refused for good (%s)", item.id, error)
            SEND_FAILURES.labels(kind=item.effect.kind, outcome="given_up").inc()
            await self._give_up(item)
            return True
        except RetryLater as flood:
            log.warning("flood control: pausing all sending for %.1fs", flood.seconds)
            FLOOD_PAUSES.inc()
            until = self._clock() + timedelta(seconds=flood.seconds)
            self._paused_until = max(self._paused_until or until, until)
            return False
        except Exception as error:  # noqa: BLE001 - any transport failure is retried later
            attempts = item.attempts + 1
            if attempts >= self.limits.max_attempts:
                log.error("giving up on outbox item %s after %s attempts", item.id, attempts)
                SEND_FAILURES.labels(kind=item.effect.kind, outcome="given_up").inc()
                await self._give_up(item)
                return True
            delay = min(self.limits.backoff_first * 2 ** (attempts - 1), self.limits.backoff_max)
            log.warning("delivery failed (%s); retry in %.0fs", type(error).__name__, delay)
            SEND_FAILURES.labels(kind=item.effect.kind, outcome="retry").inc()
            await self._storage.failed(item.id, self._clock() + timedelta(seconds=delay))
            return False
        await self._storage.delivered(item.id, then=self._mail_report(item, sent=True))
        SENDS.labels(kind=item.effect.kind).inc()
        self.delivered_count += 1
        return True

    def _is_stale(self, item: OutboxItem, now: datetime) -> bool:
        effect = item.effect
        return (
            isinstance(effect, Say)
            and effect.valid_until is not None
            and now > (effect.valid_until)
        )

    async def _give_up(self, item: OutboxItem) -> None:
        await self._storage.delivered(item.id, then=self._mail_report(item, sent=False))

    def _mail_report(self, item: OutboxItem, *, sent: bool) -> FollowUp | None:
        """How an e-mail copy ended, for the inbox to tell the person (in the same transaction
        that takes the row off the queue, so a crash cannot lose it)."""
        if item.lane != "mail":
            return None
        EMAILS.labels(outcome="sent" if sent else "failed").inc()
        return FollowUp(item.chat_id, MAIL_SENT if sent else MAIL_FAILED, self._clock())

    async def _deliver(self, item: OutboxItem) -> None:
        effect, chat = item.effect, item.chat_id
        if isinstance(effect, Say):
            message = self._renderer.message(effect, item.language)
            await self._say(chat, effect, message)
        elif isinstance(effect, SendLetter):
            letter = self._renderer.letter(written_case(effect), effect.letter)
            for part in parts(effect.kind, item.part):
                if part == "message":
                    message = self._renderer.letter_message(
                        letter,
                        item.language,
                        effect.letter,
                        effect.buttons,
                        reader_copy=effect.reader_copy,
                    )
                    await self._transport.send_message(chat, message)
                else:
                    content = letter.full_text.encode()
                    await self._transport.send_document(chat, letter.filename, content)
        elif isinstance(effect, SendCalendar):
            name, content = calendar_file(effect.case, self._renderer)
            await self._transport.send_document(chat, name, content)
        elif isinstance(effect, SendEmail):
            if self._mailer is None:
                raise PermanentFailure("no SMTP server configured")
            await self._mailer.send(compose(effect.case, self._renderer, self._mailer.config))
        elif isinstance(effect, SendEvidence):
            from bot.evidence import evidence_pack  # the PDF library loads when first needed

            # a PDF takes a moment to lay out (seconds for the first, with its fonts): not on
            # the event loop, where every other chat's messages wait
            name, content = await asyncio.to_thread(
                evidence_pack, effect.case, self._renderer, self._clock()
            )
            await self._transport.send_document(chat, name, content)
        elif isinstance(effect, DeleteMessage):
            await self._transport.delete_message(chat, effect.message_id)
        elif isinstance(effect, SendData):
            scheduled = await self._storage.reminders(chat)
            content = export.my_data(effect.case, scheduled, self._clock())
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


def written_case(effect: SendLetter) -> Case:
    """The case a letter is rendered from: in the language it is written in."""
    if effect.language is None:
        return effect.case
    return effect.case.model_copy(update={"language": effect.language})


def _until_one(tokens: float, per_second: float) -> float:
    """Seconds until a bucket holds one token again: 0 if it does (to within a microsecond's
    rounding, which clocks cannot resolve), else never less than a millisecond, so a sender
    never spins on waits too short to move the clock."""
    if tokens >= 1 - 1e-4:
        return 0.0
    return max((1 - tokens) / per_second, 0.001)
