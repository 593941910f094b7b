"""Keeping time, with a hand-moved clock: the code countdown, check-ins, proof, escalation."""

from __future__ import annotations

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.ics import calendar_file
from bot.renderer import Renderer
from conversations.case import Case, CheckIns, Step
from conversations.effects import Effect, Say, SendCalendar, SendEvidence, SendLetter
from conversations.events import Command, Media
from conversations.knowledge import Knowledge, add_months
from conversations.timekeeping import AUTHORITY, CHECKIN, CODE_EXPIRED, FOLLOWUP, TICK, daytime
from tests.support.walks import START, Walk, said


def submitted(k: Knowledge, country: str = "DE", language: str = "en") -> Walk:
    walk = Walk.begin(k, START, language=language).to_letter(country)
    walk.press("letter:submitted")
    return walk


def test_code_countdown_edits_one_message_and_reminds_at_30_10_5(knowledge: Knowledge) -> None:
    """A code starts a countdown: one message edited as time runs, three reminders, expiry."""
    walk = submitted(knowledge)
    assert walk.case.step is Step.SUBMITTED
    first = walk.press("submitted:have_code")
    countdown = [e for e in first if isinstance(e, Say) and e.message == "countdown"]
    assert countdown and countdown[0].slot == "countdown" and not countdown[0].edit
    assert walk.case.code_expires_at == START + timedelta(minutes=60)
    fired = walk.advance(timedelta(minutes=61))
    edits = [e for e in fired if isinstance(e, Say) and e.message == "countdown"]
    assert all(e.edit and e.slot == "countdown" for e in edits)
    # every 5 minutes for 55 minutes, then every minute, then the final "expired" edit
    assert 14 <= len(edits) <= 18, len(edits)
    reminders = [
        e.context["minutes"] for e in fired if isinstance(e, Say) and e.message == "code_reminder"
    ]
    assert reminders == [30, 10, 5]
    assert walk.current().step is Step.CODE_EXPIRED
    assert said(fired)[-1] == "code_expired"
    assert not walk.reminders, "nothing left scheduled after expiry"


@pytest.mark.parametrize("country", ["US", "CA", "JP", "KR", "AU", "IN"])
def test_a_code_of_unknown_validity_is_never_called_expired(
    knowledge: Knowledge, country: str
) -> None:
    """Where nobody knows how long Meta's code lasts, "I have the code" gets "enter it now,
    I don't know how long it stays valid" with the three ways on -- never "expired" -- and
    nothing is scheduled to expire it."""
    walk = submitted(knowledge, country)
    if knowledge.jurisdiction_for(country).code.validity_minutes is not None:
        pytest.skip(f"{country}: the knowledge data gives a validity")
    effects = walk.press("submitted:have_code")
    (countdown,) = [e for e in effects if isinstance(e, Say) and e.message == "countdown"]
    assert countdown.context["expired"] is False and countdown.context["minutes_left"] is None
    values = [b.data for row in countdown.buttons for b in row]
    assert values == ["code:entered", "code:missing", "code:new_code", "code:calendar"]
    assert walk.case.step is Step.CODE and walk.case.code_expires_at is None
    assert not walk.reminders
    assert "code_expired" not in said(walk.advance(timedelta(hours=3)))
    walk.press("code:entered")
    assert walk.current().step is Step.WAITING


def test_code_reminders_carry_the_countdown_buttons(knowledge: Knowledge) -> None:
    """ "Only 10 minutes left" can be answered right there: entered, none came, a new one."""
    walk = submitted(knowledge)
    walk.press("submitted:have_code")
    fired = walk.advance(timedelta(minutes=31))
    (reminder,) = [e for e in fired if isinstance(e, Say) and e.message == "code_reminder"]
    values = [b.data for row in reminder.buttons for b in row]
    assert values == ["code:entered", "code:missing", "code:new_code", "code:calendar"]


def test_reminders_that_became_pointless_during_downtime_are_not_sent(knowledge: Knowledge) -> None:
    """Down from minute 20 to minute 58: only "2 minutes left" fits now, not 30 or 10."""
    walk = submitted(knowledge)
    walk.press("submitted:have_code")
    walk.advance(timedelta(minutes=20))
    late = walk.jump(timedelta(minutes=38))
    reminders = [
        e.context["minutes"] for e in late if isinstance(e, Say) and e.message == "code_reminder"
    ]
    assert reminders == [2]
    assert walk.case.step is Step.CODE


