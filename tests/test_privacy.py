"""The bot's own privacy, end to end: e-mail copies, /mydata, /delete without a trace,
no personal data in any log line, and a flooding person throttled without slowing others."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.logs import configure_logging
from bot.renderer import Renderer
from conversations import Say
from tests.support.journey import JOURNEY, SKIP_OWN_WORDS, TO_WAITING, pressed, typed
from tests.support.running import RunningBot, running_bot
from tests.support.smtp import Keeper, smtp_server

EMAIL = "zebra.quartz.4711@example.org"
REASON = "Mein Hund Quasimodo-Zylinder sitzt auf jedem Foto."
#: Everything a person can do: answer, get the text, e-mail it, wait, escalate, export.
FULL_JOURNEY = (
    JOURNEY.but(linked="linked:no", email=EMAIL, own_words=REASON)
    .then(pressed("email", "letter:email"), pressed("email_yes", "letter:email_yes"))
    .then(TO_WAITING.since("submitted"))
    .then(typed("status", "/status"), pressed("answer", "waiting:refused"))
    .then(typed("region", "Hamburg"), typed("mydata", "/mydata"))
)
ERASE = (typed("delete", "/delete"), pressed("delete_yes", "delete:yes"))


@asynccontextmanager
async def mailing_bot(db_path: Path, keeper: Keeper | None = None) -> AsyncIterator[RunningBot]:
    """The bot with an SMTP server on 127.0.0.1 that keeps what arrives in ``keeper``."""
    with smtp_server(keeper or Keeper()) as port:
        async with running_bot(
            db_path,
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security="none",
            smtp_sender="bot@optout.example",
        ) as bot:
            yield bot


async def test_email_copy_goes_only_to_the_confirmed_address(db_path: Path) -> None:
    """ "E-mail me this text" → confirm → it arrives at the account address; the chat is told."""
    keeper = Keeper()
    async with mailing_bot(db_path, keeper) as bot:
        client = bot.client()
        await client.walk(FULL_JOURNEY)
        assert "email_sent" not in client.templates()  # the outcome is the scheduler's to tell
        assert await bot.run_due() >= 1
    assert [rcpt for _, rcpt in keeper.envelopes] == [[EMAIL]]
    body = keeper.messages[0].get_body(preferencelist=("plain",))
    assert body is not None
    assert REASON in body.get_content()
    assert "email_sent" in client.templates()


async def test_without_smtp_the_email_button_is_not_offered(bot: RunningBot) -> None:
    """No SMTP settings, no "E-mail me this text"."""
    client = bot.client()
    await client.walk(JOURNEY.but(reason=None, own_words=SKIP_OWN_WORDS))
    assert client.templates()[-2:] == ["letter", "form_help"]
    assert "letter:email" not in [b.get("callback_data") for b in client.buttons()]


async def test_mydata_sends_everything_as_json(db_path: Path) -> None:
    """/mydata: the summary and a JSON document with every stored field and reminder."""
    async with mailing_bot(db_path) as bot:
        client = bot.client()
        await client.walk(FULL_JOURNEY)
    assert client.last_template() == "mydata"
    export = json.loads(client.documents()[-1].content)
    assert export["case"]["email"] == EMAIL
    assert export["case"]["own_words"] == REASON
    assert export["case"]["region"] == "DE-HH"
    assert "followup_due" in export["scheduled"]  # the authority's: once the complaint is sent


async def test_delete_leaves_no_trace_in_the_database(db_path: Path) -> None:
    """After /delete and "yes": no row mentions the person, and the file holds no e-mail."""
    async with mailing_bot(db_path) as bot:
        client = bot.client()
        await client.walk(FULL_JOURNEY.then(*ERASE))
        assert client.last_template() == "deleted"
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
    async with mailing_bot(db_path) as bot:
        await bot.client().walk(FULL_JOURNEY)
        renderer = bot.services.renderer
        kept = renderer._shared  # the cache itself: nothing else shows what it holds
        fresh = Renderer(renderer.knowledge)
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
    async with mailing_bot(db_path) as bot:
        await bot.client().walk(FULL_JOURNEY.then(*ERASE))
    assert len(caplog.records) > 20  # the journey did log (steps, deliveries)
    for record in caplog.records:
        if record.name.startswith("mail."):
            continue  # aiosmtpd: the test's own SMTP server, not part of the bot
        text = record.getMessage() + (record.exc_text or "")
        for secret in (EMAIL, REASON, "Quasimodo", "zebra.quartz"):
            assert secret not in text, f"{record.name}: {text[:200]}"


async def test_a_flooding_person_is_throttled_and_others_are_not(db_path: Path) -> None:
    """Fifty messages at once from one chat: one polite notice; a second chat is answered."""
    async with running_bot(db_path, input_burst=10, input_per_second=1.0) as bot:
        flooder, calm = bot.client(chat_id=6000001), bot.client(chat_id=6000002)
        await flooder.send("/start")
        for n in range(50):
            await flooder.send(f"spam {n}")
        assert await calm.send("/start") == ["welcome", "ask_platforms"]
        assert flooder.templates().count("slow_down") == 1
        assert flooder.templates().count("choose_button") < 15  # the burst, not fifty
        case = await bot.case(flooder.chat_id)
        assert case is not None and case.step.value == "platforms"  # nothing lost or garbled
