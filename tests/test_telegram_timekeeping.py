"""Keeping time through python-telegram-bot: the countdown edits one message; Bot API failures
(flood control, 5xx, time-outs, a blocked bot) are injected at the request layer."""

from __future__ import annotations

from datetime import timedelta

from telegram.error import TimedOut

from bot.inbox import utc_now
from tests.support.journey import TO_CODE
from tests.support.running import RunningBot
from tests.support.telegram import TelegramClient, api_error


async def with_code(bot: RunningBot) -> TelegramClient:
    """A person who submitted the form and has Meta's code: the countdown runs."""
    client = bot.client()
    await client.walk(TO_CODE)
    return client


async def fire_due(bot: RunningBot, after: timedelta) -> int:
    """What the scheduler does when ``after`` has passed: claim due reminders, run them."""
    handled = 0
    for reminder in await bot.storage.claim_due(utc_now() + after):
        await bot.services.inbox.handle_reminder(reminder)
        handled += 1
    return handled


async def test_countdown_message_is_edited_not_resent(bot: RunningBot) -> None:
    """The countdown is one message; a tick edits it (editMessageText on the same id)."""
    client = await with_code(bot)
    (countdown,) = [c for c in client.sent() if c.template == "countdown"]
    assert await fire_due(bot, timedelta(minutes=6)) >= 1
    (edit,) = [e for e in client.edits() if e.template == "countdown"]
    assert int(edit.params["message_id"]) == countdown.result["message_id"]
    assert edit.template == "countdown"


async def test_flood_control_keeps_the_message_for_later(bot: RunningBot) -> None:
    """429 with retry_after: nothing is lost; the message goes out on the next attempt."""
    client = bot.client()
    bot.api.fail("sendMessage", api_error(429, "Too Many Requests: retry after 3", retry_after=3))
    assert await client.send("/help") == []
    assert len(await bot.storage.pending(client.chat_id)) == 1
    await bot.services.sender.flush()
    assert client.templates() == ["help"]


async def test_server_errors_and_timeouts_are_retried(bot: RunningBot) -> None:
    """A 502, a 500 and a time-out in a row: the reply still arrives, exactly once."""
    client = bot.client()
    bot.api.fail(
        "sendMessage",
        api_error(502, "Bad Gateway"),
        api_error(500, "Internal Server Error"),
        TimedOut(),
    )
    await client.send("/privacy")
    for _ in range(3):
        await bot.services.sender.flush()
    assert client.templates() == ["privacy"]


async def test_blocked_bot_stops_everything_for_that_chat(bot: RunningBot) -> None:
    """403 Forbidden: the queue and every reminder of that chat are dropped."""
    client = await with_code(bot)
    assert await bot.storage.reminders(client.chat_id) != {}
    bot.api.fail("editMessageText", api_error(403, "Forbidden: bot was blocked by the user"))
    await fire_due(bot, timedelta(minutes=6))
    assert await bot.storage.reminders(client.chat_id) == {}
    assert await bot.storage.pending(client.chat_id) == []


async def test_message_not_modified_counts_as_delivered(bot: RunningBot) -> None:
    """Editing with identical text: Telegram's 400 "message is not modified" is success."""
    client = await with_code(bot)
    bot.api.fail(
        "editMessageText",
        api_error(
            400,
            "Bad Request: message is not modified: specified new message content and reply "
            "markup are exactly the same",
        ),
    )
    await fire_due(bot, timedelta(minutes=6))
    assert await bot.storage.pending(client.chat_id) == []
