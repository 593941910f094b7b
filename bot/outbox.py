"""Delivering the outbox: render each stored effect and hand it to the transport, in order.

Rules: a row is deleted only after the transport accepted it, so a crash between the two can at
worst repeat one message, never lose one. A failing row stops its chat's queue (order matters
in a conversation) and is retried on the next flush; other chats are not held up.
"""

from __future__ import annotations

import logging
from typing import Protocol

from bot.renderer import Message, Renderer
from bot.storage import OutboxItem, Storage
from conversations.effects import Say, SendLetter

log = logging.getLogger(__name__)

#: After this many failed attempts a message is given up (and logged, without its content).
MAX_ATTEMPTS = 5


class Transport(Protocol):
    async def send_message(self, chat_id: int, message: Message) -> None: ...

    async def send_document(self, chat_id: int, filename: str, content: bytes) -> None: ...


class ChatUnreachable(Exception):
    """The person blocked the bot or deleted the chat: drop everything queued for them."""


class Outbox:
    def __init__(self, storage: Storage, renderer: Renderer, transport: Transport) -> None:
        self._storage = storage
        self._renderer = renderer
        self._transport = transport

    async def flush(self, chat_id: int | None = None) -> int:
        """Deliver what is pending (for one chat, or all). Returns how many were delivered."""
        delivered = 0
        blocked: set[int] = set()
        while items := [
            i for i in await self._storage.pending(chat_id) if i.chat_id not in blocked
        ]:
            progressed = False
            for item in items:
                if item.chat_id in blocked:
                    continue
                try:
                    await self._deliver(item)
                except ChatUnreachable:
                    log.info("chat unreachable, dropping its outbox (item %s)", item.id)
                    await self._storage.drop_chat_outbox(item.chat_id)
                    blocked.add(item.chat_id)
                    continue
                except Exception as error:  # noqa: BLE001 - any transport failure is retried later
                    log.warning(
                        "delivery failed (%s), outbox item %s", type(error).__name__, item.id
                    )
                    await self._storage.failed(item.id)
                    if item.attempts + 1 >= MAX_ATTEMPTS:
                        log.error(
                            "giving up on outbox item %s after %s attempts", item.id, MAX_ATTEMPTS
                        )
                        await self._storage.delivered(item.id)
                    blocked.add(item.chat_id)
                    continue
                await self._storage.delivered(item.id)
                delivered += 1
                progressed = True
            if not progressed:
                break
        return delivered

    async def _deliver(self, item: OutboxItem) -> None:
        effect = item.effect
        if isinstance(effect, Say):
            await self._transport.send_message(
                item.chat_id, self._renderer.message(effect, item.language)
            )
        elif isinstance(effect, SendLetter):
            letter = self._renderer.letter(effect.case)
            message = self._renderer.letter_message(letter, item.language)
            await self._transport.send_message(item.chat_id, message)
            await self._transport.send_document(
                item.chat_id, letter.filename, letter.full_text.encode("utf-8")
            )
