"""A stand-in Bot API: the answers Telegram gives, and a server child on 127.0.0.1.

``answer`` is what both stand-ins say: the in-process one of steps.py (``shell.StubAPI``) and
the server sending.py talks to over real HTTP. The server runs as a child process
(``python -m benchmarks._support.botapi``), so its threads take neither the benchmark's CPU
nor its GIL; ``StubServer`` starts it and asks it what arrived. Only the standard library
here: the server child imports nothing else.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from benchmarks._support.child import spawn
from tests.support.botapi_server import parse_parameters

TOKEN = "123:bench"
BOT_ID = 123
#: The calls that send something to a chat (the server records when each arrives).
RECORDED = ("sendMessage", "editMessageText", "sendDocument")


def answer(method: str, params: dict[str, Any], next_id: Callable[[], int], date: int) -> Any:
    """The ``result`` Telegram returns for ``method``: the bot for getMe, the message for a
    send or an edit (``next_id`` numbers new messages), True for anything else."""
    if method == "getMe":
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Bench",
            "username": "bench_bot",
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
    if method in RECORDED:
        message: dict[str, Any] = {
            "message_id": int(params.get("message_id") or next_id()),
            "date": date,
            "chat": {"id": int(params.get("chat_id", 0)), "type": "private"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Bench"},
        }
        if method == "sendDocument":
            message["document"] = {"file_id": "f1", "file_unique_id": "u1", "file_name": "x"}
        else:
            message["text"] = str(params.get("text", ""))
        return message
    return True


# -- the server child -------------------------------------------------------------------------


def serve() -> None:
    """Serve until stdin closes. ``/_reset?latency=S`` sets the latency and forgets what
    arrived; ``/_arrivals`` returns ``[[method, chat_id, epoch seconds], ...]``."""
    lock = threading.Lock()
    arrivals: list[tuple[str, int, float]] = []
    state = {"latency": 0.0, "message_id": 1000}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as api.telegram.org

        def do_POST(self) -> None:
            arrived = time.time()
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            path, _, query = self.path.partition("?")
            method = path.rsplit("/", 1)[-1]
            result: Any
            if method == "_reset":
                latency = float(urllib.parse.parse_qs(query).get("latency", ["0"])[0])
                with lock:
                    arrivals.clear()
                    state["latency"] = latency
                result = True
            elif method == "_arrivals":
                with lock:
                    result = list(arrivals)
            else:
                params = parse_parameters(self.headers.get("Content-Type", ""), body)
                with lock:
                    state["message_id"] += 1
                    message_id = int(state["message_id"])
                    latency = float(state["latency"])
                    if method in RECORDED:
                        arrivals.append((method, int(params.get("chat_id", 0)), arrived))
                if latency:
                    time.sleep(latency)
                result = answer(method, params, lambda: message_id, int(time.time()))
            payload = json.dumps({"ok": True, "result": result}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST

        def log_message(self, format: str, *args: Any) -> None:
            return None

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256  # 30 connections opened at once must not wait for a SYN retry

        def handle_error(self, request: Any, client_address: Any) -> None:
            if not isinstance(sys.exc_info()[1], ConnectionError):  # a call cancelled at the end
                super().handle_error(request, client_address)

    server = Server(("127.0.0.1", 0), Handler)
    print(f"PORT {server.server_address[1]}", flush=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    sys.stdin.read()  # the parent closes our stdin when it is done
    server.shutdown()
    server.server_close()


class StubServer:
    """The server child, seen from the benchmark."""

    def __init__(self) -> None:
        self._proc = spawn("benchmarks._support.botapi")
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line.startswith("PORT "):
            self.close()
            raise RuntimeError(f"the stub server did not start: {line!r}")
        self.port = int(line.split()[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def _call(self, name: str, **query: Any) -> Any:
        url = f"http://127.0.0.1:{self.port}/_{name}?{urllib.parse.urlencode(query)}"
        with urllib.request.urlopen(url, data=b"", timeout=30) as reply:
            return json.loads(reply.read())["result"]

    def reset(self, latency: float) -> None:
        self._call("reset", latency=latency)

    def arrivals(self) -> list[tuple[str, int, float]]:
        return [(m, int(c), float(t)) for m, c, t in self._call("arrivals")]

    def close(self) -> None:
        if self._proc.stdin is not None:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


if __name__ == "__main__":
    serve()
