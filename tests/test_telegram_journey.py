"""End to end through python-telegram-bot: real Updates in, recorded Bot API calls out."""

from __future__ import annotations

from pathlib import Path

from markupsafe import escape

from conversations.case import Step
from tests.conftest import open_storage
from tests.telegram_harness import FakeBotAPI, TelegramClient, start_app, stop_app

HOSTILE_WORDS = "<b>not bold</b> {{ 7*7 }} {% if x %}&amp; 🦄 ' \" ; DROP TABLE cases;--"


async def walk_to_letter(client: TelegramClient, own_words: str = "I photograph my kids.") -> None:
    await client.send("/start")
    await client.click("Both")
    await client.click("Yes, linked in one Accounts Center")
    await client.send("Germany")
    await client.send("person@example.org")
    await client.click("Children appear in my photos")
    await client.click("Done – next step")
    await client.send(own_words)


async def stored_step(db_path: Path, chat_id: int) -> Step | None:
    store = await open_storage(db_path)
    try:
        case = await store.load(chat_id)
    finally:
        await store.close()
    return case.step if case else None


async def test_whole_journey_in_english(db_path: Path) -> None:
    """From /start to the letter: every question, the text, a .txt document and the form links."""
    api = FakeBotAPI()
    app = await start_app(db_path, api)
    client = TelegramClient(app, api)
    try:
        await walk_to_letter(client)
        texts = client.texts()
        assert "independent" in texts[0]
        letter_message = next(t for t in texts if "Your objection text" in t)
        assert "Art. 21(1) GDPR" in letter_message
        assert "I photograph my kids." in letter_message
        doc = client.documents()[-1]
        content = b"".join(doc.files.values()).decode("utf-8")
        assert "person@example.org" in content and "I photograph my kids." in content
        form_links = [b.get("url") for board in client.keyboards() for row in board for b in row]
        assert "https://www.facebook.com/help/contact/712876720715583" in form_links
        assert "https://help.instagram.com/contact/767264225370182" in form_links
        await client.click("I submitted the form")
        assert await stored_step(db_path, client.chat_id) is Step.SUBMITTED
        assert all(c.params.get("protect_content") in (None, False) for c in client.sent())
    finally:
        await stop_app(app)


async def test_journey_in_german_from_the_client_language(db_path: Path) -> None:
    """A German Telegram client gets German questions, German buttons and a German letter."""
    api = FakeBotAPI()
    app = await start_app(db_path, api)
    client = TelegramClient(app, api, language="de")
    try:
        await client.send("/start")
        await client.click("Beide")
        await client.click("Ja, in einer Kontenübersicht verknüpft")
        await client.send("Österreich")
        await client.send("person@example.at")
        await client.click("Allgemeiner Datenschutz")
        await client.click("Fertig – weiter")
        await client.click("Überspringen – keine eigenen Worte")
        letter_message = next(t for t in client.texts() if "Art. 21 Abs. 1 DSGVO" in t)
        assert "Widerspruch" in letter_message or "widerspreche" in letter_message
    finally:
        await stop_app(app)


async def test_typing_a_button_label_works_like_tapping_it(db_path: Path) -> None:
    """Every question can be answered by typing, so the bot works without tapping."""
    api = FakeBotAPI()
    app = await start_app(db_path, api)
    client = TelegramClient(app, api)
    try:
        await client.send("/start")
        await client.send("instagram")
        await client.send("FR")
        await client.send("someone@example.fr")
        await client.send("General privacy")
        await client.send("done")
        await client.send("skip")
        assert await stored_step(db_path, client.chat_id) is Step.LETTER
    finally:
        await stop_app(app)


async def test_hostile_words_arrive_escaped_in_chat_and_verbatim_in_the_letter(
    db_path: Path,
) -> None:
    """HTML and Jinja syntax are shown as typed: escaped in the message, exact in the document."""
    api = FakeBotAPI()
    app = await start_app(db_path, api)
    client = TelegramClient(app, api)
    try:
        await walk_to_letter(client, own_words=HOSTILE_WORDS)
        letter_message = next(t for t in client.texts() if "Your objection text" in t)
        assert str(escape(HOSTILE_WORDS)) in letter_message
        assert "49" not in letter_message
        content = b"".join(client.documents()[-1].files.values()).decode("utf-8")
        assert HOSTILE_WORDS in content
    finally:
        await stop_app(app)