def test_downtime_past_expiry_gives_the_expiry_message_only(knowledge: Knowledge) -> None:
    """Down until after expiry: no "5 minutes left" an hour late, just "expired, here's how"."""
    walk = submitted(knowledge)
    walk.press("submitted:have_code")
    late = walk.jump(timedelta(hours=2))
    assert "code_reminder" not in said(late)
    assert said(late).count("code_expired") == 1
    assert walk.case.step is Step.CODE_EXPIRED


def test_new_code_restarts_the_countdown(knowledge: Knowledge) -> None:
    """After expiry, a new code starts a fresh countdown from now."""
    walk = submitted(knowledge)
    walk.press("submitted:have_code")
    walk.advance(timedelta(minutes=70))
    walk.press("code_expired:have_code")
    assert walk.case.step is Step.CODE
    assert walk.case.code_expires_at == walk.now + timedelta(minutes=60)
    assert TICK in walk.reminders and CODE_EXPIRED in walk.reminders


def test_whole_ladder_from_code_to_escalation(knowledge: Knowledge) -> None:
    """Code entered, check-ins in daytime up to the one-month deadline, then escalation."""
    walk = submitted(knowledge)
    walk.press("submitted:have_code")
    walk.advance(timedelta(minutes=3))
    walk.press("code:entered")
    assert walk.case.step is Step.WAITING
    entered = walk.case.code_entered_at
    assert entered is not None
    assert walk.case.deadline_at == entered.replace(month=12)  # one month
    assert TICK not in walk.reminders and CHECKIN in walk.reminders
    mark = len(walk.log)
    walk.advance(timedelta(days=40))
    checkins = [
        (at, e)
        for at, e in walk.log[mark:]
        if isinstance(e, Say) and e.message in ("checkin", "deadline_passed")
    ]
    assert len(checkins) == len(knowledge.schedule.checkin_after_hours) + 1
    assert checkins[-1][1].message == "deadline_passed"
    assert checkins[-1][0] >= walk.case.deadline_at
    berlin = ZoneInfo("Europe/Berlin")
    for at, say in checkins:
        assert say.urgency == "checkin"
        assert 9 <= at.astimezone(berlin).hour < 21, at  # daytime in Berlin
    walk.press("waiting:escalate")
    assert walk.current().step is Step.REGION  # Germany: the state's authority is competent
    walk.text("Hamburg")
    assert walk.current().step is Step.ESCALATED and walk.current().region == "DE-HH"
    letters = [
        (e.letter, e.language, e.reader_copy) for e in walk.effects if isinstance(e, SendLetter)
    ]
    # in English, to a German authority: the complaint in German, and the person's copy
    assert letters[-3:] == [
        ("followup", None, False),
        ("complaint", "de", False),
        ("complaint", None, True),
    ]
    assert walk.case.authority_report_due_at is None  # counted once the complaint is sent
    two_weeks = walk.now + timedelta(days=14)
    assert walk.case.followup_due_at == daytime(walk.case, knowledge, two_weeks)
    assert "followup_checkin" in said(walk.advance(timedelta(days=15)))
    walk.press("escalated:complaint_sent")
    three_months = add_months(walk.now, 3)
    assert walk.case.authority_report_due_at == daytime(walk.case, knowledge, three_months)
    fired = walk.advance(timedelta(days=100))
    assert "authority_checkin" in said(fired)


def test_checkins_never_fire_at_night(knowledge: Knowledge) -> None:
    """A check-in that would fall into quiet hours is moved to the next morning."""
    walk = submitted(knowledge)
    walk.advance(timedelta(hours=11))  # 20:00 UTC = 21:00 Berlin
    walk.press("submitted:no_code_needed")
    due = walk.reminders[CHECKIN].astimezone(ZoneInfo("Europe/Berlin"))
    assert 9 <= due.hour < 21, due


def test_late_checkin_at_night_waits_for_the_morning(knowledge: Knowledge) -> None:
    """After downtime, an overdue check-in at 03:00 local is re-scheduled, not sent."""
    walk = submitted(knowledge)
    walk.press("submitted:no_code_needed")
    walk.now = START.replace(hour=2)  # 03:00 Berlin, the next day
    walk.now += timedelta(days=1)
    fired = walk.jump(timedelta(0))
    assert "checkin" not in said(fired)
    assert walk.reminders[CHECKIN].astimezone(ZoneInfo("Europe/Berlin")).hour == 9


