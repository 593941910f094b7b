"""Keeping time through python-telegram-bot: the countdown edits one message; Bot API failures
(flood control, 5xx, time-outs, a blocked bot) are injected at the request layer."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from telegram.error import TimedOut

from bot.inbox import utc_now
from tests.telegram_harness import FakeBotAPI, TelegramClient, services, start_app, stop_app
from tests.test_telegram_journey import walk_to_letter


async def submitted_with_code(db_path: Path) -> tuple[object, FakeBotAPI, TelegramClient]:
    api = FakeBotAPI()
    app = await start_app(db_path, api)
    client = TelegramClient(app, api)
    await walk_to_letter(client)
    await client.click("I submitted the form")
    await client.click("Yes, I have the code")
    return app, api, client


async def fire_due(app: object, after: timedelta) -> int:
    """What the scheduler does when ``after`` has passed: claim due reminders, run them."""
    svc = services(app)
    handled = 0
    for reminder in await svc["storage"].claim_due(utc_now() + after):
        await svc["inbox"].handle_reminder(reminder)
        handled += 1
    return handled


async def test_countdown_message_is_edited_not_resent(db_path: Path) -> None:
    """The countdown is one message; a tick edits it (editMessageText on the same id)."""
    app, _api, client = await submitted_with_code(db_path)
    try:
        countdown = next(
            c for c in client.sent() if "left to enter Meta" in c.params.get("text", "")
        )
        assert await fire_due(app, timedelta(minutes=6)) >= 1
        (edit,) = client.edits()
        assert int(edit.params["message_id"]) == countdown.result["message_id"]
        assert "left to enter Meta" in edit.params["text"]
    finally:
        await stop_app(app)


async def test_flood_control_keeps_the_message_for_later(db_path: Path) -> None:
    """429 with retry_after: nothing is lost; the message goes out on the next attempt."""
    api = FakeBotAPI()
    app = await start_app(db_path, api)
    client = TelegramClient(app, api)
    try:
        api.fail(
            "sendMessage",
            (
                429,
                {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 3",
                    "parameters": {"retry_after": 3},
                },
            ),
        )
        await client.send("/help")
        assert client.texts() == []
        assert len(await services(app)["storage"].pending(client.chat_id)) == 1
        await services(app)["outbox"].flush()
        assert "What I can do" in client.last_text()
    finally:
        await stop_app(app)


async def test_server_errors_and_timeouts_are_retried(db_path: Path) -> None:
    """A 502, a 500 and a time-out in a row: the reply still arrives, exactly once."""
    api = FakeBotAPI()
    app = await start_app(db_path, api)
    client = TelegramClient(app, api)
    try:
        api.fail(
            "sendMessage",
            (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}),
            (500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}),
            TimedOut(),
        )
        await client.send("/privacy")
        for _ in range(3):
            await services(app)["outbox"].flush()
        assert [t for t in client.texts() if "Privacy notice" in t] != []
        assert len([t for t in client.texts() if "Privacy notice" in t]) == 1
    finally:
        await stop_app(app)


async def test_blocked_bot_stops_everything_for_that_chat(db_path: Path) -> None:
    """403 Forbidden: the queue and every reminder of that chat are dropped."""
    app, api, client = await submitted_with_code(db_path)
    try:
        storage = services(app)["storage"]
        assert await storage.reminders(client.chat_id) != {}
        api.fail(
            "editMessageText",
            (
                403,
                {
                    "ok": False,
                    "error_code": 403,
                    "description": "Forbidden: bot was blocked by the user",
                },
            ),
        )
        await fire_due(app, timedelta(minutes=6))
        assert await storage.reminders(client.chat_id) == {}
        assert await storage.pending(client.chat_id) == []
    finally:
        await stop_app(app)


async def test_message_not_modified_counts_as_delivered(db_path: Path) -> None:
    """Editing with identical text: Telegram's 400 "message is not modified" is success."""
    app, api, client = await submitted_with_code(db_path)
    try:
        api.fail(
            "editMessageText",
            (
                400,
                {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: message is not modified: specified new "
                    "message content and reply markup are exactly the same",
                },
            ),
        )
        await fire_due(app, timedelta(minutes=6))
        assert await services(app)["storage"].pending(client.chat_id) == []
    finally:
        await stop_app(app)
