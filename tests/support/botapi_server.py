"""A stand-in Telegram Bot API server on 127.0.0.1, for running the real bot process offline.

It answers the calls python-telegram-bot makes (getMe, getUpdates, sendMessage, …) the way
Telegram would, queues updates for the bot to fetch, and records every message with the time
it arrived, so a test can kill and restart the bot and then check what a person received.

``getUpdates`` behaves like Telegram's: an update stays queued until a later call asks for an
``offset`` past its id (that call confirms it), at most ``limit`` updates come back in id
order, and with nothing waiting the call is held for up to ``timeout`` seconds (capped at
``MAX_HOLD`` so tests stay fast) and answered as soon as an update is queued. Every answer is
recorded (``polls``) with when it was asked, when it was sent and which update ids it held.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

BOT_ID = 777001
#: The longest a getUpdates call is held while nothing is queued (Telegram: up to ``timeout``).
MAX_HOLD = 0.5


@dataclass(frozen=True)
class Received:
    method: str
    chat_id: int
    text: str
    at: float


@dataclass(frozen=True)
class Poll:
    """One getUpdates answer: when it was asked for and sent, its offset, the ids it held, and
    whether it reached the bot's socket (not when the process asking had died meanwhile)."""

    asked_at: float
    at: float
    offset: int | None
    update_ids: tuple[int, ...]
    delivered: bool = True


