"""Many people at once, and Telegram's faults: no input lost, no reply twice, every message
through the outbox. Real PTB stack, real Updates handed over as getUpdates returns them."""

from __future__ import annotations

import asyncio
import logging
import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
import stamina

from bot.keys import KeyProblem
from conversations.case import Case, Step
from conversations.effects import Say
from conversations.events import Command
from tests.support import START, open_storage, sealer_for_db
from tests.support.journey import JOURNEY
from tests.support.running import RunningBot, running_bot
from tests.support.telegram import SERVER_ERROR, FakeBotAPI, api_error

TOO_MANY = api_error(429, "Too Many Requests: retry after 1", retry_after=1)


async def test_an_update_delivered_twice_is_applied_once(bot: RunningBot) -> None:
    """Telegram sends a batch again after a crash: the steps already saved are not repeated."""
    client = bot.client()
    await client.send("/start")
    again = client.text_update("Facebook")
    assert await bot.ingress.accept([again]) == again["update_id"] + 1
    case = await bot.case(client.chat_id)
    assert case is not None and case.step is Step.COUNTRY
    before = len(bot.api.calls)
    assert await bot.ingress.accept([again]) == again["update_id"] + 1
    assert client.templates(since=before) == []  # no second reply
    assert await bot.case(client.chat_id) == case


