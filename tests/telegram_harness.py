"""A Telegram test client: real PTB ``Update`` objects in, Bot API calls answered locally.

``FakeBotAPI`` is a PTB request layer that records every Bot API call and answers it the way
Telegram would, so the whole python-telegram-bot stack (Application, handlers, Bot, request
serialisation) runs unchanged, offline. ``TelegramClient`` plays a person: ``send`` a text,
``click`` a button by its label, read what the bot said.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telegram.request import BaseRequest, RequestData

from bot.__main__ import TelegramBot, build_telegram
from bot.settings import Settings
from bot.telegram_adapter import set_command_menus
from tests.conftest import key_file_for, sealer_for_db

BOT_ID = 777000
TOKEN = f"{BOT_ID}:TEST-token-not-real"
#: Telegram numbers a bot's updates in one sequence across all chats (the bot drops an update
#: whose id it has applied already), so every test client draws from this one.
UPDATE_IDS = itertools.count(1)


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    ok: bool = True
    result: Any = None


class FakeBotAPI(BaseRequest):
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._message_ids = itertools.count(1000)
        #: method -> exceptions to raise, or (HTTP status, JSON body) to answer, one per call
        self.fail_next: dict[str, list[Exception | tuple[int, dict[str, Any]]]] = {}

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
        params = dict(request_data.parameters) if request_data else {}
        files: dict[str, bytes] = {}
        if request_data is not None and request_data.multipart_data:
            for name, (_, content, _) in request_data.multipart_data.items():
                # PTB hands a part's content over as bytes or, since 21.5, as a file handle
                files[name] = content if isinstance(content, bytes) else content.read()
        call = Call(api_method, params, files)
        self.calls.append(call)
        failures = self.fail_next.get(api_method)
        if failures:
            call.ok = False
            failure = failures.pop(0)
            if isinstance(failure, Exception):
                raise failure
            status, body = failure
            return status, json.dumps(body).encode()
        call.result = self._answer(api_method, params)
        return 200, json.dumps({"ok": True, "result": call.result}).encode()

    def fail(self, method: str, *failures: Exception | tuple[int, dict[str, Any]]) -> None:
        self.fail_next.setdefault(method, []).extend(failures)

    def _answer(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "OptOut",
                "username": "optout_test_bot",
                "can_join_groups": False,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if method == "editMessageText":
            return {
                "message_id": int(params["message_id"]),
                "date": 1_790_000_000,
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                "text": params["text"],
            }
        if method in ("sendMessage", "sendDocument"):
            message: dict[str, Any] = {
                "message_id": next(self._message_ids),
                "date": 1_790_000_000,
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "OptOut"},
            }
            if method == "sendMessage":
                message["text"] = params["text"]
            else:
                message["document"] = {
                    "file_id": "f1",
                    "file_unique_id": "u1",
                    "file_name": "x.txt",
                }
            return message
        return True


class TelegramClient:
    """One person in a private chat with the bot."""

    def __init__(
        self, app: Any, api: FakeBotAPI, chat_id: int = 5550001, language: str = "en"
    ) -> None:
        self.app = app
        self.api = api
        self.chat_id = chat_id
        self.language = language
        self._update_ids = UPDATE_IDS

    def _user(self) -> dict[str, Any]:
        return {
            "id": self.chat_id,
            "is_bot": False,
            "first_name": "Test",
            "language_code": self.language,
        }

    def _message(self, **extra: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._update_ids) + 10_000,
            "date": 1_790_000_000,
            "chat": {"id": self.chat_id, "type": "private", "first_name": "Test"},
            "from": self._user(),
            **extra,
        }

    async def _process(self, data: dict[str, Any]) -> None:
        """Through the ingress, as ``optout-bot run`` hands over what getUpdates returned."""
        await bot_of(self.app).ingress.accept([data])

    async def send(self, text: str) -> None:
        extra: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            extra["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        await self._process(
            {"update_id": next(self._update_ids), "message": self._message(**extra)}
        )

    async def send_raw(self, **message: Any) -> None:
        """A message with arbitrary content: a sticker, a photo, a location…"""
        await self._process(
            {"update_id": next(self._update_ids), "message": self._message(**message)}
        )

    async def press(self, data: str) -> None:
        await self._process(
            {
                "update_id": next(self._update_ids),
                "callback_query": {
                    "id": str(next(self._update_ids)),
                    "from": self._user(),
                    "chat_instance": "ci",
                    "data": data,
                    "message": {
                        **self._message(text="(earlier message)"),
                        "from": {"id": BOT_ID, "is_bot": True, "first_name": "OptOut"},
                    },
                },
            }
        )

    async def click(self, label: str) -> None:
        """Press the button with this label on the most recent message that has buttons."""
        for markup in reversed(self.keyboards()):
            for row in markup:
                for button in row:
                    if button["text"] == label and "callback_data" in button:
                        await self.press(button["callback_data"])
                        return
        raise AssertionError(f"no button {label!r}; last buttons: {self.button_labels()}")

    # -- reading what the bot said --------------------------------------------------------

    def sent(self) -> list[Call]:
        """Messages and documents that reached this chat (failed calls excluded)."""
        return [
            c
            for c in self.api.calls
            if c.method in ("sendMessage", "sendDocument")
            and c.ok
            and int(c.params["chat_id"]) == self.chat_id
        ]

    def edits(self) -> list[Call]:
        return [c for c in self.api.calls if c.method == "editMessageText" and c.ok]

    def texts(self) -> list[str]:
        return [c.params["text"] for c in self.sent() if c.method == "sendMessage"]

    def last_text(self) -> str:
        return self.texts()[-1]

    def keyboards(self) -> list[list[list[dict[str, Any]]]]:
        boards = []
        for call in self.sent():
            markup = call.params.get("reply_markup")
            if isinstance(markup, str):
                markup = json.loads(markup)
            if markup:
                boards.append(markup["inline_keyboard"])
        return boards

    def button_labels(self) -> list[str]:
        boards = self.keyboards()
        return [b["text"] for row in boards[-1] for b in row] if boards else []

    def documents(self) -> list[Call]:
        return [c for c in self.sent() if c.method == "sendDocument"]


async def start_app(db: Path, api: FakeBotAPI, **overrides: Any) -> Any:
    """Build the real application from settings, as ``optout-bot run`` does, and start it up."""
    overrides.setdefault("input_burst", 1000)  # a test clicks faster than any person
    settings = Settings(
        telegram_token=TOKEN,
        database_path=db,
        key_file=key_file_for(db),
        _env_file=None,
        **overrides,
    )
    bot = await build_telegram(settings, sealer_for_db(db), request=api, delivery="inline")
    await bot.initialize()
    await set_command_menus(bot.app, bot.services.renderer)
    await bot.services.outbox.flush()
    _BOTS[id(bot.app)] = bot
    return bot.app


async def stop_app(app: Any) -> None:
    await _BOTS.pop(id(app)).stop()


#: The assembled bot behind each running test application.
_BOTS: dict[int, TelegramBot] = {}


def bot_of(app: Any) -> TelegramBot:
    return _BOTS[id(app)]


def services(app: Any) -> dict[str, Any]:
    """The storage, outbox, scheduler, inbox and ingress the application runs with."""
    bot = bot_of(app)
    return {
        "storage": bot.services.storage,
        "outbox": bot.services.outbox,
        "scheduler": bot.services.scheduler,
        "inbox": bot.services.inbox,
        "ingress": bot.ingress,
    }
