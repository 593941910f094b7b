"""After the letter, through python-telegram-bot: what Meta actually says at a check-in ("we will
review it", "send us more"), and the escalation keeping time -- the follow-up's reminder two
weeks on, "not yet", the complaint again, "I sent the complaint" and the authority's months.

The running bot keeps real time, so "two weeks later" is the follow-up reminder moved to now in
the database (as if the weeks had passed), in a time zone where it is midday (so the reminder is
not held back for the night, whenever the test runs).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.inbox import utc_now
from conversations import Case, Schedule, Step
from conversations.knowledge import add_months
from conversations.timekeeping import AUTHORITY, CHECKIN, FOLLOWUP
from tests.support.journey import TO_ESCALATION, TO_WAITING, typed
from tests.support.running import RunningBot
from tests.support.telegram import TelegramClient

#: Refused at the first check-in, in Hamburg: the follow-up and the complaint to its authority.
TO_HAMBURG = TO_ESCALATION.then(typed("region", "Hamburg"))


def midday_zone(now: datetime) -> str:
    """A fixed-offset zone where ``now`` is around noon (``Etc/GMT-3`` is UTC+3)."""
    offset = 12 - now.hour
    if offset > 14:
        offset -= 24
    if offset < -12:
        offset += 24
    return f"Etc/GMT{-offset:+d}"


async def stored(bot: RunningBot, client: TelegramClient) -> Case:
    case = await bot.case(client.chat_id)
    assert case is not None
    return case


async def two_weeks_pass(bot: RunningBot, client: TelegramClient) -> None:
    """The follow-up reminder falls due now, in the person's daytime."""
    case = await stored(bot, client)
    now = utc_now()
    case = case.model_copy(update={"timezone": midday_zone(now)})
    await bot.storage.commit(case, [Schedule(key=FOLLOWUP, due_at=now - timedelta(seconds=1))])


async def test_we_will_review_keeps_waiting(bot: RunningBot) -> None:
    """ "Meta says it will review it": the date is kept, the check-ins go on, no escalation."""
    client = bot.client()
    await client.walk(TO_WAITING)
    before = utc_now()
    assert await client.click("Meta says it will review it") == ["review_said"]
    case = await stored(bot, client)
    assert case.step is Step.WAITING
    assert case.review_said_at is not None and case.review_said_at >= before
    assert CHECKIN in await bot.storage.reminders(client.chat_id)
    text = client.text_of("review_said")
    assert "The legal deadline still runs" in text and "check-ins go on" in text


async def test_meta_asks_for_more(bot: RunningBot) -> None:
    """ "Meta asks for more information or ID": what to answer, what never to send."""
    client = bot.client()
    await client.walk(TO_WAITING)
    assert await client.click("Meta asks for more information or ID") == ["info_asked"]
    case = await stored(bot, client)
    assert case.step is Step.WAITING and case.info_asked_at is not None
    text = client.text_of("info_asked")
    assert "Art. 12(6) GDPR" in text and "Never send your password" in text


async def test_the_follow_up_reminder_then_the_complaint_then_the_authority(
    bot: RunningBot,
) -> None:
    """Escalating schedules the follow-up reminder two weeks on (no authority reminder yet);
    when it fires: "Did Meta answer?"; "not yet" asks again a week later; the complaint is
    shown again; "I sent the complaint" counts the authority's three months from that day."""
    client = bot.client()
    await client.walk(TO_HAMBURG)
    assert client.templates()[-3:] == ["letter", "letter", "escalated"]
    escalated = await stored(bot, client)
    assert escalated.escalated_at is not None and escalated.followup_due_at is not None
    reminders = await bot.storage.reminders(client.chat_id)
    assert reminders[FOLLOWUP] == escalated.followup_due_at
    assert escalated.followup_due_at - escalated.escalated_at >= timedelta(days=14)
    assert AUTHORITY not in reminders and escalated.authority_report_due_at is None

    await two_weeks_pass(bot, client)
    assert await bot.run_due() == 1
    assert client.last_template() == "followup_checkin"
    assert "Did Meta answer?" in client.text_of("followup_checkin")
    assert client.button_labels() == [
        "Send the complaint now",
        "Meta confirmed",
        "Not yet – remind me in a week",
    ]

    asked = utc_now()
    assert await client.tap("escalated:not_yet") == ["nothing_yet"]
    again = (await bot.storage.reminders(client.chat_id))[FOLLOWUP]
    assert asked + timedelta(days=7) <= again <= utc_now() + timedelta(days=7)

    # in English to a German authority: the German complaint, the person's copy, then what next
    assert await client.tap("escalated:send_complaint") == ["letter", "letter", "complaint_now"]

    sent = utc_now()
    assert await client.tap("escalated:complaint_sent") == ["complaint_sent"]
    case = await stored(bot, client)
    assert case.complaint_sent_at is not None and case.complaint_sent_at >= sent
    reminders = await bot.storage.reminders(client.chat_id)
    assert FOLLOWUP not in reminders
    assert reminders[AUTHORITY] == case.authority_report_due_at
    assert reminders[AUTHORITY] >= add_months(case.complaint_sent_at, 3)
    assert reminders[AUTHORITY] - add_months(case.complaint_sent_at, 3) < timedelta(days=1)
    assert "The authority answered" in client.button_labels()
