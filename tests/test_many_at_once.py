"""Many people at once, and Telegram's faults: no input lost, no reply twice, every message
through the outbox. Real PTB stack, real Updates handed over as getUpdates returns them."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from bot.keys import KeyProblem
from conversations.case import Step
from tests.conftest import open_storage, sealer_for_db
from tests.telegram_harness import (
    UPDATE_IDS,
    FakeBotAPI,
    TelegramClient,
    bot_of,
    services,
    start_app,
    stop_app,
)
from tests.test_telegram_journey import walk_to_letter

SERVER_ERROR = (500, {"ok": False, "error_code": 500, "description": "Internal Server Error"})
TOO_MANY = (
    429,
    {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    },
)


def text_update(chat_id: int, text: str, *, username: str = "someone") -> dict[str, Any]:
    update_id = next(UPDATE_IDS)
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id + 50_000,
            "date": 1_790_000_000,
            "chat": {"id": chat_id, "type": "private", "first_name": "Test"},
            "from": {
                "id": chat_id,
                "is_bot": False,
                "first_name": "Test",
                "username": username,
                "language_code": "en",
            },
            "text": text,
            **(
                {"entities": [{"type": "bot_command", "offset": 0, "length": len(text)}]}
                if text.startswith("/")
                else {}
            ),
        },
    }


async def test_an_update_delivered_twice_is_applied_once(db_path: Path) -> None:
    """Telegram sends a batch again after a crash: the steps already saved are not repeated."""
    api = FakeBotAPI()
    app = await start_app(db_path, api)
    client = TelegramClient(app, api)
    try:
        await client.send("/start")
        again = text_update(client.chat_id, "Facebook")
        ingress = services(app)["ingress"]
        assert await ingress.accept([again]) == again["update_id"] + 1
        after_first = len(client.texts())
        case = await services(app)["storage"].load(client.chat_id)
        assert case is not None and case.step is Step.COUNTRY
        assert await ingress.accept([again]) == again["update_id"] + 1
        assert len(client.texts()) == after_first  # no second reply
        assert await services(app)["storage"].load(client.chat_id) == case
    finally:
        await stop_app(app)


async def test_an_unreadable_update_is_skipped_once_without_its_content(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An update PTB cannot parse is logged by id (no name, no text), confirmed, and the rest
    of the batch is answered."""
    api = FakeBotAPI()
    app = await start_app(db_path, api)
    client = TelegramClient(app, api)
    try:
        broken = text_update(client.chat_id, "zebra.quartz secret", username="Quasimodo")
        del broken["message"]["from"]["is_bot"]  # a format this PTB cannot read
        good = text_update(client.chat_id, "/start")
        with caplog.at_level(logging.INFO):
            offset = await services(app)["ingress"].accept([broken, good])
        assert offset == good["update_id"] + 1
        assert "independent" in client.texts()[0]
        skipped = [r for r in caplog.records if "could not be read" in r.getMessage()]
        assert len(skipped) == 1
        for record in caplog.records:
            text = record.getMessage() + (record.exc_text or "")
            for secret in ("Quasimodo", "zebra.quartz", str(client.chat_id)):
                assert secret not in text, text
    finally:
        await stop_app(app)


async def test_a_failed_answer_to_a_tap_does_not_lose_the_tap(db_path: Path) -> None:
    """answerCallbackQuery fails with HTTP 500: the press is still handled and answered."""
    api = FakeBotAPI()
    app = await start_app(db_path, api)
    client = TelegramClient(app, api)
    try:
        await client.send("/start")
        api.fail("answerCallbackQuery", SERVER_ERROR)
        await client.click("Facebook")
        case = await services(app)["storage"].load(client.chat_id)
        assert case is not None and case.step is Step.COUNTRY
        assert "error" not in client.last_text().lower()
        assert any(c.method == "answerCallbackQuery" and not c.ok for c in api.calls)
    finally:
        await stop_app(app)


async def test_failing_command_menus_at_start_up_do_not_stop_the_bot(db_path: Path) -> None:
    """setMyCommands answers 500 (again and again): the bot starts and answers anyway."""
    import stamina

    api = FakeBotAPI()
    api.fail("setMyCommands", *[SERVER_ERROR] * 30)
    with stamina.set_testing(True, attempts=4):  # the menus' retries, without their waits
        app = await start_app(db_path, api)
    client = TelegramClient(app, api)
    try:
        await client.send("/start")
        assert "independent" in client.texts()[0]
        assert any(c.method == "setMyCommands" and not c.ok for c in api.calls)
    finally:
        await stop_app(app)


