"""The operator's endpoints over real HTTP: the real ``optout-bot run`` process against a Bot API
server on 127.0.0.1, with OPTOUT_HTTP_LISTEN set: health, readiness and Prometheus metrics
that count what happened and hold nothing about the person."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import socket
import sqlite3
import time
import urllib.error
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from bot.web import SECRET_HEADER, HttpServer, operator_app
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


def post(url: str, update: dict[str, object], secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    request = urllib.request.Request(url, json.dumps(update).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def case_rows(db: Path, chat_id: int) -> int:
    """Cases stored for a chat, read beside the running bot (WAL: readers do not block it)."""
    with contextlib.closing(sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)) as raw:
        return int(
            raw.execute("SELECT count(*) FROM cases WHERE chat_id = ?", (chat_id,)).fetchone()[0]
        )


async def test_webhook_takes_only_telegrams_posts_and_answers_after_the_commit(
    tmp_path: Path,
) -> None:
    """Webhook mode over real HTTP: the bot registers its URL and secret with Telegram and
    never polls; a post without or with a wrong secret is refused (401, 403) and changes
    nothing; Telegram's own post is answered 200 only once the case is saved; the same update
    posted again (Telegram retries) is answered and not applied twice. Health and metrics are
    served on the same port."""
    db = tmp_path / "data" / "webhook.sqlite3"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    secret = "s3cret_token-for-the-test"
    url = f"{base}/telegram/updates"
    with running_server() as server:
        env = bot_env(db, server.url) | {
            "OPTOUT_WEBHOOK_URL": url,
            "OPTOUT_WEBHOOK_SECRET": secret,
            "OPTOUT_WEBHOOK_LISTEN": f"127.0.0.1:{port}",
            "OPTOUT_LOG_LEVEL": "INFO",
        }
        proc = await spawn_bot(env, stderr=asyncio.subprocess.PIPE)
        try:
            deadline = time.monotonic() + 30
            while not server.webhook and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert server.webhook["url"] == url and server.webhook["secret_token"] == secret
            assert await get_async(f"{base}/readyz") == (200, "ready\n")

            first = server.text_update(CHAT, "/start")
            assert await asyncio.to_thread(post, url, first, None) == 401
            assert await asyncio.to_thread(post, url, first, "not-the-secret") == 403
            await asyncio.sleep(0.3)
            assert server.texts_for(CHAT) == [] and case_rows(db, CHAT) == 0

            assert await asyncio.to_thread(post, url, first, secret) == 200
            assert case_rows(db, CHAT) == 1  # saved before the answer
            while len(server.texts_for(CHAT)) < 2 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            answered = len(server.texts_for(CHAT))
            assert answered >= 2  # the welcome and the first question
            assert await asyncio.to_thread(post, url, first, secret) == 200  # a retry
            await asyncio.sleep(0.5)
            assert len(server.texts_for(CHAT)) == answered
            assert await get_async(f"{base}/healthz") == (200, "ok\n")
            found = samples((await get_async(f"{base}/metrics"))[1])
            assert found[("optout_updates_total", (("kind", "message"),))] == 2
            assert server.count("getUpdates") == 0
        finally:
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(proc.wait(), 30) == 0
            assert proc.stderr is not None
            log = (await proc.stderr.read()).decode()
        assert "a post without the secret token was refused" in log
        assert "a post with a wrong secret token was refused" in log
        assert secret not in log and "not-the-secret" not in log
