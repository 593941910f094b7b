"""End to end through python-telegram-bot: real Updates in, recorded Bot API calls out."""

from __future__ import annotations

from pathlib import Path

from markupsafe import escape

from conversations import LANGUAGES
from conversations.case import Step
from tests.support.journey import JOURNEY, SKIP_OWN_WORDS, SUBMITTED
from tests.support.running import RunningBot, running_bot

HOSTILE_WORDS = "<b>not bold</b> {{ 7*7 }} {% if x %}&amp; 🦄 ' \" ; DROP TABLE cases;--"
STICKER = {
    "file_id": "s",
    "file_unique_id": "s",
    "type": "regular",
    "width": 1,
    "height": 1,
    "is_animated": False,
    "is_video": False,
}


async def step_of(bot: RunningBot, chat_id: int) -> Step | None:
    case = await bot.case(chat_id)
    return case.step if case else None


async def test_whole_journey_in_english(bot: RunningBot) -> None:
    """From /start to the letter: every question, the text, a .txt document and the form links."""
    client = bot.client()
    await client.walk(JOURNEY)
    assert client.templates()[0] == "welcome"
    letter_message = client.text_of("letter")
    assert "Art. 21(1) GDPR" in letter_message
    assert "I photograph my kids." in letter_message
    content = client.documents()[-1].content
    assert "person@example.org" in content and "I photograph my kids." in content
    form_links = [b.get("url") for b in client.buttons()]
    assert "https://www.facebook.com/help/contact/712876720715583" in form_links
    assert "https://help.instagram.com/contact/767264225370182" in form_links
    await client.click("I submitted the form")
    assert await step_of(bot, client.chat_id) is Step.SUBMITTED
    assert all(c.params.get("protect_content") in (None, False) for c in client.sent())


async def test_journey_in_german_from_the_client_language(bot: RunningBot) -> None:
    """A German Telegram client gets German questions, German buttons and a German letter."""
    client = bot.client(language="de")
    await client.walk(
        JOURNEY.but(
            country="Österreich",
            email="person@example.at",
            reason="reasons:privacy",
            own_words=SKIP_OWN_WORDS,
        )
    )
    labels = {b["text"] for b in client.buttons()}
    assert {"Beide", "Ja, in einer Kontenübersicht verknüpft", "Allgemeiner Datenschutz"} <= labels
    assert {"Fertig – weiter", "Überspringen – keine eigenen Worte"} <= labels
    letter_message = client.text_of("letter")
    assert "Art. 21 Abs. 1 DSGVO" in letter_message
    assert "Widerspruch" in letter_message or "widerspreche" in letter_message


async def test_typing_a_button_label_works_like_tapping_it(bot: RunningBot) -> None:
    """Every question can be answered by typing, so the bot works without tapping."""
    client = bot.client()
    for text in ("/start", "instagram", "FR", "x@example.fr", "General privacy", "done", "skip"):
        await client.send(text)
    assert await step_of(bot, client.chat_id) is Step.LETTER


async def test_hostile_words_arrive_escaped_in_chat_and_verbatim_in_the_letter(
    bot: RunningBot,
) -> None:
    """HTML and Jinja syntax are shown as typed: escaped in the message, exact in the document."""
    client = bot.client()
    await client.walk(JOURNEY.but(own_words=HOSTILE_WORDS))
    letter_message = client.text_of("letter")
    assert str(escape(HOSTILE_WORDS)) in letter_message
    assert "49" not in letter_message
    assert HOSTILE_WORDS in client.documents()[-1].content


async def test_stickers_unknown_commands_and_stale_buttons_get_answers(bot: RunningBot) -> None:
    """Odd input is answered kindly and the answers given so far stay."""
    client = bot.client()
    await client.walk(JOURNEY.until("email"))
    assert await client.send_raw(sticker=STICKER) == ["text_expected", "ask_email"]
    assert await client.send("/frobnicate") == ["unknown_command", "ask_email"]
    stale = await client.press("platforms:instagram")  # a button from the first question
    assert stale == []  # answered on the button itself, not with a new chat message
    (notice,) = client.notices()
    assert notice == "That button is from an earlier question. The current one is below."
    assert await client.press("x" * 64) == []  # forged callback data: a notice too
    assert len(client.notices()) == 2
    assert await client.send("x" * 10_000)
    case = await bot.case(client.chat_id)
    assert case is not None and case.step is Step.EMAIL and case.country == "DE"


