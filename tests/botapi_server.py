"""A stand-in Telegram Bot API server on 127.0.0.1, for running the real bot process offline.

It answers the calls python-telegram-bot makes (getMe, getUpdates, sendMessage, …) the way
Telegram would, queues updates for the bot to fetch, and records every message with the time
it arrived, so a test can kill and restart the bot and then check what a person received.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

BOT_ID = 777001


@dataclass(frozen=True)
class Received:
    method: str
    chat_id: int
    text: str
    at: float


class BotAPIServer:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.calls: list[str] = []
        self.updates: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._message_id = 1000
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
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
        if method == "getUpdates":
            time.sleep(0.2)  # a short long-poll
            with self._lock:
                updates, self.updates = self.updates, []
            return updates
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
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                params = _parse(self.headers.get("Content-Type", ""), body)
                method = self.path.rsplit("/", 1)[-1]
                payload = json.dumps(
                    {"ok": True, "result": server._answer(method, params)}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                return None

        return Handler


def _parse(content_type: str, body: bytes) -> dict[str, Any]:
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