def test_pause_and_resume_checkins(knowledge: Knowledge) -> None:
    """Pausing cancels the next check-in; resuming schedules one again."""
    walk = submitted(knowledge)
    walk.press("submitted:no_code_needed")
    walk.press("waiting:pause")
    assert walk.case.checkins is CheckIns.PAUSED and CHECKIN not in walk.reminders
    assert "checkin" not in said(walk.advance(timedelta(days=3)))
    walk.press("waiting:resume")
    assert walk.current().checkins is CheckIns.ON and CHECKIN in walk.reminders


def test_confirmed_keeps_proof_then_offers_to_erase(knowledge: Knowledge) -> None:
    """Meta confirmed: a pasted text or a screenshot is kept with its date; then the checklist."""
    walk = submitted(knowledge)
    walk.press("submitted:no_code_needed")
    walk.press("waiting:confirmed")
    assert walk.case.step is Step.PROOF and CHECKIN not in walk.reminders
    walk.send(Media(file_id="AgACAgIAAxkBAAIB"))
    assert walk.current().step is Step.DONE
    assert walk.case.proof is not None and walk.case.proof.file_id == "AgACAgIAAxkBAAIB"
    assert walk.case.proof.received_at == walk.now
    assert said(walk.effects)[-1] == "done"


def test_refused_outside_germany_escalates_straight_away(knowledge: Knowledge) -> None:
    """France: no region question; the complaint is addressed to the CNIL."""
    walk = submitted(knowledge, "FR")
    walk.press("submitted:no_code_needed")
    walk.press("waiting:refused")
    assert walk.case.step is Step.ESCALATED and walk.case.refused_at == walk.now
    escalated = [e for e in walk.effects if isinstance(e, Say) and e.message == "escalated"][-1]
    assert escalated.context["regulator"] == "fr"


def test_no_right_to_object_means_no_complaint_letter(knowledge: Knowledge) -> None:
    """USA: a follow-up to Meta, the right regulator named, but no Art. 77 complaint."""
    walk = submitted(knowledge, "US")
    walk.press("submitted:no_code_needed")
    walk.press("waiting:refused")
    letters = [e.letter for e in walk.effects if isinstance(e, SendLetter)]
    assert "followup" in letters and "complaint" not in letters


def test_calendar_on_request(knowledge: Knowledge) -> None:
    """ "Add to calendar" sends the dates as a calendar file and changes nothing."""
    walk = submitted(knowledge)
    walk.press("submitted:no_code_needed")
    before = walk.case
    out = walk.press("waiting:calendar")
    assert any(isinstance(e, SendCalendar) for e in out)
    assert walk.case == before


def test_timezone_can_be_changed(knowledge: Knowledge) -> None:
    """/timezone asks, and a typed IANA name is taken; the journey continues where it was."""
    walk = submitted(knowledge, "US")
    assert walk.case.timezone in (None, "America/New_York")
    walk.press("submitted:no_code_needed")
    assert walk.case.timezone == "America/New_York"
    walk.command("timezone")
    assert walk.case.step is Step.TIMEZONE
    walk.text("America/Chicago")
    assert walk.current().timezone == "America/Chicago" and walk.current().step is Step.WAITING
    walk.command("timezone")
    out = walk.text("Mars/Olympus_Mons")
    assert said(out)[0] == "timezone_unknown" and walk.case.timezone == "America/Chicago"


def test_countdown_messages_say_how_long_they_stay_true(knowledge: Knowledge) -> None:
    """Every "N minutes left" and countdown edit carries the moment after which it would be
    out of date, and the reminder to run instead (so a late delivery is replaced)."""
    walk = submitted(knowledge)
    walk.press("submitted:have_code")
    walk.advance(timedelta(minutes=59))
    valid = timedelta(seconds=knowledge.schedule.countdown_valid_seconds)
    timed = [
        (at, e)
        for at, e in walk.log
        if isinstance(e, Say) and e.message in ("code_reminder", "countdown")
    ]
    assert len(timed) > 10
    for at, say in timed:
        assert say.valid_until == at + valid and say.refresh
    reminder = next(e for _, e in timed if e.message == "code_reminder")
    assert reminder.refresh == "code_left:30"


