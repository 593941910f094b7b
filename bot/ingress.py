"""Telegram updates in: fetched, parsed, handled, committed, and only then confirmed.

Rules:
- Telegram forgets an update once a later ``getUpdates`` asks for an offset past it. So the
  next batch is asked for (``offset = last update id + 1``) only after every update of this
  batch has been handled and its step committed; a crash before that makes Telegram send the
  batch again, and the inbox drops the updates whose steps were already saved (by update id).
  A webhook (``bot.web``) hands its update to ``accept`` the same way and answers only
  afterwards.
- One chat's updates are handled one after another, in order; different chats at once.
- An update python-telegram-bot cannot read (a format newer or older than it knows) is logged
  once by id and kind, never its content, then confirmed and skipped: it cannot stall the bot.
- A handler that fails (a database hiccup) is tried again a few times; if it still fails, the
  person is told through the outbox and the update is confirmed, so one broken update never
  blocks everyone behind it.
- Network errors and Telegram's 5xx answers on ``getUpdates`` are retried with backoff, forever.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import stamina
from telegram import Update
from telegram.error import Conflict, NetworkError, RetryAfter
from telegram.ext import Application

from bot import botapi
from bot.logs import log_failure
from bot.metrics import UPDATES, update_kind
from bot.storage import Storage

log = logging.getLogger(__name__)

#: The update kinds the bot asks Telegram for.
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")
#: Seconds a getUpdates long poll may wait for something to arrive.
LONG_POLL = 50
#: Chats handled at once within one batch (getUpdates returns at most 100 updates).
CONCURRENT_CHATS = 64
#: Tries of a failing update before the person is told and the update is given up.
ATTEMPTS = 3

Notify = Callable[[int], Awaitable[None]]


def retry_delay(error: Exception) -> float | bool:
    """For stamina: Telegram's own flood wait when it names one; else whether to retry."""
    if isinstance(error, RetryAfter):
        delay = error.retry_after
        return float(delay.total_seconds() if hasattr(delay, "total_seconds") else delay)
    retry = isinstance(error, NetworkError | Conflict)
    if retry:
        log.warning("Bot API call failed (%s); trying again with backoff", type(error).__name__)
    return retry


def retrying(attempts: int | None = None, wait_max: float = 30.0) -> AsyncIterator[stamina.Attempt]:
    """The one retry policy for Bot API calls: Telegram's own flood wait, else capped
    exponential backoff with jitter; ``attempts=None`` retries for as long as it takes."""
    return stamina.retry_context(
        on=retry_delay,
        attempts=attempts,
        timeout=None if attempts is None else 60,
        wait_initial=1.0,
        wait_max=wait_max,
    )


