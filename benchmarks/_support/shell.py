"""The bot as the benchmarks build it: settings for a temporary directory, the production
assembly behind a transport that records what it is given, an in-process Bot API for
python-telegram-bot, the clock, and stopping background tasks."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from telegram.request import BaseRequest, RequestData

from benchmarks._support.botapi import TOKEN, answer
from benchmarks._support.report import log
from bot.assembly import Delivery, Services, assemble
from bot.keys import Sealer, load_sealer
from bot.renderer import Message
from bot.sender import Transport
from bot.settings import Settings

#: The date of every message the in-process Bot API returns.
DATE = 1_790_000_000


def utc_now() -> datetime:
    return datetime.now(UTC)


def at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def settings_in(directory: Path, **fields: Any) -> Settings:
    """The bot's settings with its database and key file in ``directory`` (not read from a
    ``.env`` file); ``fields`` set the rest."""
    return Settings(
        telegram_token=TOKEN,
        database_path=directory / "data" / "db.sqlite3",
        key_file=directory / "keys" / "k.key",
        _env_file=None,
        **fields,
    )


def sealer_in(settings: Settings) -> Sealer:
    """A fresh key in the settings' key file, so sealing and opening stored cases and messages
    is part of every figure, as in production."""
    return load_sealer(None, settings.key_file, settings.database_path)


async def assemble_in(
    directory: Path, transport: Transport, delivery: Delivery = "background", **fields: Any
) -> Services:
    """The production assembly (``bot.assembly.assemble``) in ``directory``."""
    settings = settings_in(directory, **fields)
    return await assemble(settings, sealer_in(settings), transport, delivery)


async def stop(*tasks: asyncio.Task[Any]) -> None:
    for task in tasks:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
            log(f"warning: a background task had failed: {result!r}")


def failures(results: Iterable[object]) -> Counter[str]:
    """The exceptions among ``asyncio.gather`` results, by type (cancellations left out)."""
    return Counter(
        type(r).__name__
        for r in results
        if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError)
    )


@dataclass(frozen=True)
class Sent:
    chat_id: int
    at: float  # epoch seconds (compared with due times)
    mono: float  # monotonic seconds (for rates)
    html: str


class RecordingTransport:
    """The outbox's transport: accepts every message at once (or after ``latency`` seconds)
    and records when. No network; ``send_message`` returns increasing ints."""

    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self.sent: list[Sent] = []
        self._next_id = 0
        self.changed = asyncio.Event()

    async def _accept(self, chat_id: int, html: str) -> int:
        if self.latency:
            await asyncio.sleep(self.latency)
        self.sent.append(Sent(chat_id, time.time(), time.monotonic(), html))
        self.changed.set()
        self._next_id += 1
        return self._next_id

    async def send_message(self, chat_id: int, message: Message) -> int:
        return await self._accept(chat_id, message.html)

    async def edit_message(self, chat_id: int, message_id: int, message: Message) -> None:
        await self._accept(chat_id, message.html)

    async def send_document(self, chat_id: int, filename: str, content: bytes) -> None:
        await self._accept(chat_id, filename)

    async def delete_message(self, chat_id: int, message_id: int) -> None:
        await self._accept(chat_id, f"delete {message_id}")

    async def wait_for(self, done: Callable[[], bool], within: float) -> bool:
        """Whether ``done()`` came true within ``within`` seconds (checked on every message)."""
        try:
            async with asyncio.timeout(within):
                while not done():
                    self.changed.clear()
                    await self.changed.wait()
        except TimeoutError:
            return done()
        return True


class StubAPI(BaseRequest):
    """python-telegram-bot's request layer, answering every Bot API call at once, as Telegram
    would (``botapi.answer``), with no network; counts calls per method."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._message_ids = itertools.count(1000)

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        self.calls[api_method] += 1
        params = dict(request_data.parameters) if request_data else {}
        result = answer(api_method, params, self._message_ids.__next__, DATE)
        return 200, json.dumps({"ok": True, "result": result}).encode()
