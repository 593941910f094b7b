"""The bot in the languages of the people it serves, end to end through python-telegram-bot:
the client's language tag (with its region), countries typed in any language, the country's
own language offered to someone chatting in English, /language by every language's own name,
and the complaint in the authority's language with the person's copy.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from conversations import LANGUAGES
from conversations.case import Step
from tests.support.journey import JOURNEY, SUBMITTED, pressed
from tests.support.running import RunningBot, running_bot


@pytest.fixture
async def bot(db_path: Path) -> AsyncIterator[RunningBot]:
    async with running_bot(db_path) as running:
        yield running


async def test_a_french_client_gets_a_french_journey_and_letter(bot: RunningBot) -> None:
    client = bot.client(language="fr")
    await client.walk(JOURNEY.but(country="France", own_words="Je photographie mes enfants."))
    case = await bot.case(client.chat_id)
    assert case is not None and case.language == "fr" and case.country == "FR"
    letter = client.text_of("letter")
    assert "article 21, paragraphe 1, du RGPD" in letter
    assert "Je photographie mes enfants." in letter
    assert "Comment l’envoyer" in client.text_of("form_help")


@pytest.mark.parametrize(("tag", "language"), [("pt-br", "pt-BR"), ("pl", "pl"), ("nl-BE", "nl")])
async def test_the_client_tag_with_its_region_picks_the_language(
    bot: RunningBot, tag: str, language: str
) -> None:
    client = bot.client(language=tag)
    await client.send("/start")
    case = await bot.case(client.chat_id)
    assert case is not None and case.language == language


@pytest.mark.parametrize(
    ("typed", "code"), [("Polska", "PL"), ("Ελλάδα", "GR"), ("U.S.A.", "US"), ("Suisse", "CH")]
)
async def test_countries_are_understood_in_their_own_names(
    bot: RunningBot, typed: str, code: str
) -> None:
    client = bot.client()
    await client.walk(JOURNEY.until("country"))
    await client.send(typed)
    case = await bot.case(client.chat_id)
    assert case is not None and case.country == code


async def test_someone_chatting_in_english_is_offered_the_countrys_language_once(
    bot: RunningBot,
) -> None:
    """Belgium: Dutch, French and German offered after the country; a tap switches, and the
    offer does not come again."""
    client = bot.client()
    await client.walk(JOURNEY.until("email"))
    offer = [b.get("callback_data") for b in client.buttons()]
    assert "lang:de" in offer  # Germany's language, after "Germany"
    assert await client.tap("lang:de") == ["language_set", "ask_email"]
    case = await bot.case(client.chat_id)
    assert case is not None and case.language == "de" and case.language_offered
    belgian = bot.client(chat_id=5550002)
    await belgian.walk(JOURNEY.but(country="Belgique").until("email"))
    shown = [b.get("callback_data") for b in belgian.buttons()]
    assert {"lang:nl", "lang:fr", "lang:de"} <= set(shown)
    assert await belgian.send("/language") == ["ask_language"]
    assert len(belgian.button_labels()) == len(LANGUAGES)
    assert belgian.button_labels()[:8] == [
        "English",
        "Deutsch",
        "Français",
        "Italiano",
        "Español",
        "Polski",
        "Nederlands",
        "Português (Brasil)",
    ]


async def test_the_complaint_is_in_the_authoritys_language_with_the_persons_copy(
    bot: RunningBot,
) -> None:
    """In English, in France: the CNIL takes French only, so the complaint is French and an
    English copy, marked as the copy, follows it."""
    client = bot.client()
    await client.walk(
        JOURNEY.but(country="France").then(
            SUBMITTED,
            pressed("code", "submitted:no_code_needed"),
            pressed("answer", "waiting:refused"),
        )
    )
    case = await bot.case(client.chat_id)
    assert case is not None and case.step is Step.ESCALATED
    contents = [d.content for d in client.documents()]
    assert any("article 77" in c and "RGPD" in c for c in contents)  # the French complaint
    copies = [c.text for c in client.messages() if c.template == "letter"]
    assert any("A copy of your complaint in your language" in t for t in copies)
    assert any("in French" in t for t in copies)
    assert "so I wrote yours in French" in client.text_of("escalated")