class Ingress:
    """Hands Telegram updates to the application and knows which ones are safe to confirm."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        storage: Storage,
        notify_failure: Notify,
        *,
        retry_pause: float = 0.5,
    ) -> None:
        self._app = application
        self._storage = storage
        self._notify_failure = notify_failure
        self._retry_pause = retry_pause
        self._failed: set[int] = set()
        self._chats = asyncio.Semaphore(CONCURRENT_CHATS)
        self.offset: int | None = None
        #: when Telegram last answered (time.monotonic()): getUpdates, or a webhook delivery
        self.reached: float | None = None

    def mark_failed(self, update: object) -> None:
        """The error handler's word: this update's handler raised (so it was not committed)."""
        if isinstance(update, Update):
            self._failed.add(update.update_id)

    # -- one batch ---------------------------------------------------------------------------

    async def accept(self, batch: Sequence[dict[str, Any]]) -> int | None:
        """Handle raw updates as Telegram sends them. Returns the offset that confirms them
        (the highest id + 1), or None for an empty batch."""
        top: int | None = None
        by_chat: defaultdict[int, list[Update]] = defaultdict(list)
        for raw in batch:
            update_id = raw.get("update_id")
            if not isinstance(update_id, int):
                log.warning("an update without an id was skipped")
                continue
            top = update_id if top is None else max(top, update_id)
            update = self._parse(raw, update_id)
            UPDATES.labels(kind=update_kind(raw) if update is not None else "unreadable").inc()
            if update is not None:
                by_chat[_chat_key(update)].append(update)
        await asyncio.gather(*(self._handle_chat(updates) for updates in by_chat.values()))
        return None if top is None else top + 1

    def _parse(self, raw: dict[str, Any], update_id: int) -> Update | None:
        try:
            return Update.de_json(raw, self._app.bot)
        except Exception as error:  # noqa: BLE001 - any unreadable update is skipped, not fatal
            kinds = ",".join(sorted(k for k in raw if k != "update_id")) or "empty"
            log.warning(
                "update %s (%s) could not be read (%s); skipped",
                update_id,
                kinds,
                type(error).__name__,
            )
            return None

    async def _handle_chat(self, updates: list[Update]) -> None:
        async with self._chats:
            for update in updates:
                await self._handle(update)

    async def _handle(self, update: Update) -> None:
        for attempt in range(1, ATTEMPTS + 1):
            self._failed.discard(update.update_id)
            await self._app.process_update(update)
            if update.update_id not in self._failed:
                return
            if attempt < ATTEMPTS:
                await asyncio.sleep(self._retry_pause * attempt)
        self._failed.discard(update.update_id)
        log.error("update %s failed %s times; the person is told", update.update_id, ATTEMPTS)
        chat = update.effective_chat
        if chat is not None:
            try:
                await self._notify_failure(chat.id)
            except Exception as error:  # noqa: BLE001 - nothing more can be done for it
                log_failure("could not queue the error notice", error)

    # -- long polling --------------------------------------------------------------------------

    async def poll_once(self, long_poll: float = LONG_POLL) -> int:
        """One getUpdates round trip (confirming the previous batch), then handle what came.
        ``long_poll``: how many seconds Telegram may hold the request open waiting for updates.
        Returns how many updates came."""
        asked = self.offset
        # Raw (bot.botapi): each update is parsed on its own, so one unreadable update cannot
        # make its whole batch unreadable.
        batch = await botapi.call(
            self._app.bot,
            "getUpdates",
            {
                "offset": asked,
                "timeout": long_poll,
                "limit": 100,
                "allowed_updates": list(ALLOWED_UPDATES),
            },
            read_timeout=long_poll + 10,
        )
        self.seen()
        if asked is not None:  # Telegram now holds nothing below it: its ids may go
            await self._storage.forget_updates_before(asked)
        if not isinstance(batch, list):
            return 0
        offset = await self.accept(batch)
        if offset is not None:
            self.offset = offset
        return len(batch)

    def seen(self) -> None:
        """Telegram reached the bot (a webhook post) or answered it."""
        self.reached = time.monotonic()

    async def set_webhook(self, url: str, secret: str) -> None:
        """Ask Telegram to post updates to ``url`` with ``secret``; updates it holds stay."""
        async for attempt in retrying(wait_max=60.0):
            with attempt:
                await self._app.bot.set_webhook(
                    url, secret_token=secret, allowed_updates=list(ALLOWED_UPDATES)
                )
        self.seen()

    async def clear_webhook(self) -> None:
        """Before polling: a webhook left from webhook mode would make getUpdates fail
        (409 Conflict). Removing it keeps the updates Telegram holds."""
        async for attempt in retrying(wait_max=60.0):
            with attempt:
                await self._app.bot.delete_webhook(drop_pending_updates=False)

    async def watch_webhook(self, every: float = 60.0) -> None:
        """In webhook mode nothing is fetched: ask Telegram how the webhook does, now and then,
        so readiness knows Telegram is reachable, and log its last delivery error."""
        while True:
            try:
                info = await self._app.bot.get_webhook_info()
            except Exception as error:  # noqa: BLE001 - the next round tries again
                log_failure("getWebhookInfo failed", error)
            else:
                self.seen()
                if info.last_error_message:
                    log.warning("Telegram's last webhook error: %s", info.last_error_message)
            await asyncio.sleep(every)

    async def poll(self, long_poll: float = LONG_POLL) -> None:
        """Fetch and handle updates forever; Telegram's faults only pause it."""
        while True:
            try:
                async for attempt in retrying():
                    with attempt:
                        await self.poll_once(long_poll)
            except Exception as error:  # noqa: BLE001 - polling must outlive any bad moment
                log_failure("polling failed; trying again shortly", error)
                await asyncio.sleep(self._retry_pause * 10)


def _chat_key(update: Update) -> int:
    """Which person's queue an update belongs to (its own id if it has no chat or sender)."""
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return -update.update_id
