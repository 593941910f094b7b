"""Campaign links: /start with a payload pre-fills what it says, through the same steps a
person's answers take, and is counted; anything else about it is ignored."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from conversations import campaign, machine
from conversations.case import Case, Step
from conversations.effects import Say, Tally
from conversations.events import Command
from conversations.knowledge import Knowledge, Platform

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("payload", "language", "country", "platforms"),
    [
        ("de-instagram", "de", None, "instagram"),
        ("de-AT-ig", "de", "AT", "instagram"),
        ("fr", "fr", None, None),
        ("FR", None, "FR", None),
        ("pt_BR_fb", "pt-BR", "BR", "facebook"),
        ("pt-PT", "pt-PT", "PT", None),
        ("pt", "pt-PT", None, None),
        ("ncp-2026", None, None, None),
        ("both-PL-pl", "pl", "PL", "both"),
    ],
)
def test_payload_tokens(
    payload: str, language: str | None, country: str | None, platforms: str | None
) -> None:
    parsed = campaign.parse(payload)
    assert parsed == campaign.Campaign(payload, language, country, platforms)


@pytest.mark.parametrize("payload", ["", "bad payload", "ü-de", "x" * 65, "de;DROP"])
def test_what_telegram_cannot_send_is_no_campaign(payload: str) -> None:
    assert campaign.parse(payload) is None


def start(k: Knowledge, args: str, case: Case | None = None) -> tuple[Case, list[object]]:
    event = Command(name="start", args=args, client_language="en")
    new, effects = machine.step(case or Case.new(7, NOW), event, NOW, k)
    return new, list(effects)


def said(effects: list[object]) -> list[str]:
    return [e.message for e in effects if isinstance(e, Say)]


def test_language_platform_and_country_are_answered_as_a_person_would(knowledge: Knowledge) -> None:
    case, effects = start(knowledge, "de-AT-instagram")
    assert case.language == "de" and case.platforms == (Platform.INSTAGRAM,)
    assert case.country == "AT" and case.step is Step.EMAIL
    assert effects[0] == Tally(campaign="de-AT-instagram")
    assert said(effects) == ["welcome", "country_set", "ask_email"]


def test_a_name_only_campaign_is_counted_and_starts_as_usual(knowledge: Knowledge) -> None:
    case, effects = start(knowledge, "ncp-2026")
    assert effects[0] == Tally(campaign="ncp-2026")
    assert said(effects) == said(start(knowledge, "")[1]) == ["welcome", "ask_platforms"]
    assert case.step is Step.PLATFORMS


def test_both_platforms_leave_the_linked_question_and_the_country_to_the_person(
    knowledge: Knowledge,
) -> None:
    case, effects = start(knowledge, "both-DE")
    assert case.step is Step.LINKED and case.country is None
    assert said(effects)[-1] == "ask_linked"


def test_an_invalid_payload_or_a_returning_person_is_a_plain_start(knowledge: Knowledge) -> None:
    case, effects = start(knowledge, "bad payload")
    assert not any(isinstance(e, Tally) for e in effects) and case.step is Step.PLATFORMS
    again, effects = start(knowledge, "de-AT", case)
    assert not any(isinstance(e, Tally) for e in effects)
    assert again.language == case.language and again.country is None
