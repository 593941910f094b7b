"""The outbox's transport in unit tests: it records what was sent when, and fails on request."""

from __future__ import annotations

from datetime import datetime

from bot.renderer import Message
from bot.sender import Sender
from tests.support import Clock


class FakeTransport:
    """Records what was sent when; raises the failures a test queues up."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.sent: list[tuple[int, str, datetime]] = []  # (chat, what, when)
        self.failures: list[Exception] = []
        self.next_id = 100

    def _maybe_fail(self) -> None:
        if self.failures:
            raise self.failures.pop(0)

    async def send_message(self, chat_id: int, message: Message) -> int:
        self._maybe_fail()
        self.sent.append((chat_id, message.plain, self.clock()))
        self.next_id += 1
        return self.next_id

    async def edit_message(self, chat_id: int, message_id: int, message: Message) -> None:
        self._maybe_fail()
        self.sent.append((chat_id, f"EDIT {message_id}: {message.plain}", self.clock()))

    async def send_document(self, chat_id: int, filename: str, content: bytes) -> None:
        self._maybe_fail()
        self.sent.append((chat_id, f"DOC {filename}", self.clock()))

    async def delete_message(self, chat_id: int, message_id: int) -> None:
        self._maybe_fail()
        self.sent.append((chat_id, f"DELETE {message_id}", self.clock()))


async def drain(sender: Sender, clock: Clock, limit: float = 3600) -> None:
    """Run the sender on a hand-moved clock until nothing is left."""
    waited = 0.0
    while waited < limit:
        pause = await sender.send_ready()
        if pause is None:
            return
        clock.advance(seconds=pause)
        waited += pause
    raise AssertionError("outbox did not drain")