async def test_stickers_unknown_commands_and_stale_buttons_get_answers(db_path: Path) -> None:
    """Odd input is answered kindly and the answers given so far stay."""
    api = FakeBotAPI()
    app = await start_app(db_path, api)
    client = TelegramClient(app, api)
    try:
        await client.send("/start")
        await client.click("Facebook")
        await client.send("Spain")
        await client.send_raw(
            sticker={
                "file_id": "s",
                "file_unique_id": "s",
                "type": "regular",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
            }
        )
        assert "only read text" in client.texts()[-2]
        await client.send("/frobnicate")
        assert "don't know that command" in client.texts()[-2]
        await client.press("platforms:instagram")  # a button from the first question
        assert "earlier question" in client.texts()[-2]
        await client.press("x" * 64)  # forged callback data
        await client.send("x" * 10_000)
        assert await stored_step(db_path, client.chat_id) is Step.EMAIL
        store = await open_storage(db_path)
        case = await store.load(client.chat_id)
        await store.close()
        assert case is not None and case.country == "ES"
    finally:
        await stop_app(app)


async def test_group_chats_get_a_polite_pointer_and_nothing_is_stored(db_path: Path) -> None:
    """In a group the bot only says "talk to me privately"."""
    api = FakeBotAPI()
    app = await start_app(db_path, api)
    client = TelegramClient(app, api, chat_id=-100123)
    try:
        await client.send_raw(
            text="/start",
            chat={"id": -100123, "type": "group", "title": "G"},
            entities=[{"type": "bot_command", "offset": 0, "length": 6}],
        )
        assert "private chat" in client.last_text()
        assert await stored_step(db_path, -100123) is None
    finally:
        await stop_app(app)


async def test_restart_continues_at_the_same_question(db_path: Path) -> None:
    """A new process on the same database picks up where the person was, answers intact."""
    api = FakeBotAPI()
    app = await start_app(db_path, api)
    client = TelegramClient(app, api)
    await client.send("/start")
    await client.click("Instagram")
    await client.send("Italy")
    await stop_app(app)

    api2 = FakeBotAPI()
    app2 = await start_app(db_path, api2)
    client2 = TelegramClient(app2, api2)
    try:
        await client2.send("/start")
        assert "Welcome back" in client2.texts()[0]
        assert "e-mail address" in client2.texts()[1]
        await client2.send("p@example.it")
        assert await stored_step(db_path, client2.chat_id) is Step.REASONS
    finally:
        await stop_app(app2)


async def test_command_menus_are_set_per_language(db_path: Path) -> None:
    """Start-up sets an English and a German command menu for private chats."""
    api = FakeBotAPI()
    app = await start_app(db_path, api)
    await stop_app(app)
    menus = {
        c.params.get("language_code"): c.params["commands"]
        for c in api.calls
        if c.method == "setMyCommands"
    }
    assert set(menus) == {"en", "de", None}
    assert [c["command"] for c in menus["de"]] == [  # the order of the menu, /start first
        "start",
        "status",
        "cancel",
        "language",
        "timezone",
        "protect",
        "mydata",
        "privacy",
        "delete",
        "help",
    ]
    assert menus["de"] != menus["en"]


async def test_delete_erases_the_case_and_the_outbox(db_path: Path) -> None:
    """/delete leaves no row about the person."""
    api = FakeBotAPI()
    app = await start_app(db_path, api)
    client = TelegramClient(app, api)
    try:
        await walk_to_letter(client)
        await client.send("/delete")
        assert "Erase everything" in client.last_text()
        await client.click("Yes, erase everything")
        assert "erased everything" in client.last_text()
        assert await stored_step(db_path, client.chat_id) is None
    finally:
        await stop_app(app)


async def test_erase_answered_by_typing_while_a_yes_no_question_is_open(db_path: Path) -> None:
    """/delete asked at the "linked accounts?" question: the typed label "No, keep my data"
    and a typed "yes" answer "Erase everything?", not the linked-accounts question."""
    api = FakeBotAPI()
    app = await start_app(db_path, api)
    client = TelegramClient(app, api)
    try:
        await client.send("/start")
        await client.click("Both")
        await client.send("/delete")
        await client.send("No, keep my data")
        assert await stored_step(db_path, client.chat_id) is Step.LINKED
        await client.send("/delete")
        await client.send("yes")
        assert "erased everything" in client.last_text()
        assert await stored_step(db_path, client.chat_id) is None
    finally:
        await stop_app(app)


async def test_an_edited_message_is_not_taken_as_an_answer(db_path: Path) -> None:
    """Editing an old message gets a clear word; the edit's text changes nothing."""
    api = FakeBotAPI()
    app = await start_app(db_path, api)
    client = TelegramClient(app, api)
    try:
        await client.send("/start")
        await client.click("Facebook")
        edited = {**client._message(text="Germany"), "edit_date": 1_790_000_100}
        await client._process({"update_id": 99_999, "edited_message": edited})
        assert "only read new messages" in client.texts()[-2]
        assert await stored_step(db_path, client.chat_id) is Step.COUNTRY
    finally:
        await stop_app(app)
