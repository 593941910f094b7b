"""The bot's own privacy, end to end: e-mail copies, /mydata, /delete without a trace,
no personal data in any log line, and a flooding person throttled without slowing others."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bot.logs import configure_logging
from bot.renderer import Renderer
from conversations import Say
from tests.smtp_server import Keeper, smtp_server
from tests.telegram_harness import (
    FakeBotAPI,
    TelegramClient,
    bot_of,
    services,
    start_app,
    stop_app,
)

EMAIL = "zebra.quartz.4711@example.org"
REASON = "Mein Hund Quasimodo-Zylinder sitzt auf jedem Foto."


def smtp(port: int) -> dict[str, Any]:
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_security": "none",
        "smtp_sender": "bot@optout.example",
    }


async def full_journey(client: TelegramClient) -> None:
    """Everything a person can do: answer, get the text, e-mail it, wait, escalate, export."""
    await client.send("/start")
    await client.click("Both")
    await client.click("No, separate accounts")
    await client.send("Germany")
    await client.send(EMAIL)
    await client.click("Children appear in my photos")
    await client.click("Done – next step")
    await client.send(REASON)
    await client.click("E-mail me this text")
    await client.click("Yes, send it")
    await client.click("I submitted the form")
    await client.click("No code was asked – form sent")
    await client.send("/status")
    await client.click("Meta refused or asked for more")
    await client.send("Hamburg")
    await client.send("/mydata")


async def test_email_copy_goes_only_to_the_confirmed_address(db_path: Path) -> None:
    """ "E-mail me this text" → confirm → it arrives at the account address; the chat is told."""
    keeper = Keeper()
    api = FakeBotAPI()
    with smtp_server(keeper) as port:
        app = await start_app(db_path, api, **smtp(port))
        client = TelegramClient(app, api)
        try:
            await full_journey(client)
        finally:
            await stop_app(app)
    assert [rcpt for _, rcpt in keeper.envelopes] == [[EMAIL]]
    body = keeper.messages[0].get_body(preferencelist=("plain",))
    assert body is not None
    assert REASON in body.get_content()
    assert any("has been sent" in t for t in client.texts())


async def test_without_smtp_the_email_button_is_not_offered(db_path: Path) -> None:
    """No SMTP settings, no "E-mail me this text"."""
    api = FakeBotAPI()
    app = await start_app(db_path, api)
    client = TelegramClient(app, api)
    try:
        await client.send("/start")
        await client.click("Instagram")
        await client.send("France")
        await client.send(EMAIL)
        await client.click("Done – next step")
        await client.click("Skip – no own words")
        labels = [b["text"] for board in client.keyboards() for row in board for b in row]
        assert "E-mail me this text" not in labels
    finally:
        await stop_app(app)


async def test_mydata_sends_everything_as_json(db_path: Path) -> None:
    """/mydata: the summary and a JSON document with every stored field and reminder."""
    api = FakeBotAPI()
    with smtp_server(Keeper()) as port:
        app = await start_app(db_path, api, **smtp(port))
        client = TelegramClient(app, api)
        try:
            await full_journey(client)
        finally:
            await stop_app(app)
    export = json.loads(b"".join(client.documents()[-1].files.values()))
    assert export["case"]["email"] == EMAIL
    assert export["case"]["own_words"] == REASON
    assert export["case"]["region"] == "DE-HH"
    assert "authority_report" in export["scheduled"]


async def test_delete_leaves_no_trace_in_the_database(db_path: Path) -> None:
    """After /delete and "yes": no row mentions the person, and the file holds no e-mail."""
    api = FakeBotAPI()
    with smtp_server(Keeper()) as port:
        app = await start_app(db_path, api, **smtp(port))
        client = TelegramClient(app, api)
        try:
            await full_journey(client)
            await client.send("/delete")
            await client.click("Yes, erase everything")
            assert "erased everything" in client.last_text()
        finally:
            await stop_app(app)
    with sqlite3.connect(db_path) as raw:
        for table in ("cases", "outbox", "reminders", "slots"):
            rows = raw.execute(f"SELECT COUNT(*) FROM {table} WHERE chat_id = ?", (client.chat_id,))
            assert rows.fetchone()[0] == 0, table
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    disk = b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))
    assert EMAIL.encode() not in disk and REASON.encode() not in disk
    assert str(client.chat_id).encode() not in disk


async def test_messages_kept_rendered_hold_nothing_a_person_typed(db_path: Path) -> None:
    """The renderer keeps the questions everyone gets rendered (``SHARED_CONTEXT``): after a
    whole journey they are there, read the same as a fresh render, and none holds the
    person's e-mail or reason -- so /delete leaves no copy in memory either."""
    api = FakeBotAPI()
    with smtp_server(Keeper()) as port:
        app = await start_app(db_path, api, **smtp(port))
        client = TelegramClient(app, api)
        try:
            await full_journey(client)
            renderer = bot_of(app).services.renderer
            kept = renderer._shared  # the cache itself: nothing else shows what it holds
            fresh = Renderer(renderer.knowledge)
        finally:
            await stop_app(app)
    assert {key[1] for key in kept} >= {"ask_platforms", "ask_country", "ask_reasons"}
    for (language, message, context, buttons), rendered in kept.items():
        assert EMAIL not in rendered.html and "Quasimodo" not in rendered.html, message
        say = Say(message=message, context=json.loads(context), buttons=buttons)
        assert fresh.message(say, language) == rendered, message
    assert "email_confirm" not in {key[1] for key in kept}  # it shows the e-mail


async def test_no_personal_data_in_any_log_line(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Whole journeys at DEBUG: neither the e-mail nor the reason appears in any record."""
    configure_logging("DEBUG")
    caplog.set_level(logging.DEBUG)
    api = FakeBotAPI()
    with smtp_server(Keeper()) as port:
        app = await start_app(db_path, api, **smtp(port))
        client = TelegramClient(app, api)
        try:
            await full_journey(client)
            await client.send("/delete")
            await client.click("Yes, erase everything")
        finally:
            await stop_app(app)
    assert len(caplog.records) > 20  # the journey did log (steps, deliveries)
    for record in caplog.records:
        if record.name.startswith("mail."):
            continue  # aiosmtpd: the test's own SMTP server, not part of the bot
        text = record.getMessage() + (record.exc_text or "")
        for secret in (EMAIL, REASON, "Quasimodo", "zebra.quartz"):
            assert secret not in text, f"{record.name}: {text[:200]}"


async def test_a_flooding_person_is_throttled_and_others_are_not(db_path: Path) -> None:
    """Fifty messages at once from one chat: one polite notice; a second chat is answered."""
    api = FakeBotAPI()
    app = await start_app(db_path, api, input_burst=10, input_per_second=1.0)
    flooder = TelegramClient(app, api, chat_id=6000001)
    calm = TelegramClient(app, api, chat_id=6000002)
    try:
        await flooder.send("/start")
        for n in range(50):
            await flooder.send(f"spam {n}")
        await calm.send("/start")
        assert "independent" in calm.texts()[0]
        assert sum("a lot of messages" in t for t in flooder.texts()) == 1
        answered = [t for t in flooder.texts() if "choose one of the buttons" in t]
        assert len(answered) < 15  # the burst, not fifty
        storage = services(app)["storage"]
        case = await storage.load(flooder.chat_id)
        assert case is not None and case.step.value == "platforms"  # nothing lost or garbled
    finally:
        await stop_app(app)
