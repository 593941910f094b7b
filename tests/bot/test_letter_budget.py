"""The letter step is short enough to act on: for every jurisdiction, language and way of
answering, the text and the form's button come first, no other message there is longer than
``MESSAGE_BUDGET`` visible characters, and everything else is one tap away.

The figures come from ``tests/support/screens.py``, as ``scripts/message_sizes.py`` prints them.
"""

from __future__ import annotations

import pytest

from bot.renderer import COPY_BUTTON_MAX, Renderer
from conversations import LANGUAGES, Policy
from conversations.case import Step
from conversations.effects import Effect, Say
from conversations.knowledge import Knowledge
from tests.support import PLACES, START
from tests.support.journey import JOURNEY, SKIP_OWN_WORDS, pressed
from tests.support.screens import Screen, screens
from tests.support.walks import Walk

#: Visible characters a chat message at the letter step may have (the letter itself excepted):
#: about a thousand, a phone screen. English is held to it; a translation may run up to 15%
#: longer (German does), rather than be cut to fit.
MESSAGE_BUDGET = 1000
TRANSLATION_ALLOWANCE = 1.15


def budget(language: str) -> int:
    return MESSAGE_BUDGET if language == "en" else int(MESSAGE_BUDGET * TRANSLATION_ALLOWANCE)


#: Chat messages the letter step may send, the text included (its file is not a chat message).
MESSAGES_AT_MOST = 3
#: The one-tap help at the letter: each is a message of its own, within the budget too.
HELP = ("more_help", "why", "if_refused", "evidence_guide", "protect", "change", "start_over")

#: The ways of answering that change the letter step: one platform or two, linked or not, own
#: words or none.
ANSWERS = {
    "both linked, own words": JOURNEY,
    "both separate, no own words": JOURNEY.but(
        linked=pressed("linked", "linked:no"), own_words=SKIP_OWN_WORDS
    ),
    "instagram only": JOURNEY.but(platforms="platforms:instagram", linked=None),
}


def to_letter(
    knowledge: Knowledge, jurisdiction: str, answers: str, language: str, policy: Policy
) -> tuple[Walk, list[Effect]]:
    country, region = PLACES[jurisdiction]
    walk = Walk.begin(knowledge, START, language=language)
    walk.policy = policy
    out: list[Effect] = []
    for move in ANSWERS[answers].but(country=country):  # typed as its ISO code
        out = walk.send(move.event())
        if walk.current().step is Step.STATE:  # the US state decides the law
            assert region is not None
            walk.text(region)
    assert walk.current().step is Step.LETTER, (jurisdiction, answers)
    assert knowledge.jurisdiction_key(walk.case.country or "", walk.case.region) == jurisdiction
    return walk, out


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("jurisdiction", sorted(PLACES))
@pytest.mark.parametrize("email", [False, True], ids=["no e-mail", "e-mail copies"])
def test_the_letter_step_fits_the_budget(
    knowledge: Knowledge, renderer: Renderer, jurisdiction: str, language: str, email: bool
) -> None:
    policy = Policy(email_enabled=email)
    for answers in ANSWERS:
        walk, out = to_letter(knowledge, jurisdiction, answers, language, policy)
        shown = [s for s in screens(out, renderer, language) if s.template != "file"]
        where = (jurisdiction, language, answers)
        # the text first, with the form's button(s) under it: the person can act at once
        first = shown[0]
        assert first.is_letter and first.links, (where, first)
        form_text = renderer.letter(walk.case).form_text
        assert (first.copies == form_text) is (len(form_text) <= COPY_BUTTON_MAX), where
        assert len(shown) <= MESSAGES_AT_MOST + (1 if email else 0), (where, _sizes(shown))
        for screen in shown[1:]:
            assert screen.chars <= budget(language), (where, screen.template, screen.chars)
        # everything else is one tap away, and within the budget too
        offered = {b.data for e in out if isinstance(e, Say) for row in e.buttons for b in row}
        helped = [value for value in HELP if f"letter:{value}" in offered]
        assert {"more_help", "why", "if_refused", "change", "start_over"} <= set(helped), where
        for value in helped:
            aside = Walk(k=walk.k, now=walk.now, case=walk.case, policy=policy)
            for screen in screens(aside.press(f"letter:{value}"), renderer, language):
                assert screen.chars <= budget(language), (where, value, screen.chars)


def _sizes(shown: list[Screen]) -> list[tuple[str, int]]:
    return [(s.template, s.chars) for s in shown]
