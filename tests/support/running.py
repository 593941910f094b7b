"""The real Telegram bot in a test, started and stopped: ``running_bot``.

It builds the application from settings as ``optout-bot run`` does, on ``FakeBotAPI``
(``tests.support.telegram``), and notes for every message which chat template it was rendered
from (``templates/chat/<name>.html.j2``) by wrapping the running bot's renderer, from here:
production code has no switch for tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.__main__ import TelegramBot, build_telegram
from bot.assembly import Services
from bot.ingress import Ingress
from bot.renderer import Letter, Message, Renderer
from bot.settings import Settings
from bot.storage import Storage
from bot.telegram_adapter import set_command_menus
from conversations import Case, Say
from tests.support import key_file_for, sealer_for_db
from tests.support.telegram import TOKEN, FakeBotAPI, TelegramClient


@dataclass
class RunningBot:
    """The assembled bot a test talks to, typed: its services, its ingress, the Bot API calls
    it made, and every error its application's handlers raised."""

    telegram: TelegramBot
    api: FakeBotAPI
    errors: list[BaseException] = field(default_factory=list)

    @property
    def services(self) -> Services:
        return self.telegram.services

    @property
    def storage(self) -> Storage:
        return self.telegram.storage

    @property
    def ingress(self) -> Ingress:
        return self.telegram.ingress

    def client(
        self, chat_id: int = 5550001, language: str = "en", group: str | None = None
    ) -> TelegramClient:
        """A person in a private chat with the bot (or, with ``group``, a group of that title)."""
        return TelegramClient(self.api, self.ingress, chat_id, language, group)

    async def case(self, chat_id: int) -> Case | None:
        return await self.storage.load(chat_id)

    async def run_due(self) -> int:
        """What the running scheduler does next (it does not run in tests on its own): the
        reminders due now, the sender's reports among them (an e-mail's outcome, a message
        too late to send), each step's replies delivered before it returns."""
        return await self.services.scheduler.run_due()


@asynccontextmanager
async def running_bot(
    db: Path, api: FakeBotAPI | None = None, **overrides: Any
) -> AsyncIterator[RunningBot]:
    """Build the real application from settings, as ``optout-bot run`` does, start it up, and
    stop it at the end. Replies are delivered before an input returns; ``overrides`` are
    settings; ``api`` is a request layer prepared with failures."""
    overrides.setdefault("input_burst", 1000)  # a test clicks faster than any person
    settings = Settings(
        telegram_token=TOKEN,
        database_path=db,
        key_file=key_file_for(db),
        _env_file=None,
        **overrides,
    )
    api = api or FakeBotAPI()
    telegram = await build_telegram(settings, sealer_for_db(db), request=api, delivery="inline")
    running = RunningBot(telegram, api)
    record_templates(telegram.services.renderer, api.rendered)

    async def collect(_update: object, context: Any) -> None:
        running.errors.append(context.error)

    telegram.app.add_error_handler(collect)
    try:
        await telegram.initialize()
        await set_command_menus(telegram.app, telegram.services.renderer)
        await telegram.services.sender.flush()
        yield running
    finally:
        await telegram.stop()


def record_templates(renderer: Renderer, rendered: dict[str, str]) -> None:
    """Note, for every message this renderer instance renders, the chat template it came from
    (the instance's methods are wrapped; the class and production code are untouched)."""
    message, letter_message = renderer.message, renderer.letter_message

    def recorded_message(say: Say, language: str) -> Message:
        out = message(say, language)
        rendered[out.html] = say.message
        return out

    def recorded_letter_message(letter: Letter, *args: Any, **kwargs: Any) -> Message:
        out = letter_message(letter, *args, **kwargs)
        rendered[out.html] = "letter"
        return out

    renderer.message = recorded_message  # type: ignore[method-assign]
    renderer.letter_message = recorded_letter_message  # type: ignore[method-assign]