def test_checkins_held_over_the_night_are_spread_over_the_morning(knowledge: Knowledge) -> None:
    """Check-ins moved past the night go out between 09:00 and 09:30, the same case always at
    the same moment, different cases at different moments."""
    berlin = ZoneInfo("Europe/Berlin")
    night = START.replace(hour=23)  # 00:00 Berlin
    moments = set()
    for chat in range(1, 60):
        walk = Walk.begin(knowledge, START, chat_id=chat).to_letter("DE")
        morning = daytime(walk.case, knowledge, night).astimezone(berlin)
        assert morning.hour == 9 and morning.minute < 30
        assert daytime(walk.case, knowledge, night) == daytime(walk.case, knowledge, night)
        moments.add(morning)
    assert len(moments) > 30


@pytest.mark.parametrize("country", ["US", "CA", "AU", "IN", "ZA", "DE"])
def test_escalation_describes_only_the_texts_it_wrote(
    knowledge: Knowledge, renderer: Renderer, country: str
) -> None:
    """Where the law gives no complaint that can enforce anything, escalating writes only the
    follow-up to Meta: no message says "your complaint is above", and there is no "the
    authority answered" to press."""
    walk = submitted(knowledge, country)
    walk.press("submitted:no_code_needed")
    effects = walk.press("waiting:escalate")
    if walk.case.step is Step.REGION:
        effects = walk.press("region:DE-BY" if country == "DE" else "region:other")
    kinds = [e.letter for e in effects if isinstance(e, SendLetter)]
    (escalated,) = [e for e in effects if isinstance(e, Say) and e.message == "escalated"]
    buttons = [b.data for row in escalated.buttons for b in row]
    if knowledge.jurisdiction_for(country).kind.value == "third_party":
        assert kinds == ["followup"]
        assert escalated.context["complaint"] is False
        shown = renderer.message(escalated, "en").plain
        assert "follow-up to Meta is above" in shown and "complaint are above" not in shown
        assert "escalated:authority_answered" not in buttons
        walk.press("escalated:authority_answered")  # an old button from elsewhere: refused
        assert walk.case.step is Step.ESCALATED
    else:
        # the complaint in the authority's language where it is not English (a copy follows)
        german = knowledge.regulator_for(country, walk.case.region).complaint_languages == ["de"]  # type: ignore[union-attr]
        assert kinds == (
            ["followup", "complaint", "complaint"] if german else ["followup", "complaint"]
        )
        assert escalated.context["complaint"] is True
        assert "escalated:complaint_sent" in buttons and "escalated:pdf" in buttons
        # "the authority answered" comes once the complaint was sent
        assert "escalated:authority_answered" not in buttons


@pytest.mark.parametrize(("country", "firm"), [("DE", True), ("GB", True), ("BR", False)])
def test_a_period_that_is_only_a_guide_is_not_called_the_law(
    knowledge: Knowledge, renderer: Renderer, country: str, firm: bool
) -> None:
    """Brazil's 15 days are a guide, not a confirmed deadline: no "by law Meta has to answer"."""
    walk = submitted(knowledge, country)
    effects = walk.press("submitted:no_code_needed")
    (waiting,) = [e for e in effects if isinstance(e, Say) and e.message == "waiting"]
    shown = renderer.message(waiting, "en").plain
    assert ("By law Meta has to answer by" in shown) is firm
    assert ("As a guide" in shown) is not firm


def test_the_complaint_language_is_named_when_it_is_not_the_persons(
    knowledge: Knowledge, renderer: Renderer
) -> None:
    """The CNIL takes complaints in French only: for an English speaker in France the complaint
    is written in French (the bot writes French), with an English copy marked as the copy, and
    the chat says which to send; an authority whose language the bot does not write (Japan's
    PPC) is named with its languages, to translate."""
    walk = submitted(knowledge, "FR")
    walk.press("submitted:no_code_needed")
    effects = walk.press("waiting:escalate")
    written = [(e.letter, e.language, e.reader_copy) for e in effects if isinstance(e, SendLetter)]
    assert written[1:] == [("complaint", "fr", False), ("complaint", None, True)]
    (escalated,) = [e for e in effects if isinstance(e, Say) and e.message == "escalated"]
    assert "so I wrote yours in French" in renderer.message(escalated, "en").plain
    assert "auf Französisch" in renderer.message(escalated, "de").plain
    walk = submitted(knowledge, "JP")
    walk.press("submitted:no_code_needed")
    effects = walk.press("waiting:escalate")
    kinds = [(e.letter, e.language) for e in effects if isinstance(e, SendLetter)]
    assert kinds == [("followup", None), ("complaint", None)]  # the bot writes no Japanese
    (escalated,) = [e for e in effects if isinstance(e, Say) and e.message == "escalated"]
    assert "complaints in Japanese" in renderer.message(escalated, "en").plain


