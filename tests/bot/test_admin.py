"""Error reports to the operators' chats: where it failed, never what a person typed, and never
a flood."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.admin import PER_HOUR, SAME_EVERY, ErrorReports, admin_templates
from bot.logs import log_failure
from bot.renderer import TEMPLATES_DIR
from conversations import Button, Knowledge
from conversations.stats import SMALL, shown, summarize
from tests.support import START, letter_case
from tests.support.journey import JOURNEY
from tests.support.running import running_bot

TYPED = "my daughter Lotte, 7, lotte.k@example.org"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sent() -> list[tuple[int, str]]:
    return []


@pytest.fixture
async def reports(sent: list[tuple[int, str]], clock: Clock) -> AsyncIterator[ErrorReports]:
    async def send(chat: int, text: str) -> None:
        sent.append((chat, text))

    handler = ErrorReports(
        send, [11, 22], admin_templates(TEMPLATES_DIR), asyncio.get_running_loop(), clock
    )
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


def fail(text: str) -> None:
    raise ValueError(text)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


@pytest.mark.usefixtures("reports")
async def test_a_failure_reaches_every_admin_with_its_place_not_its_message(
    sent: list[tuple[int, str]],
) -> None:
    try:
        fail(TYPED)
    except ValueError as error:
        log_failure("reminder 17 failed", error)
    await settle()
    assert [chat for chat, _ in sent] == [11, 22]
    text = sent[0][1]
    assert text.startswith("optout-bot error at ") and "(bot):" in text
    assert "reminder 17 failed: ValueError at " in text and "in fail" in text
    assert "test_admin.py" in text
    assert TYPED not in text and "Lotte" not in text


@pytest.mark.usefixtures("reports")
async def test_a_librarys_error_keeps_only_its_template(sent: list[tuple[int, str]]) -> None:
    """python-telegram-bot logs whole updates: the report holds none of it."""
    try:
        fail(TYPED)
    except ValueError:
        logging.getLogger("telegram.ext.Application").exception("No error handlers: %s", TYPED)
    await settle()
    (_, text), _ = sent
    assert "No error handlers: %s [details withheld] (ValueError at " in text
    assert TYPED not in text


@pytest.mark.usefixtures("reports")
async def test_the_same_error_is_reported_once_per_ten_minutes_and_counted(
    sent: list[tuple[int, str]], clock: Clock
) -> None:
    for _ in range(5):
        logging.getLogger("bot.sender").error("giving up on outbox item %s", 3)
        clock.now += 60
    await settle()
    assert len(sent) == 2  # one report, to two admins
    clock.now += SAME_EVERY
    logging.getLogger("bot.sender").error("giving up on outbox item %s", 4)
    await settle()
    assert len(sent) == 4
    assert "(4 similar reports held back since the last one)" in sent[-1][1]


@pytest.mark.usefixtures("reports")
async def test_no_more_than_the_hourly_limit(sent: list[tuple[int, str]], clock: Clock) -> None:
    for number in range(PER_HOUR + 10):
        logging.getLogger(f"bot.part{number}").error("broken")
    await settle()
    assert len(sent) == 2 * PER_HOUR
    clock.now += 3600
    logging.getLogger("bot.later").error("broken")
    await settle()
    assert len(sent) == 2 * PER_HOUR + 2
    assert "(10 similar reports held back" in sent[-1][1]


async def test_a_report_that_cannot_be_sent_is_dropped_with_a_warning(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    async def unreachable(*_: object) -> None:
        raise ConnectionError

    handler = ErrorReports(
        unreachable, [11], admin_templates(TEMPLATES_DIR), asyncio.get_running_loop(), clock
    )
    logging.getLogger().addHandler(handler)
    try:
        with caplog.at_level(logging.WARNING):
            logging.getLogger("bot.x").error("broken")
            await settle()
    finally:
        logging.getLogger().removeHandler(handler)
    warnings = [r for r in caplog.records if r.name == "bot.admin"]
    assert [r.levelno for r in warnings] == [logging.WARNING]
    assert "could not be sent (ConnectionError)" in warnings[0].getMessage()


async def test_stats_are_anonymous_aggregates_for_admins_only(db_path: Path) -> None:
    """Six people in Germany and one in France reach their letter: the admin's /stats counts
    them by step and jurisdiction, hides the count of one, and names nobody; the same /stats
    from anyone else is the normal unknown command."""
    admin_chat = 424242
    async with running_bot(db_path, admin_chat_ids=f"{admin_chat}, 7") as bot:
        people = [bot.client(chat_id=6_100_000 + n) for n in range(7)]
        for n, person in enumerate(people):
            await person.walk(JOURNEY.but(country="France" if n == 6 else "Germany"))
        assert await people[0].send("/stats") == ["unknown_command", "ask_letter"]
        admin = bot.client(chat_id=admin_chat)
        await admin.send("/stats")
        (answer,) = [c for c in admin.sent() if c.method == "sendMessage"]
        text = str(answer.params["text"])
    assert text.startswith("optout-bot: 7 cases stored")
    assert "7 letters written" in text
    assert "  eea: 7" in text  # by jurisdiction (the law that applies)
    assert "  DE: 6" in text and "  FR: <5" in text  # by country
    assert "  letter: 7" in text
    assert "Median days from the form to Meta's confirmation: —" in text
    assert not any(str(p.chat_id) in text for p in people)
    assert "@" not in text and "parse_mode" not in answer.params  # plain text


def test_small_counts_are_hidden_and_the_median_needs_five(knowledge: Knowledge) -> None:
    day = timedelta(days=1)
    cases = [letter_case("DE", "de", confirmed_at=START + day * (n + 1)) for n in range(SMALL)] + [
        letter_case("AT", "de")
    ]
    stats = summarize(cases, knowledge)
    assert stats.confirmed == str(SMALL) and stats.median_days_to_confirmation == "3.0"
    assert dict(stats.by_jurisdiction) == {"eea": str(SMALL + 1)}
    assert dict(stats.by_country) == {"DE": str(SMALL), "AT": "<5"}
    assert summarize(cases[:4], knowledge).median_days_to_confirmation == "—"
    assert shown(0) == "0" and shown(4) == "<5" and shown(5) == "5"


async def test_broadcast_reaches_only_those_who_asked_in_the_language_chosen(
    db_path: Path,
) -> None:
    """Three people: two turned on change alerts (German, English), one did not. The admin's
    /broadcast de shows whom it would reach, sends nothing until "/broadcast send", then only
    the German subscriber gets it -- escaped as written, with the German button that turns
    the alerts off, which works. Anyone else's /broadcast is an unknown command."""
    admin_chat = 515151
    async with running_bot(db_path, admin_chat_ids=str(admin_chat)) as bot:
        german, english, silent = (bot.client(chat_id=6_200_000 + n) for n in range(3))
        for person, language in ((german, "de"), (english, "en"), (silent, "de")):
            person.language = language
            await person.walk(JOURNEY.until("email"))
        for person in (german, english):
            await person.send("/settings")
            await person.tap("command:alerts_on")
        assert await german.send("/broadcast de Hallo") == ["unknown_command", "ask_email"]
        before = {p.chat_id: len(p.sent()) for p in (german, english, silent)}
        admin = bot.client(chat_id=admin_chat)

        def last_answer() -> str:
            return str([c for c in admin.sent() if c.method == "sendMessage"][-1].params["text"])

        await admin.send("/broadcast")
        assert last_answer().startswith("/broadcast LANGUAGE TEXT")
        text = "Meta hat das Formular geändert: <b>neu</b> & {{ 7*7 }}"
        await admin.send(f"/broadcast de {text}")
        assert last_answer().startswith("This would go to 1 person (language de):")
        await bot.services.sender.flush()
        assert len(german.sent()) == before[german.chat_id]  # nothing yet
        await admin.send("/broadcast send")
        assert last_answer().startswith("Queued for 1 person")
        await bot.services.sender.flush()
        (got,) = german.sent()[before[german.chat_id] :]
        assert (
            got.params["text"]
            == "Meta hat das Formular geändert: &lt;b&gt;neu&lt;/b&gt; &amp; {{ 7*7 }}"
        )
        labels = [b["text"] for row in got.params["reply_markup"]["inline_keyboard"] for b in row]
        off = Button(label="alerts.off", data="command:alerts_off")
        ((german_label,),) = bot.services.renderer.buttons(((off,),), "de")
        assert labels == [german_label.text] and german_label.text != "Stop the change alerts"
        assert len(english.sent()) == before[english.chat_id]
        assert len(silent.sent()) == before[silent.chat_id]
        await admin.send("/broadcast send")
        assert last_answer().startswith("Nothing to send")
        await german.tap("command:alerts_off")
        assert await bot.storage.alert_chats() == [english.chat_id]


async def test_campaign_links_prefill_and_are_counted_anonymously(db_path: Path) -> None:
    """t.me/<bot>?start=de-AT-instagram reaches the bot as "/start de-AT-instagram": the
    person chats in German, Instagram and Austria are answered, the e-mail is asked; the
    campaign's count is all that is stored about the link, and /stats shows it (small: <5)."""
    admin_chat = 616161
    async with running_bot(db_path, admin_chat_ids=str(admin_chat)) as bot:
        person = bot.client(chat_id=6_300_001)
        assert await person.send("/start de-AT-instagram") == [
            "welcome",
            "country_set",
            "ask_email",
        ]
        case = await bot.case(person.chat_id)
        assert case is not None and (case.language, case.country) == ("de", "AT")
        assert await bot.storage.campaigns() == [("de-AT-instagram", 1)]
        await bot.client(chat_id=6_300_002).send("/start not a payload!")
        assert await bot.storage.campaigns() == [("de-AT-instagram", 1)]
        admin = bot.client(chat_id=admin_chat)
        await admin.send("/stats")
        text = str([c for c in admin.sent() if c.method == "sendMessage"][-1].params["text"])
    assert "Starts from campaign links" in text and "  de-AT-instagram: <5" in text