async def test_group_chats_get_a_polite_pointer_and_nothing_is_stored(bot: RunningBot) -> None:
    """In a group the bot only says "talk to me privately"."""
    group = bot.client(chat_id=-100123, group="G")
    assert await group.send("/start") == ["group_chat"]
    assert await step_of(bot, -100123) is None


async def test_restart_continues_at_the_same_question(db_path: Path) -> None:
    """A new process on the same database picks up where the person was, answers intact."""
    async with running_bot(db_path) as first:
        await first.client().walk(JOURNEY.until("email"))
    async with running_bot(db_path) as second:
        client = second.client()
        assert await client.send("/start") == ["welcome_back", "ask_email"]
        await client.send("p@example.it")
        assert await step_of(second, client.chat_id) is Step.REASONS


async def test_command_menus_are_set_per_language(bot: RunningBot) -> None:
    """Start-up sets a command menu, a description and a short description per language for
    private chats (English also as the fallback; Telegram's codes carry no region: pt-BR's is
    "pt")."""
    menus = {
        c.params.get("language_code"): c.params["commands"]
        for c in bot.api.calls
        if c.method == "setMyCommands"
    }
    expected = {None, *(lang.split("-")[0] for lang in LANGUAGES)}
    assert set(menus) == expected
    assert [c["command"] for c in menus["de"]] == [  # the order of the menu, /start first
        "start",
        "status",
        "cancel",
        "language",
        "timezone",
        "settings",
        "protect",
        "mydata",
        "privacy",
        "delete",
        "help",
    ]
    assert menus["de"] != menus["en"]
    for method, limit in (("setMyDescription", 512), ("setMyShortDescription", 120)):
        texts = {
            c.params.get("language_code"): next(iter(v for k, v in c.params.items() if "desc" in k))
            for c in bot.api.calls
            if c.method == method
        }
        assert set(texts) == expected, method
        assert texts["de"] != texts["en"] and all(0 < len(t) <= limit for t in texts.values())


async def test_delete_erases_the_case_and_the_outbox(bot: RunningBot) -> None:
    """/delete leaves no row about the person."""
    client = bot.client()
    await client.walk(JOURNEY.then(SUBMITTED))
    assert await client.send("/delete") == ["delete_confirm"]
    assert await client.tap("delete:yes") == ["deleted"]
    assert await step_of(bot, client.chat_id) is None
    assert await bot.storage.pending(client.chat_id) == []
    assert await bot.storage.reminders(client.chat_id) == {}


async def test_erase_answered_by_typing_while_a_yes_no_question_is_open(bot: RunningBot) -> None:
    """/delete asked at the "linked accounts?" question: the typed label "No, keep my data"
    and a typed "yes" answer "Erase everything?", not the linked-accounts question."""
    client = bot.client()
    await client.walk(JOURNEY.until("linked"))
    await client.send("/delete")
    assert await client.send("No, keep my data") == ["delete_kept", "ask_linked"]
    assert await step_of(bot, client.chat_id) is Step.LINKED
    await client.send("/delete")
    assert await client.send("yes") == ["deleted"]
    assert await step_of(bot, client.chat_id) is None


async def test_an_edited_message_is_not_taken_as_an_answer(bot: RunningBot) -> None:
    """Editing an old message gets a clear word; the edit's text changes nothing."""
    client = bot.client()
    await client.walk(JOURNEY.until("country"))
    assert await client.send_edited("Germany") == ["edited_message", "ask_country"]
    assert await step_of(bot, client.chat_id) is Step.COUNTRY