@pytest.mark.parametrize(
    ("answer", "regulator"), [("region:CA-QC", "ca_qc"), ("region:other", "ca")]
)
def test_canadians_are_asked_about_quebec_before_the_authority_is_named(
    knowledge: Knowledge, answer: str, regulator: str
) -> None:
    """Québec has its own authority (the CAI): asked at escalation, with "somewhere else"."""
    walk = submitted(knowledge, "CA")
    walk.press("submitted:no_code_needed")
    walk.press("waiting:escalate")
    assert walk.case.step is Step.REGION
    (ask,) = [e for e in walk.effects if isinstance(e, Say) and e.message == "ask_region"][-1:]
    assert [b.data for row in ask.buttons for b in row] == ["region:CA-QC", "region:other"]
    effects = walk.press(answer)
    (escalated,) = [e for e in effects if isinstance(e, Say) and e.message == "escalated"]
    assert escalated.context["regulator"] == regulator


def test_germans_must_choose_their_state(knowledge: Knowledge) -> None:
    walk = submitted(knowledge, "DE")
    walk.press("submitted:no_code_needed")
    walk.press("waiting:escalate")
    walk.press("region:other")  # there is no "somewhere else" in Germany
    assert walk.case.step is Step.REGION


# -- what Meta actually says: "we will review it", "send us more" ------------------------------


def waiting(k: Knowledge, country: str = "DE", language: str = "en") -> Walk:
    walk = Walk.begin(k, START, language=language).to_letter(country)
    walk.press("letter:submitted")
    walk.press("submitted:no_code_needed")
    return walk


def only(effects: list[Effect], message: str) -> Say:
    (say,) = [e for e in effects if isinstance(e, Say) and e.message == message]
    return say


def values(say: Say) -> list[str | None]:
    return [b.data for row in say.buttons for b in row]


def test_checkins_tell_apart_what_meta_said(knowledge: Knowledge) -> None:
    """Every check-in offers confirmed, "we will review", "asked for more", refused and nothing
    yet; the last one, at the deadline, also "review" and "more" beside the escalation."""
    walk = waiting(knowledge)
    fired = walk.advance(timedelta(days=40))
    first = next(e for e in fired if isinstance(e, Say) and e.message == "checkin")
    assert values(first)[:5] == [
        "waiting:confirmed",
        "waiting:review",
        "waiting:info",
        "waiting:refused",
        "waiting:nothing_yet",
    ]
    last = only(fired, "deadline_passed")
    assert values(last) == [
        "waiting:escalate",
        "waiting:confirmed",
        "waiting:review",
        "waiting:info",
    ]


def test_we_will_review_keeps_waiting_and_the_clock_running(
    knowledge: Knowledge, renderer: Renderer
) -> None:
    """ "Meta says it will review it": the date is kept, the case stays waiting, the deadline
    and the check-ins stay as they were, and the message says so, with the date."""
    walk = waiting(knowledge)
    before = dict(walk.reminders)
    out = walk.press("waiting:review")
    assert walk.case.step is Step.WAITING and walk.case.review_said_at == walk.now
    assert walk.reminders == before and CHECKIN in walk.reminders
    say = only(out, "review_said")
    assert say.buttons == ()
    shown = renderer.message(say, "en").plain
    assert "The legal deadline still runs: Meta has to answer by December 26, 2026." in shown
    assert "2 more months only if it tells you so" in shown  # Art. 12(3): told in time
    assert "check-ins go on" in shown
    assert len(shown) < 1000


def test_we_will_review_after_the_deadline_is_no_answer(
    knowledge: Knowledge, renderer: Renderer
) -> None:
    """Once Meta's time is up, "we will review it" leads to the escalation, not to waiting."""
    walk = waiting(knowledge, "FR")
    walk.advance(timedelta(days=40))
    say = only(walk.press("waiting:review"), "review_said")
    assert walk.case.step is Step.WAITING
    assert values(say) == ["waiting:escalate", "waiting:confirmed"]
    assert "is not an answer" in renderer.message(say, "en").plain
    walk.press("waiting:escalate")
    assert walk.current().step is Step.ESCALATED


