"""Chat texts that say only what is true where the person lives (found in the review of issue 8)."""

from __future__ import annotations

import pytest

from bot.renderer import Renderer
from conversations import Knowledge, Say
from tests.support.walks import START, Walk


@pytest.mark.parametrize(("country", "object_anyway"), [("DE", True), ("AU", False)])
def test_the_checklist_says_object_anyway_only_where_one_can_object(
    knowledge: Knowledge, renderer: Renderer, country: str, object_anyway: bool
) -> None:
    walk = Walk.begin(knowledge, START).to_letter(country)
    (say, _) = walk.command("protect")
    assert isinstance(say, Say)
    shown = renderer.message(say, "en").plain
    assert ("Object anyway" in shown) is object_anyway
    assert ("does not keep them out of AI training" in shown) is not object_anyway


@pytest.mark.parametrize(("country", "feeds_ads"), [("DE", False), ("US", True)])
def test_whatsapp_feeding_ads_is_said_only_where_ai_chats_feed_ads(
    knowledge: Knowledge, renderer: Renderer, country: str, feeds_ads: bool
) -> None:
    walk = Walk.begin(knowledge, START).to_letter(country)
    (_, apps) = walk.command("protect")
    assert isinstance(apps, Say)
    shown = renderer.message(apps, "en").plain
    assert ("do not feed ads on Facebook and Instagram" in shown) is feeds_ads


def test_uk_escalation_waits_for_the_30_day_acknowledgement(
    knowledge: Knowledge, renderer: Renderer
) -> None:
    """Under s.164A DPA 2018 Meta has 30 days to acknowledge: not "give it two weeks"."""
    walk = Walk.begin(knowledge, START).to_letter("GB")
    walk.press("letter:submitted")
    walk.press("submitted:no_code_needed")
    effects = walk.press("waiting:escalate")
    (escalated,) = [e for e in effects if isinstance(e, Say) and e.message == "escalated"]
    shown = renderer.message(escalated, "en").plain
    assert "30 days to acknowledge" in shown and "two weeks" not in shown
