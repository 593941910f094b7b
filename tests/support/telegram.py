"""A Telegram test client: real PTB ``Update`` objects in, Bot API calls answered locally.

``FakeBotAPI`` is a PTB request layer that records every Bot API call and answers it the way
Telegram would, so the whole python-telegram-bot stack (Application, handlers, Bot, request
serialisation) runs unchanged, offline. ``TelegramClient`` plays a person: ``send`` a text,
``click`` a button by its label, read what the bot said.

Each recorded message also names the chat template it was rendered from
(``tests.support.running`` notes them), so tests read replies by template: ``tap`` a button by
its data, ``walk`` a journey script, and compare what an action returns -- the templates of
the messages it made the bot send or edit -- instead of English sentences.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from telegram.request import BaseRequest, RequestData

from bot.ingress import Ingress
from tests.support.journey import Move

BOT_ID = 777000
TOKEN = f"{BOT_ID}:TEST-token-not-real"
#: Telegram numbers a bot's updates in one sequence across all chats (the bot drops an update
#: whose id it has applied already), so every test client draws from this one.
UPDATE_IDS = itertools.count(1)
MESSAGES = ("sendMessage", "editMessageText")


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    ok: bool = True
    result: Any = None
    #: the chat template a message was rendered from (``letter`` for a letter's message)
    template: str | None = None

    @property
    def chat_id(self) -> int:
        return int(self.params.get("chat_id", 0))

    @property
    def text(self) -> str:
        return str(self.params.get("text", ""))

    @property
    def content(self) -> str:
        """A document's content, as text."""
        return b"".join(self.files.values()).decode("utf-8")


class FakeBotAPI(BaseRequest):
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._message_ids = itertools.count(1000)
        #: method -> exceptions to raise, or (HTTP status, JSON body) to answer, one per call
        self.fail_next: dict[str, list[Exception | tuple[int, dict[str, Any]]]] = {}
        #: every message the bot rendered (its HTML) -> the template it came from
        self.rendered: dict[str, str] = {}

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
        if api_method in MESSAGES:
            call.template = self.rendered.get(str(params["text"]))
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


def api_error(status: int, description: str, **parameters: Any) -> tuple[int, dict[str, Any]]:
    """What the Bot API answers when it refuses a call, for ``FakeBotAPI.fail``."""
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return status, body


SERVER_ERROR = api_error(500, "Internal Server Error")