def test_a_period_that_is_only_a_guide_stays_a_guide_after_we_will_review(
    knowledge: Knowledge, renderer: Renderer
) -> None:
    """Brazil: no "legal deadline still runs" for a period that is only a guide."""
    walk = waiting(knowledge, "BR")
    shown = renderer.message(only(walk.press("waiting:review"), "review_said"), "en").plain
    assert "legal deadline still runs" not in shown and "As a guide" in shown


@pytest.mark.parametrize(
    ("country", "law_says"),
    [
        ("DE", "reasonable doubts about who you are (Art. 12(6) GDPR)"),
        ("FR", "reasonable doubts about who you are (Art. 12(6) GDPR)"),
        ("GB", "reasonable doubts about who you are (Art. 12(6) UK GDPR)"),
        ("CH", "no confirmed source on when the law here lets Meta ask for an ID"),
        ("BR", "no confirmed source on when the law here lets Meta ask for an ID"),
        ("US", "no confirmed source on when the law here lets Meta ask for an ID"),
        ("JP", "no confirmed source on when the law here lets Meta ask for an ID"),
    ],
)
def test_meta_asks_for_more_what_to_answer_and_what_not_to_send(
    knowledge: Knowledge, renderer: Renderer, country: str, law_says: str
) -> None:
    """ "Meta asks for more information or ID": the date is kept, the case waits on; the
    message says to answer only through Meta's channel, when an ID copy is due under the law
    (Art. 12(6) only where the GDPR applies), to black out the rest, never to send a password
    or a code, and the deadline."""
    walk = waiting(knowledge, country)
    before = dict(walk.reminders)
    say = only(walk.press("waiting:info"), "info_asked")
    assert walk.case.step is Step.WAITING and walk.case.info_asked_at == walk.now
    assert walk.reminders == before
    shown = renderer.message(say, "en").plain
    assert law_says in shown
    assert "only through Meta's own channel" in shown and "black out" in shown.lower()
    assert "Never send your password or a login or security code" in shown
    assert ("Art. 12(6)" in shown) is (country in ("DE", "FR", "GB"))
    assert ("Art. 12A UK GDPR" in shown) is (country == "GB")  # the clock may stop there
    third_party = knowledge.jurisdiction_for(country).kind.value == "third_party"
    assert ("screenshots" in shown) is third_party
    assert len(shown) < 1000


# -- escalation keeps time: the follow-up's weeks, the complaint, the authority's months -------


def escalated(k: Knowledge, country: str = "FR", language: str = "en") -> Walk:
    walk = waiting(k, country, language)
    walk.press("waiting:refused")
    if walk.case.step is Step.REGION:
        walk.press("region:DE-BY" if country == "DE" else "region:other")
    assert walk.case.step is Step.ESCALATED
    return walk


def test_two_weeks_after_escalating_the_bot_asks_whether_meta_answered(
    knowledge: Knowledge, renderer: Renderer
) -> None:
    """Escalating schedules "did Meta answer your follow-up?" two weeks later, in daytime; not
    yet the authority's three months."""
    walk = escalated(knowledge)
    written = walk.now
    due = daytime(walk.case, knowledge, written + timedelta(days=14))
    assert walk.case.followup_due_at == due and walk.reminders[FOLLOWUP] == due
    assert AUTHORITY not in walk.reminders and walk.case.authority_report_due_at is None
    assert "followup_checkin" not in said(walk.advance(timedelta(days=13)))
    fired = walk.advance(timedelta(days=2))
    say = only(fired, "followup_checkin")
    assert say.urgency == "checkin"
    assert values(say) == ["escalated:send_complaint", "escalated:confirmed", "escalated:not_yet"]
    at = next(t for t, e in walk.log if e is say)
    assert at == due and 9 <= at.astimezone(ZoneInfo("Europe/Paris")).hour < 21
    shown = renderer.message(say, "en").plain
    assert "14 days since I wrote your follow-up" in shown and "CNIL" in shown
    assert walk.case.followup_due_at is None and FOLLOWUP not in walk.reminders