async def test_an_unreadable_update_is_skipped_once_without_its_content(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    """An update PTB cannot parse is logged by id (no name, no text), confirmed, and the rest
    of the batch is answered."""
    client = bot.client()
    broken = client.text_update("zebra.quartz secret")
    broken["message"]["from"]["username"] = "Quasimodo"
    del broken["message"]["from"]["is_bot"]  # a format this PTB cannot read
    good = client.text_update("/start")
    with caplog.at_level(logging.INFO):
        assert await bot.ingress.accept([broken, good]) == good["update_id"] + 1
    assert client.templates()[0] == "welcome"
    skipped = [r for r in caplog.records if "could not be read" in r.getMessage()]
    assert len(skipped) == 1
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        for secret in ("Quasimodo", "zebra.quartz", str(client.chat_id)):
            assert secret not in text, text


async def test_a_failed_answer_to_a_tap_does_not_lose_the_tap(bot: RunningBot) -> None:
    """answerCallbackQuery fails with HTTP 500: the press is still handled and answered."""
    client = bot.client()
    await client.send("/start")
    bot.api.fail("answerCallbackQuery", SERVER_ERROR)
    assert await client.tap("platforms:facebook") == ["ask_country"]
    case = await bot.case(client.chat_id)
    assert case is not None and case.step is Step.COUNTRY
    assert any(c.method == "answerCallbackQuery" and not c.ok for c in bot.api.calls)


async def test_failing_command_menus_at_start_up_do_not_stop_the_bot(db_path: Path) -> None:
    """setMyCommands answers 500 (again and again): the bot starts and answers anyway."""
    api = FakeBotAPI()
    api.fail("setMyCommands", *[SERVER_ERROR] * 30)
    with stamina.set_testing(True, attempts=4):  # the menus' retries, without their waits
        async with running_bot(db_path, api) as bot:
            assert await bot.client().send("/start") == ["welcome", "ask_platforms"]
    assert any(c.method == "setMyCommands" and not c.ok for c in api.calls)


async def test_a_bot_api_that_fails_at_start_up_delays_the_bot_it_does_not_end_it(
    db_path: Path,
) -> None:
    """getMe answers 500 twice (and setMyCommands fails): start-up retries with backoff and
    the bot then answers as usual."""
    api = FakeBotAPI()
    api.fail("getMe", SERVER_ERROR, SERVER_ERROR)
    api.fail("setMyCommands", SERVER_ERROR)
    with stamina.set_testing(True, attempts=10):  # the same retries, without their waits
        async with running_bot(db_path, api) as bot:
            assert [c.ok for c in api.calls if c.method == "getMe"] == [False, False, True]
            assert await bot.client(chat_id=5551234).send("/start") == ["welcome", "ask_platforms"]


async def test_a_failed_document_upload_does_not_repeat_the_letter_message(bot: RunningBot) -> None:
    """sendDocument fails once: the letter's chat message is sent once, the file once later."""
    client = bot.client()
    bot.api.fail("sendDocument", SERVER_ERROR)
    await client.walk(JOURNEY)
    assert client.documents() == []
    waiting = await bot.storage.pending(client.chat_id)
    assert waiting and waiting[0].attempts == 1
    await bot.storage.failed(waiting[0].id)  # the backoff has passed (attempt counted again)
    await bot.services.sender.flush(client.chat_id)
    assert client.templates().count("letter") == 1
    assert len(client.documents()) == 1
    assert await bot.storage.pending(client.chat_id) == []


async def test_group_replies_go_through_the_outbox_and_its_flood_control(bot: RunningBot) -> None:
    """A group message is answered through the outbox: a 429 on it is retried, not dropped."""
    group = bot.client(chat_id=-100123, group="Friends")
    bot.api.fail("sendMessage", TOO_MANY)
    assert await group.send("hello bot") == []
    assert len(await bot.storage.pending(group.chat_id)) == 1  # kept for after the pause
    await asyncio.sleep(1.05)
    await bot.services.sender.flush(group.chat_id)
    assert group.templates() == ["group_chat"]
    assert await bot.storage.pending(group.chat_id) == []


async def test_a_failing_step_is_retried_then_told_in_the_persons_language(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database refuses one commit: the update is tried again and nothing is lost; when it
    keeps failing, the person gets the error notice, in German, through the outbox."""
    client = bot.client(language="de")
    real_commit = bot.storage.commit
    failures = {"left": 1}

    async def flaky_commit(*args: Any, **kwargs: Any) -> None:
        if failures["left"] > 0:
            failures["left"] -= 1
            raise aiosqlite.OperationalError("database is locked")
        await real_commit(*args, **kwargs)

    monkeypatch.setattr(bot.storage, "commit", flaky_commit)
    monkeypatch.setattr(bot.ingress, "_retry_pause", 0.01)
    await client.send("/start")
    case = await bot.case(client.chat_id)
    assert case is not None and case.step is Step.PLATFORMS  # the retry saved it
    failures["left"] = 100
    assert await client.tap("platforms:facebook") == ["error"]
    assert "Entschuldige" in client.text_of("error")
    failures["left"] = 0
    case = await bot.case(client.chat_id)
    assert case is not None and case.step is Step.PLATFORMS  # unchanged, nothing garbled


FERNET_TOKEN = re.compile(rb"gAAAAA[A-Za-z0-9_\-]+=*")


def readable_rows(db: Path) -> list[str]:
    """Every sealed value in the database file and its WAL that the key still opens (a token
    runs into the next column's bytes, so shorter lengths are tried too)."""
    sealer = sealer_for_db(db)
    found = []
    for path in db.parent.glob(db.name + "*"):
        for match in FERNET_TOKEN.findall(path.read_bytes()):
            for end in range(len(match), 99, -1):
                try:
                    found.append(sealer.open(match[:end].decode()))
                    break
                except KeyProblem:
                    continue
    return found


async def test_erasure_leaves_no_readable_copy_on_disk(bot: RunningBot, db_path: Path) -> None:
    """After /delete, neither the database file nor its WAL holds a row of the person that the
    key can still open."""
    client, other = bot.client(), bot.client(chat_id=5550999)
    await client.walk(JOURNEY.but(own_words="zebra.quartz is my own sentence here"))
    await other.send("/start")  # someone else's rows stay
    await client.send("/delete")
    assert await client.tap("delete:yes") == ["deleted"]
    assert await bot.case(client.chat_id) is None
    found = readable_rows(db_path)
    assert found, "the other person's case should still be readable"
    assert not [t for t in found if "zebra.quartz" in t or "person@example.org" in t]


async def test_a_thousand_people_walking_the_journey_at_once(bot: RunningBot) -> None:
    """1,000 chats walk the journey to the reasons question in the same batches, as getUpdates
    returns them: no error, every answer stored, every reply sent exactly once."""
    people = [bot.client(chat_id=chat) for chat in range(8_000_000, 8_001_000)]
    for move in JOURNEY.until("reason"):
        updates = [person.update(move) for person in people]
        for first in range(0, len(updates), 100):  # getUpdates returns at most 100
            await bot.ingress.accept(updates[first : first + 100])
    assert bot.errors == []
    for person in people:
        case = await bot.case(person.chat_id)
        assert case is not None and case.step is Step.REASONS
        assert case.country == "DE" and case.email == "person@example.org"
    sends: defaultdict[int, list[str | None]] = defaultdict(list)
    for call in bot.api.calls:
        if call.method == "sendMessage" and call.ok:
            sends[call.chat_id].append(call.template)
    replies = sends[people[0].chat_id]
    assert len(replies) == len(set(replies)), "a reply was sent twice"
    assert sends == {person.chat_id: replies for person in people}  # everyone got the same
    assert await bot.storage.count("outbox") == 0


async def test_concurrent_updates_of_many_chats_commit_safely(bot: RunningBot) -> None:
    """Updates for 200 chats handled truly at once (not one after another): all committed."""
    start = Command(name="start")
    await asyncio.gather(*(bot.services.inbox.handle(chat, start) for chat in range(200)))
    for chat in range(200):
        case = await bot.case(chat)
        assert case is not None and case.step is Step.PLATFORMS


async def test_storage_commits_from_many_tasks_never_interleave(db_path: Path) -> None:
    """Fifty commits started at the same moment (one shared connection): all land, none fails
    with "cannot start a transaction within a transaction"."""
    storage = await open_storage(db_path)
    try:
        cases = [Case.new(chat, START).model_copy(update={"language": "en"}) for chat in range(50)]
        await asyncio.gather(*(storage.commit(c, [Say(message="help")]) for c in cases))
        assert [await storage.load(c.chat_id) for c in cases] == cases
        assert await storage.count("outbox") == 50
    finally:
        await storage.close()


async def test_a_countdown_reminder_delivered_late_is_replaced_by_what_fits_now(
    bot: RunningBot,
) -> None:
    """ "Only 4 minutes left" still queued an hour after the code expired (the bot was down):
    it is not sent; the person gets the expiry message and its help instead."""
    client = bot.client()
    expired = datetime.now(UTC) - timedelta(hours=1)
    case = Case.new(client.chat_id, expired - timedelta(hours=1)).model_copy(
        update={
            "step": Step.CODE,
            "language": "en",
            "country": "DE",
            "timezone": "Europe/Berlin",
            "form_submitted_at": expired - timedelta(hours=1),
            "code_received_at": expired - timedelta(hours=1),
            "code_expires_at": expired,
        }
    )
    late = Say(
        message="code_reminder",
        context={"minutes": 4},
        urgency="countdown",
        valid_until=expired - timedelta(minutes=3),
        refresh="code_left:5",
    )
    await bot.storage.commit(case, [late])
    await bot.services.sender.flush(client.chat_id)
    assert client.templates() == []  # not sent: its reminder is due again instead
    assert await bot.run_due() == 1
    now = await bot.case(client.chat_id)
    assert now is not None and now.step is Step.CODE_EXPIRED
    assert client.templates() == ["countdown", "code_expired"]  # the countdown says: expired