class TelegramClient:
    """One person in a private chat with the bot (or, with ``group``, in a group of that title)."""

    def __init__(
        self,
        api: FakeBotAPI,
        ingress: Ingress,
        chat_id: int = 5550001,
        language: str = "en",
        group: str | None = None,
    ) -> None:
        self.api = api
        self.ingress = ingress
        self.chat_id = chat_id
        self.language = language
        self.group = group
        self._update_ids = UPDATE_IDS
        self._queries: set[str] = set()  # the ids of the button presses this person made

    def _user(self) -> dict[str, Any]:
        return {
            "id": self.chat_id,
            "is_bot": False,
            "first_name": "Test",
            "language_code": self.language,
        }

    def _message(self, **extra: Any) -> dict[str, Any]:
        chat = {"id": self.chat_id, "type": "group", "title": self.group} if self.group else None
        return {
            "message_id": next(self._update_ids) + 10_000,
            "date": 1_790_000_000,
            "chat": chat or {"id": self.chat_id, "type": "private", "first_name": "Test"},
            "from": self._user(),
            **extra,
        }

    async def _process(self, data: dict[str, Any]) -> list[str]:
        """Through the ingress, as ``optout-bot run`` hands over what getUpdates returned.
        Returns the templates of the messages this made the bot send or edit in this chat."""
        since = len(self.api.calls)
        await self.ingress.accept([data])
        return self.templates(since)

    # -- the updates (as getUpdates returns them) ------------------------------------------

    def text_update(self, text: str) -> dict[str, Any]:
        extra: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            extra["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        return {"update_id": next(self._update_ids), "message": self._message(**extra)}

    def press_update(self, data: str) -> dict[str, Any]:
        query = str(next(self._update_ids))
        self._queries.add(query)
        return {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": query,
                "from": self._user(),
                "chat_instance": "ci",
                "data": data,
                "message": {
                    **self._message(text="(earlier message)"),
                    "from": {"id": BOT_ID, "is_bot": True, "first_name": "OptOut"},
                },
            },
        }

    def update(self, move: Move) -> dict[str, Any]:
        """One move of a journey script, as an update."""
        return self.press_update(move.value) if move.press else self.text_update(move.value)

    # -- doing --------------------------------------------------------------------------------

    async def send(self, text: str) -> list[str]:
        return await self._process(self.text_update(text))

    async def send_raw(self, **message: Any) -> list[str]:
        """A message with arbitrary content: a sticker, a photo, a location…"""
        return await self._process(
            {"update_id": next(self._update_ids), "message": self._message(**message)}
        )

    async def send_edited(self, text: str) -> list[str]:
        """An earlier message of this person, edited to ``text``."""
        edited = {**self._message(text=text), "edit_date": 1_790_000_100}
        return await self._process({"update_id": next(self._update_ids), "edited_message": edited})

    async def press(self, data: str) -> list[str]:
        """A press on a button with this data, shown or not (stale, forged)."""
        return await self._process(self.press_update(data))

    async def tap(self, data: str) -> list[str]:
        """Press a button the bot has shown in this chat, by its data."""
        shown = [b.get("callback_data") for b in self.buttons()]
        assert data in shown, f"no button {data!r}; last buttons: {self.button_labels()}"
        return await self.press(data)

    async def click(self, label: str) -> list[str]:
        """Press the button with this label on the most recent message that has buttons."""
        for markup in reversed(self.keyboards()):
            for row in markup:
                for button in row:
                    if button["text"] == label and "callback_data" in button:
                        return await self.press(button["callback_data"])
        raise AssertionError(f"no button {label!r}; last buttons: {self.button_labels()}")

    async def walk(self, script: Iterable[Move]) -> None:
        """Make every move of a journey script: type its text, or tap its button."""
        for move in script:
            await (self.tap(move.value) if move.press else self.send(move.value))

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

    def notices(self) -> list[str]:
        """The notices shown on this person's tapped buttons (answerCallbackQuery's text)."""
        return [
            c.text
            for c in self.api.calls
            if c.method == "answerCallbackQuery"
            and c.params.get("callback_query_id") in self._queries
            and c.text
        ]

    def edits(self) -> list[Call]:
        return [c for c in self.messages() if c.method == "editMessageText"]

    def messages(self, since: int = 0) -> list[Call]:
        """Messages sent or edited in this chat, after the first ``since`` Bot API calls."""
        return [
            c
            for c in self.api.calls[since:]
            if c.method in MESSAGES and c.ok and c.chat_id == self.chat_id
        ]

    def templates(self, since: int = 0) -> list[str]:
        """The chat templates of the messages sent or edited here (``letter``: a letter's)."""
        return [c.template or "?" for c in self.messages(since)]

    def last_template(self) -> str:
        return self.templates()[-1]

    def text_of(self, template: str) -> str:
        """The text of the last message rendered from ``template``."""
        texts = [c.text for c in self.messages() if c.template == template]
        assert texts, f"no {template!r} message; templates: {self.templates()}"
        return texts[-1]

    def keyboards(self) -> list[list[list[dict[str, Any]]]]:
        boards = []
        for call in self.sent():
            markup = call.params.get("reply_markup")
            if isinstance(markup, str):
                markup = json.loads(markup)
            if markup:
                boards.append(markup["inline_keyboard"])
        return boards

    def buttons(self) -> list[dict[str, Any]]:
        """Every button shown in this chat, oldest first (its text, its data or URL)."""
        return [button for board in self.keyboards() for row in board for button in row]

    def button_labels(self) -> list[str]:
        boards = self.keyboards()
        return [b["text"] for row in boards[-1] for b in row] if boards else []

    def documents(self) -> list[Call]:
        return [c for c in self.sent() if c.method == "sendDocument"]