def test_not_yet_asks_again_a_week_later(knowledge: Knowledge) -> None:
    walk = escalated(knowledge)
    walk.advance(timedelta(days=15))
    out = walk.press("escalated:not_yet")
    again = daytime(walk.case, knowledge, walk.now + timedelta(days=7))
    assert walk.reminders[FOLLOWUP] == again and walk.case.followup_due_at == again
    assert only(out, "nothing_yet").context["next"] == again.isoformat()
    assert walk.case.step is Step.ESCALATED
    assert "followup_checkin" not in said(walk.advance(timedelta(days=6)))
    assert "followup_checkin" in said(walk.advance(timedelta(days=2)))


def test_send_the_complaint_now_shows_it_again(knowledge: Knowledge) -> None:
    walk = escalated(knowledge)
    walk.advance(timedelta(days=15))
    out = walk.press("escalated:send_complaint")
    # in the authority's language, then the person's copy (where the two differ)
    texts = [(e.letter, e.reader_copy) for e in out if isinstance(e, SendLetter)]
    assert texts in ([("complaint", False)], [("complaint", False), ("complaint", True)])
    assert "escalated:complaint_sent" in values(only(out, "complaint_now"))
    assert walk.case.step is Step.ESCALATED


def test_the_authoritys_three_months_count_from_the_complaint_sent(
    knowledge: Knowledge, renderer: Renderer
) -> None:
    """ "I sent the complaint" 20 days after escalating: the date is kept, the follow-up
    reminder is gone, and the authority's reminder falls three months after that day (not
    after the escalation); only then "the authority answered" is offered."""
    walk = escalated(knowledge)
    walk.advance(timedelta(days=20))
    sent_on = walk.now
    out = walk.press("escalated:complaint_sent")
    report = daytime(walk.case, knowledge, add_months(sent_on, 3))
    assert walk.case.complaint_sent_at == sent_on
    assert walk.case.authority_report_due_at == report and walk.reminders[AUTHORITY] == report
    assert FOLLOWUP not in walk.reminders and walk.case.followup_due_at is None
    confirmation = only(out, "complaint_sent")
    assert "escalated:authority_answered" in values(confirmation)
    shown = renderer.message(confirmation, "en").plain
    assert "you sent the complaint on December 16, 2026" in shown and "March 16, 2027" in shown
    (question,) = walk.send(Command(name="start"))[1:]
    assert isinstance(question, Say) and question.message == "escalated"
    assert "escalated:authority_answered" in values(question)
    assert "escalated:complaint_sent" not in values(question)
    walk.press("escalated:complaint_sent")  # pressed again: the first date stands
    assert walk.case.complaint_sent_at == sent_on
    assert "authority_checkin" not in said(walk.advance(report - walk.now - timedelta(hours=1)))
    fired = walk.advance(timedelta(hours=2))
    assert "authority_checkin" in said(fired)
    walk.press("escalated:authority_answered")
    assert walk.current().step is Step.DONE


def test_a_complaint_sent_early_cancels_the_follow_up_reminder(knowledge: Knowledge) -> None:
    walk = escalated(knowledge, "DE")
    walk.press("escalated:complaint_sent")
    assert FOLLOWUP not in walk.reminders
    assert "followup_checkin" not in said(walk.advance(timedelta(days=30)))


def test_the_uk_follow_up_gets_its_30_days(knowledge: Knowledge, renderer: Renderer) -> None:
    """UK: the follow-up is a complaint to Meta under s.164A, which Meta has 30 days to
    acknowledge: the reminder comes after those."""
    walk = escalated(knowledge, "GB")
    due = daytime(walk.case, knowledge, walk.now + timedelta(days=30))
    assert walk.reminders[FOLLOWUP] == due
    say = only(walk.advance(timedelta(days=31)), "followup_checkin")
    assert "30 days since" in renderer.message(say, "en").plain


@pytest.mark.parametrize("country", ["US", "AU", "IN"])
def test_where_no_complaint_is_written_the_reminder_only_asks(
    knowledge: Knowledge, renderer: Renderer, country: str
) -> None:
    """No complaint that could enforce anything: "did Meta answer?" and what else can be done,
    without complaint buttons; those buttons, pressed anyway, change nothing."""
    walk = escalated(knowledge, country)
    say = only(walk.advance(timedelta(days=15)), "followup_checkin")
    assert values(say) == ["escalated:confirmed", "escalated:not_yet", "escalated:protect"]
    shown = renderer.message(say, "en").plain
    assert "no complaint here that can force it" in shown and "send the complaint" not in shown
    for data in ("escalated:send_complaint", "escalated:complaint_sent", "escalated:pdf"):
        before = walk.case
        out = walk.press(data)
        assert walk.case == before
        assert not [e for e in out if isinstance(e, SendLetter | SendEvidence)]
    walk.press("escalated:not_yet")
    assert FOLLOWUP in walk.reminders