async def test_a_failed_document_upload_does_not_repeat_the_letter_message(db_path: Path) -> None:
    """sendDocument fails once: the letter's chat message is sent once, the file once later."""
    api = FakeBotAPI()
    app = await start_app(db_path, api)
    client = TelegramClient(app, api)
    try:
        api.fail("sendDocument", SERVER_ERROR)
        await walk_to_letter(client)
        outbox, storage = services(app)["outbox"], services(app)["storage"]
        assert client.documents() == []
        waiting = await storage.pending(client.chat_id)
        assert waiting and waiting[0].attempts == 1
        await storage.failed(waiting[0].id)  # the backoff has passed (attempt counted again)
        await outbox.flush(client.chat_id)
        letters = [t for t in client.texts() if "Your objection text" in t]
        assert len(letters) == 1
        assert len(client.documents()) == 1
        assert await storage.pending(client.chat_id) == []
    finally:
        await stop_app(app)


async def test_group_replies_go_through_the_outbox_and_its_flood_control(db_path: Path) -> None:
    """A group message is answered through the outbox: a 429 on it is retried, not dropped."""
    api = FakeBotAPI()
    app = await start_app(db_path, api)
    group = -100123
    try:
        update = text_update(group, "hello bot")
        update["message"]["chat"] = {"id": group, "type": "group", "title": "Friends"}
        api.fail("sendMessage", TOO_MANY)
        await services(app)["ingress"].accept([update])
        storage = services(app)["storage"]
        assert len(await storage.pending(group)) == 1  # kept for after the pause
        await asyncio.sleep(1.05)
        await services(app)["outbox"].flush(group)
        replies = [
            c
            for c in api.calls
            if c.method == "sendMessage" and c.ok and int(c.params["chat_id"]) == group
        ]
        assert len(replies) == 1 and "private chat" in replies[0].params["text"]
        assert await storage.pending(group) == []
    finally:
        await stop_app(app)


