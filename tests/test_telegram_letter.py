"""The journey's forgiving parts, end to end through python-telegram-bot: the letter step with
its form button first, the reasons message edited in place, a code typed into the chat
removed, "Change an answer" and "Start over" that ask first, country suggestions as buttons,
change alerts, and the evidence pack as a PDF.

Every test drives real ``Update`` objects through the application and reads the Bot API calls
the bot made (``tests.support.telegram``).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from conversations import knowledge as knowledge_data
from conversations.case import Reason, Step
from tests.support.journey import JOURNEY
from tests.support.running import RunningBot, running_bot


@pytest.fixture
async def bot(db_path: Path) -> AsyncIterator[RunningBot]:
    async with running_bot(db_path) as running:
        yield running


def _links(call: object) -> list[str]:
    markup = getattr(call, "params", {}).get("reply_markup") or {}
    if isinstance(markup, str):
        markup = json.loads(markup)
    return [b["url"] for row in markup.get("inline_keyboard", []) for b in row if "url" in b]


async def test_the_letter_comes_first_with_the_form_button_then_the_steps(
    bot: RunningBot,
) -> None:
    """After the last answer: the text with the form buttons under it, its file, the steps,
    each step message short; the rest is one tap away."""
    client = bot.client()
    await client.walk(JOURNEY.until("own_words"))
    since = len(bot.api.calls)
    shown = await client.send("I photograph my kids.")
    assert shown == ["letter", "form_help"]
    calls = [c for c in bot.api.calls[since:] if c.method in ("sendMessage", "sendDocument")]
    assert [c.method for c in calls] == ["sendMessage", "sendDocument", "sendMessage"]
    letter, _, steps = calls
    forms = knowledge_data.load().forms
    assert _links(letter) == [forms["fb_object_eu_2025"].url, forms["ig_object_eu_2025"].url]
    assert "I photograph my kids." in letter.text
    assert "Privacy Center → AI at Meta" in steps.text
    assert len(re.sub(r"<[^>]+>", "", steps.text)) < 1000
    assert await client.tap("letter:why") == ["why_it_works"]
    assert "particular situation" in client.text_of("why_it_works")
    assert await client.tap("letter:more_help") == ["more_help"]
    assert await client.tap("letter:if_refused") == ["if_refused"]


async def test_choosing_reasons_edits_the_one_question_message(bot: RunningBot) -> None:
    """A tap on a reason edits the question in place (the tick moves); typing a chosen
    reason's label keeps it chosen and says so."""
    client = bot.client()
    await client.walk(JOURNEY.until("reason"))
    (question,) = [c for c in client.sent() if c.template == "ask_reasons"]
    assert await client.tap("reasons:children") == ["ask_reasons"]
    assert await client.tap("reasons:creative") == ["ask_reasons"]
    edits = [c for c in client.edits() if c.template == "ask_reasons"]
    assert len(edits) == 2
    assert {int(e.params["message_id"]) for e in edits} == {question.result["message_id"]}
    assert "✅ Children appear in my photos" in json.dumps(
        edits[-1].params["reply_markup"], ensure_ascii=False
    )
    assert len([c for c in client.sent() if c.template == "ask_reasons"]) == 1  # no new one
    assert await client.send("Children appear in my photos") == ["reason_already_chosen"]
    case = await bot.case(client.chat_id)
    assert case is not None and case.reasons == (Reason.CHILDREN, Reason.CREATIVE)


async def test_a_code_typed_into_the_chat_is_removed_with_a_warning(bot: RunningBot) -> None:
    """Meta's code typed here: the bot deletes that message, says never to share codes (not
    with the bot either), says where it goes, and nothing about the case changes."""
    client = bot.client()
    await client.walk(JOURNEY.then())
    await client.tap("letter:submitted")
    before = await bot.case(client.chat_id)
    update = client.text_update("482 913")
    typed_id = update["message"]["message_id"]
    since = len(bot.api.calls)
    assert await client._process(update) == ["code_in_chat", "ask_code"]
    (deleted,) = [c for c in bot.api.calls[since:] if c.method == "deleteMessage"]
    assert int(deleted.params["message_id"]) == typed_id
    assert int(deleted.params["chat_id"]) == client.chat_id
    warning = client.text_of("code_in_chat")
    assert "Never share Meta's codes with anyone" in warning and "Meta's form" in warning
    assert await bot.case(client.chat_id) == before


