"""The operator's endpoints over real HTTP: the real ``optout-bot run`` process against a Bot API
server on 127.0.0.1, with OPTOUT_HTTP_LISTEN set: health, readiness and Prometheus metrics
that count what happened and hold nothing about the person."""

from __future__ import annotations

import asyncio
import signal
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from bot.web import HttpServer, operator_app
from tests.support import open_storage
from tests.support.botapi_server import running_server
from tests.support.processes import bot_env, spawn_bot

CHAT = 4_242_001
TYPED = "Quokka-Brief-7731"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


async def get_async(url: str) -> tuple[int, str]:
    return await asyncio.to_thread(get, url)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def test_health_readiness_and_metrics_of_the_running_bot(tmp_path: Path) -> None:
    db = tmp_path / "data" / "operator.sqlite3"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running_server() as server:
        env = bot_env(db, server.url) | {"OPTOUT_HTTP_LISTEN": f"127.0.0.1:{port}"}
        proc = await spawn_bot(env)
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if (await get_async(f"{base}/readyz"))[0] == 200:
                        break
                except OSError:
                    pass
                await asyncio.sleep(0.1)
            assert await get_async(f"{base}/healthz") == (200, "ok\n")
            assert await get_async(f"{base}/readyz") == (200, "ready\n")

            server.queue_text(CHAT, "/start")
            server.queue_text(CHAT, TYPED)  # not an answer to the first question: a typed word
            while len(server.texts_for(CHAT)) < 3 and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            status, text = await get_async(f"{base}/metrics")
            assert status == 200
            found = samples(text)
            assert found[("optout_updates_total", (("kind", "message"),))] == 2
            assert found[("optout_steps_total", (("step", "new"),))] == 1  # /start
            assert found[("optout_steps_total", (("step", "platforms"),))] == 1  # the typed word
            assert found[("optout_sends_total", (("kind", "say"),))] >= 3
            assert ("optout_outbox_depth", (("lane", "chat"),)) in found
            assert ("optout_reminder_lag_seconds_count", ()) in found
            assert "process_resident_memory_bytes" in text
            # counts only: nothing about the person
            assert str(CHAT) not in text and TYPED not in text and "Alex" not in text
            assert (await get_async(f"{base}/nothing-here"))[0] == 404
        finally:
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(proc.wait(), 30) == 0


async def test_readiness_says_what_is_missing(tmp_path: Path) -> None:
    """Not ready before Telegram answered, ready after, not ready once the database is gone."""
    storage = await open_storage(tmp_path / "data" / "ready.sqlite3")
    reached: list[float | None] = [None]
    http = HttpServer(operator_app(storage, lambda: reached[0]), "127.0.0.1", 0)
    await http.start()
    base = f"http://127.0.0.1:{http.port}"
    try:
        status, text = await get_async(f"{base}/readyz")
        assert (status, text) == (503, "not ready: Telegram was not reached recently\n")
        reached[0] = time.monotonic()
        assert await get_async(f"{base}/readyz") == (200, "ready\n")
        reached[0] = time.monotonic() - 600
        assert (await get_async(f"{base}/readyz"))[0] == 503
        await storage.close()
        reached[0] = time.monotonic()
        status, text = await get_async(f"{base}/readyz")
        assert (status, text) == (503, "not ready: the database does not answer\n")
        assert await get_async(f"{base}/healthz") == (200, "ok\n")
    finally:
        await http.stop()