class BotAPIServer:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.calls: list[str] = []
        #: updates not yet confirmed by an offset past their id, in id order
        self.updates: list[dict[str, Any]] = []
        #: every getUpdates answer, in the order they were sent
        self.polls: list[Poll] = []
        #: what the bot last gave setWebhook (url, secret_token, allowed_updates)
        self.webhook: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._message_id = 1000
        self._update_id = 100_000
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.socket.getsockname()[:2]
        return f"http://{host}:{port}/bot"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def count(self, method: str) -> int:
        with self._lock:
            return self.calls.count(method)

    def texts_for(self, chat_id: int) -> list[str]:
        with self._lock:
            return [r.text for r in self.received if r.chat_id == chat_id]

    def received_for(self, chat_id: int) -> list[Received]:
        """Everything sent to one chat, with the time each arrived."""
        with self._lock:
            return [r for r in self.received if r.chat_id == chat_id]

    # -- inbound: what people write --------------------------------------------------------------

    def queue_text(
        self, chat_id: int, text: str, first_name: str = "Alex", language_code: str = "en"
    ) -> int:
        """Queue a person's text message in their private chat, as Telegram would send it.
        Returns its update id."""
        with self._changed:
            update = self._text_update(chat_id, text, first_name, language_code)
            self.updates.append(update)
            self._changed.notify_all()
        return int(update["update_id"])

    def text_update(
        self, chat_id: int, text: str, first_name: str = "Alex", language_code: str = "en"
    ) -> dict[str, Any]:
        """A person's text message as Telegram sends it to a webhook (not queued here)."""
        with self._lock:
            return self._text_update(chat_id, text, first_name, language_code)

    def _text_update(
        self, chat_id: int, text: str, first_name: str, language_code: str
    ) -> dict[str, Any]:
        """The update for a text message; the caller holds ``self._lock``."""
        self._update_id += 1
        self._message_id += 1
        update_id = self._update_id
        message: dict[str, Any] = {
            "message_id": self._message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": first_name},
            "from": {
                "id": chat_id,
                "is_bot": False,
                "first_name": first_name,
                "language_code": language_code,
            },
            "text": text,
        }
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return {"update_id": update_id, "message": message}

    def pending(self) -> list[int]:
        """Ids of the updates Telegram still holds (not yet confirmed)."""
        with self._lock:
            return [u["update_id"] for u in self.updates]

    def polls_since(self, index: int) -> list[Poll]:
        with self._lock:
            return self.polls[index:]

    def wait_for_poll(
        self, since: int, accept: Callable[[Poll], bool], timeout: float
    ) -> Poll | None:
        """Block until a getUpdates answer from ``polls[since:]`` passes ``accept`` (or None
        after ``timeout`` seconds); it returns right after that answer was sent."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for poll in self.polls[since:]:
                    if accept(poll):
                        return poll
                since = len(self.polls)
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(left)

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = _int(params.get("offset"))
        limit = min(max(_int(params.get("limit")) or 100, 1), 100)
        hold = min(max(float(params.get("timeout") or 0), 0.0), MAX_HOLD)
        deadline = time.monotonic() + hold
        with self._changed:
            if offset is not None:
                if offset < 0:  # Telegram: only the last -offset updates, the rest forgotten
                    self.updates = self.updates[offset:]
                else:
                    self.updates = [u for u in self.updates if u["update_id"] >= offset]
            while not self.updates and (left := deadline - time.monotonic()) > 0:
                self._changed.wait(left)
            return sorted(self.updates, key=lambda u: int(u["update_id"]))[:limit]

    def _record_poll(
        self, asked_at: float, offset: int | None, result: Any, delivered: bool
    ) -> None:
        ids = tuple(int(u["update_id"]) for u in result)
        with self._changed:
            self.polls.append(Poll(asked_at, time.time(), offset, ids, delivered))
            self._changed.notify_all()

    # -- the Bot API -----------------------------------------------------------------------------

    def _answer(self, method: str, params: dict[str, Any]) -> Any:
        with self._lock:
            self.calls.append(method)
        if method == "getMe":
            return {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "OptOut",
                "username": "optout_bot",
                "can_join_groups": False,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if method.lower() == "getupdates":
            return self._get_updates(params)
        if method == "setWebhook":
            with self._lock:
                self.webhook = dict(params)
            return True
        if method == "getWebhookInfo":
            with self._lock:
                url = str(self.webhook.get("url", ""))
            return {"url": url, "has_custom_certificate": False, "pending_update_count": 0}
        if method in ("sendMessage", "editMessageText", "sendDocument"):
            chat_id = int(params.get("chat_id", 0))
            with self._lock:
                self._message_id += 1
                self.received.append(
                    Received(method, chat_id, str(params.get("text", "")), time.time())
                )
                message_id = self._message_id
            return {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "text": params.get("text", ""),
            }
        return True

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                asked_at = time.time()
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                params = parse_parameters(self.headers.get("Content-Type", ""), body)
                method = self.path.rsplit("/", 1)[-1]
                result = server._answer(method, params)
                payload = json.dumps({"ok": True, "result": result}).encode()
                delivered = True
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    self.wfile.flush()
                except ConnectionError:  # the bot was killed while its call was held
                    delivered = False
                if method.lower() == "getupdates":
                    server._record_poll(asked_at, _int(params.get("offset")), result, delivered)

            do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                return None

        return Handler


class _Server(ThreadingHTTPServer):
    #: The bot opens dozens of connections at once (its sender works on many chats at a time);
    #: the default backlog of 5 makes the kernel reset some of them, which Telegram never does.
    request_queue_size = 256
    daemon_threads = True


def _int(value: Any) -> int | None:
    """A numeric parameter as JSON or form data carries it (None when absent or empty)."""
    if value is None or value == "":
        return None
    return int(value)


def parse_parameters(content_type: str, body: bytes) -> dict[str, Any]:
    """Bot API parameters as python-telegram-bot sends them (JSON, multipart or a form)."""
    if content_type.startswith("application/json"):
        return dict(json.loads(body or b"{}"))
    if content_type.startswith("multipart/form-data"):
        fields: dict[str, Any] = {}
        boundary = content_type.split("boundary=", 1)[1].encode()
        for part in body.split(b"--" + boundary):
            head, _, value = part.partition(b"\r\n\r\n")
            if b'name="' in head and b"filename=" not in head:
                name = head.split(b'name="', 1)[1].split(b'"', 1)[0].decode()
                fields[name] = value.rstrip(b"\r\n").decode("utf-8", "replace")
        return fields
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8")).items()}


@contextmanager
def running_server() -> Iterator[BotAPIServer]:
    server = BotAPIServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