async def test_a_failing_step_is_retried_then_told_in_the_persons_language(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database refuses one commit: the update is tried again and nothing is lost; when it
    keeps failing, the person gets the error notice, in German, through the outbox."""
    api = FakeBotAPI()
    app = await start_app(db_path, api)
    client = TelegramClient(app, api, language="de")
    storage = services(app)["storage"]
    real_commit = storage.commit
    failures = {"left": 1}

    async def flaky_commit(*args: Any, **kwargs: Any) -> None:
        if failures["left"] > 0:
            failures["left"] -= 1
            raise aiosqlite.OperationalError("database is locked")
        await real_commit(*args, **kwargs)

    monkeypatch.setattr(storage, "commit", flaky_commit)
    monkeypatch.setattr(bot_of(app).ingress, "_retry_pause", 0.01)
    try:
        await client.send("/start")
        case = await storage.load(client.chat_id)
        assert case is not None and case.step is Step.PLATFORMS  # the retry saved it
        before = len(client.texts())
        failures["left"] = 100
        await client.click("Facebook")
        texts = client.texts()[before:]
        assert len(texts) == 1 and "Entschuldige" in texts[0]
        case = await storage.load(client.chat_id)
        assert case is not None and case.step is Step.PLATFORMS  # unchanged, nothing garbled
    finally:
        failures["left"] = 0
        await stop_app(app)


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


async def test_erasure_leaves_no_readable_copy_on_disk(db_path: Path) -> None:
    """After /delete, neither the database file nor its WAL holds a row of the person that the
    key can still open."""
    api = FakeBotAPI()
    app = await start_app(db_path, api)
    client = TelegramClient(app, api)
    other = TelegramClient(app, api, chat_id=5550999)
    try:
        await walk_to_letter(client, own_words="zebra.quartz is my own sentence here")
        await other.send("/start")  # someone else's rows stay
        await client.send("/delete")
        await client.click("Yes, erase everything")
        assert await services(app)["storage"].load(client.chat_id) is None
        found = readable_rows(db_path)
        assert found, "the other person's case should still be readable"
        assert not [t for t in found if "zebra.quartz" in t or "person@example.org" in t]
    finally:
        await stop_app(app)


async def test_a_thousand_people_walking_the_journey_at_once(db_path: Path) -> None:
    """1,000 chats send their answers in the same batches, as getUpdates returns them: no
    error, every answer stored, every reply sent exactly once."""
    api = FakeBotAPI()
    app = await start_app(db_path, api)
    chats = list(range(8_000_000, 8_001_000))
    ingress, storage = services(app)["ingress"], services(app)["storage"]
    errors: list[BaseException] = []

    async def collect(update: object, context: Any) -> None:
        errors.append(context.error)

    app.add_error_handler(collect)
    script = ["/start", "Facebook", "Germany", "person@example.org"]
    try:
        for text in script:
            updates = [text_update(chat, text) for chat in chats]
            for first in range(0, len(updates), 100):  # getUpdates returns at most 100
                await ingress.accept(updates[first : first + 100])
        assert errors == []
        for chat in chats:
            case = await storage.load(chat)
            assert case is not None and case.step is Step.REASONS
            assert case.country == "DE" and case.email == "person@example.org"
        sends: dict[int, list[str]] = {}
        for call in api.calls:
            if call.method == "sendMessage" and call.ok:
                sends.setdefault(int(call.params["chat_id"]), []).append(call.params["text"])
        for chat in chats:
            texts = sends[chat]
            assert len(texts) == len(set(texts)), "a reply was sent twice"
        assert len(sends) == len(chats)
        assert len({len(t) for t in sends.values()}) == 1  # everyone got the same replies
        assert await storage.count("outbox") == 0
    finally:
        await stop_app(app)


async def test_concurrent_updates_of_many_chats_commit_safely(db_path: Path) -> None:
    """Updates for 200 chats handled truly at once (not one after another): all committed."""
    api = FakeBotAPI()
    app = await start_app(db_path, api)
    inbox, storage = services(app)["inbox"], services(app)["storage"]
    try:
        from conversations.events import Command

        await asyncio.gather(*(inbox.handle(chat, Command(name="start")) for chat in range(200)))
        for chat in range(200):
            case = await storage.load(chat)
            assert case is not None and case.step is Step.PLATFORMS
    finally:
        await stop_app(app)


async def test_storage_commits_from_many_tasks_never_interleave(db_path: Path) -> None:
    """Fifty commits started at the same moment (one shared connection): all land, none fails
    with "cannot start a transaction within a transaction"."""
    from conversations.case import Case
    from conversations.effects import Say
    from tests.conftest import START

    storage = await open_storage(db_path)
    try:
        cases = [Case.new(chat, START).model_copy(update={"language": "en"}) for chat in range(50)]
        await asyncio.gather(*(storage.commit(c, [Say(message="help")]) for c in cases))
        assert [await storage.load(c.chat_id) for c in cases] == cases
        assert await storage.count("outbox") == 50
    finally:
        await storage.close()


async def test_a_countdown_reminder_delivered_late_is_replaced_by_what_fits_now(
    db_path: Path,
) -> None:
    """ "Only 4 minutes left" still queued an hour after the code expired (the bot was down):
    it is not sent; the person gets the expiry message and its help instead."""
    from datetime import UTC, datetime, timedelta

    from conversations.case import Case
    from conversations.effects import Say

    api = FakeBotAPI()
    app = await start_app(db_path, api)
    client = TelegramClient(app, api)
    storage, outbox = services(app)["storage"], services(app)["outbox"]
    try:
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
        await storage.commit(case, [late])
        await outbox.flush(client.chat_id)
        assert not any("minutes left" in t for t in client.texts())
        now = await storage.load(client.chat_id)
        assert now is not None and now.step is Step.CODE_EXPIRED
        assert client.texts(), "the person is told what fits now"
    finally:
        await stop_app(app)


async def test_a_bot_api_that_fails_at_start_up_delays_the_bot_it_does_not_end_it(
    db_path: Path,
) -> None:
    """getMe answers 500 twice (and setMyCommands fails): start-up retries with backoff and
    the bot then answers as usual."""
    import stamina

    from bot.__main__ import build_telegram
    from bot.settings import Settings
    from bot.telegram_adapter import set_command_menus
    from tests.conftest import key_file_for
    from tests.telegram_harness import TOKEN

    api = FakeBotAPI()
    api.fail("getMe", SERVER_ERROR, SERVER_ERROR)
    api.fail("setMyCommands", SERVER_ERROR)
    settings = Settings(
        telegram_token=TOKEN, database_path=db_path, key_file=key_file_for(db_path), _env_file=None
    )
    bot = await build_telegram(settings, sealer_for_db(db_path), request=api, delivery="inline")
    stamina.set_testing(True, attempts=10)  # the same retries, without their waits
    try:
        await bot.initialize()
        await set_command_menus(bot.app, bot.services.renderer)
    finally:
        stamina.set_testing(False)
    try:
        assert [c.ok for c in api.calls if c.method == "getMe"] == [False, False, True]
        await bot.ingress.accept([text_update(5551234, "/start")])
        assert any(
            c.method == "sendMessage" and int(c.params["chat_id"]) == 5551234 for c in api.calls
        )
    finally:
        await bot.stop()