def test_a_late_follow_up_reminder_at_night_waits_for_the_morning(knowledge: Knowledge) -> None:
    walk = escalated(knowledge, "DE")
    walk.now = walk.reminders[FOLLOWUP].replace(hour=1) + timedelta(days=1)  # 02:00 Berlin
    fired = walk.jump(timedelta(0))
    assert "followup_checkin" not in said(fired)
    assert walk.reminders[FOLLOWUP].astimezone(ZoneInfo("Europe/Berlin")).hour == 9


def test_meta_confirming_after_escalation_stops_every_reminder(knowledge: Knowledge) -> None:
    walk = escalated(knowledge)
    walk.press("escalated:confirmed")
    assert walk.current().step is Step.PROOF
    assert FOLLOWUP not in walk.reminders and walk.case.followup_due_at is None


def test_printable_complaint_where_a_complaint_is_written(knowledge: Knowledge) -> None:
    walk = escalated(knowledge, "PL")
    before = walk.case
    out = walk.press("escalated:pdf")
    assert [type(e) for e in out] == [SendEvidence] and walk.case == before


@pytest.mark.parametrize(("country", "signed"), [("PL", True), ("IT", True), ("FR", False)])
def test_an_authority_that_wants_it_signed_is_named_so(
    knowledge: Knowledge, renderer: Renderer, country: str, signed: bool
) -> None:
    walk = escalated(knowledge, country)
    say = [e for e in walk.effects if isinstance(e, Say) and e.message == "escalated"][-1]
    assert say.context["signed"] is signed
    shown = renderer.message(say, "en").plain
    assert ("wants the complaint signed: print the PDF" in shown) is signed


def test_a_case_stored_before_the_complaint_date_was_asked_still_works(
    knowledge: Knowledge, renderer: Renderer
) -> None:
    """Stored by the version that counted the authority's months from the escalation: its
    JSON loads, its authority reminder still comes, and "the authority answered" is there."""
    walk = escalated(knowledge)
    now = walk.now
    old = walk.case.model_copy(
        update={
            "authority_report_due_at": daytime(walk.case, knowledge, add_months(now, 3)),
            "followup_due_at": None,
        }
    )
    stored = json.loads(old.model_dump_json())
    for field in ("review_said_at", "info_asked_at", "followup_due_at", "complaint_sent_at"):
        del stored[field]
    walk.case = Case.model_validate(stored)
    walk.reminders = {AUTHORITY: old.authority_report_due_at}  # type: ignore[dict-item]
    (question,) = walk.send(Command(name="start"))[1:]
    assert isinstance(question, Say)
    assert "escalated:authority_answered" in values(question)
    assert "I will ask you around" in renderer.message(question, "en").plain
    fired = walk.advance(timedelta(days=100))
    assert values(only(fired, "authority_checkin")) == [
        "escalated:authority_answered",
        "escalated:confirmed",
    ]
    walk.press("escalated:authority_answered")
    assert walk.current().step is Step.DONE


def test_the_calendar_has_the_follow_up_date(knowledge: Knowledge, renderer: Renderer) -> None:
    walk = escalated(knowledge)
    _, ics = calendar_file(walk.case, renderer)
    assert b"Has Meta answered your follow-up?" in ics


def test_datatilsynet_takes_the_complaint_in_bokmal(knowledge: Knowledge) -> None:
    """Norway's authority lists Norwegian ("no"); the bot writes Bokmål ("nb"): a Norwegian's
    complaint is theirs to send as written, an English speaker's is written in Bokmål."""
    regulator = knowledge.regulator_for("NO", None)
    assert regulator is not None and regulator.accepts("nb") and not regulator.accepts("en")
    for language in ("nb", "en"):
        walk = submitted(knowledge, "NO", language=language)
        walk.press("submitted:no_code_needed")
        effects = walk.press("waiting:escalate")
        written = [(e.letter, e.language) for e in effects if isinstance(e, SendLetter)]
        assert written[1] == ("complaint", None if language == "nb" else "nb")