async def test_start_over_asks_and_change_an_answer_keeps_the_rest(bot: RunningBot) -> None:
    """ "Start over" asks first ("no" keeps everything); "Change an answer" -> the e-mail
    address: only that question, then the letter is rewritten with every other answer kept."""
    client = bot.client()
    await client.walk(JOURNEY)
    before = await bot.case(client.chat_id)
    assert await client.tap("letter:start_over") == ["start_over_confirm"]
    assert await client.tap("letter:start_over_no") == ["ask_letter"]
    assert await bot.case(client.chat_id) == before
    assert await client.tap("letter:change") == ["change_what"]
    assert await client.tap("letter:change_email") == ["ask_email"]
    assert await client.send("new@example.org") == ["letter", "form_help"]
    after = await bot.case(client.chat_id)
    assert before is not None and after is not None
    assert after.step is Step.LETTER and after.email == "new@example.org"
    assert {**after.answers(), "email": before.email} == before.answers()
    assert await client.tap("letter:change") == ["change_what"]
    assert await client.tap("letter:change_country") == ["ask_country"]
    assert await client.send("Austria") == ["country_set", "letter", "form_help"]
    assert (await bot.case(client.chat_id)).country == "AT"  # type: ignore[union-attr]
    assert await client.tap("letter:start_over") == ["start_over_confirm"]
    assert await client.tap("letter:start_over_yes") == ["ask_platforms"]
    erased = await bot.case(client.chat_id)
    assert erased is not None and not any(erased.answers().values())


async def test_country_suggestions_are_buttons(bot: RunningBot) -> None:
    client = bot.client()
    await client.walk(JOURNEY.until("country"))
    assert await client.send("Germny") == ["country_unknown", "ask_country"]
    suggested = [
        b["callback_data"]
        for c in client.sent()
        if c.template == "country_unknown"
        for row in c.params["reply_markup"]["inline_keyboard"]
        for b in row
    ]
    assert "country:DE" in suggested
    # chatting in English, in Germany: German is offered once, before the e-mail question
    assert await client.tap("country:DE") == ["country_set", "language_offer", "ask_email"]


async def test_change_alerts_are_a_yes_that_settings_mydata_and_delete_cover(
    bot: RunningBot,
) -> None:
    client = bot.client()
    await client.walk(JOURNEY.until("email"))
    assert await client.send("/settings") == ["settings"]
    assert await client.tap("command:alerts_on") == ["alerts_on"]
    assert await bot.storage.alert_chats() == [client.chat_id]
    await client.send("/mydata")
    exported = json.loads(client.documents()[-1].content)
    assert exported["case"]["alerts"] is True
    await client.send("/delete")
    await client.tap("delete:yes")
    assert await bot.storage.alert_chats() == []


async def test_welcome_back_only_when_something_was_answered(bot: RunningBot) -> None:
    client = bot.client()
    await client.send("/start")
    assert await client.send("/start") == ["ask_platforms"]
    await client.tap("platforms:facebook")
    assert await client.send("/start") == ["welcome_back", "ask_country"]


async def test_the_evidence_pack_is_a_pdf_from_mydata(bot: RunningBot) -> None:
    """/mydata offers the evidence pack once a text is written; it arrives as a PDF whose
    text holds the objection with the person's own words."""
    client = bot.client()
    await client.walk(JOURNEY)
    await client.send("/mydata")
    assert "command:evidence" in [b.get("callback_data") for b in client.buttons()]
    await client.tap("command:evidence")
    await bot.services.sender.flush(client.chat_id)
    documents = [b"".join(c.files.values()) for c in client.sent() if c.method == "sendDocument"]
    (content,) = [d for d in documents if d.startswith(b"%PDF")]
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    assert "I photograph my kids." in " ".join(text.split())
    assert "Art. 21(1) GDPR" in text
