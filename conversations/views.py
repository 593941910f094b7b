"""Messages that belong to no single step: the countdown, the check-ins, /status, /mydata,
/protect, "erase everything?" and the welcome. A step's own question lives with the step
(``conversations/steps/``).

Names only: every ``Say`` names a template in ``templates/chat/`` and every button a label key in
``templates/chat/_labels.j2``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from conversations import law, timekeeping
from conversations.case import Case, Step
from conversations.contract import Policy
from conversations.effects import Button, Say, press
from conversations.knowledge import Knowledge


def welcome(policy: Policy) -> Say:
    return Say(message="welcome", context=policy.retention())


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def timeline(case: Case) -> dict[str, object]:
    """The dates a message about waiting needs, as ISO strings (effects are stored as JSON)."""
    return {
        "timezone": case.timezone or timekeeping.UTC_ZONE,
        "deadline": _iso(case.deadline_at),
        "next": _iso(case.next_checkin_at),
        "paused": case.checkins != "on",
        "submitted": _iso(case.form_submitted_at),
    }


def countdown(case: Case, knowledge: Knowledge, now: datetime | None, *, edit: bool) -> Say:
    """The one countdown message: sent when the code arrives, then edited as time runs."""
    left = timekeeping.minutes_left(case, now) if now is not None else None
    expired = case.step is Step.CODE_EXPIRED or left == 0
    valid = timedelta(seconds=knowledge.schedule.countdown_valid_seconds)
    return Say(
        message="countdown",
        context={
            "expires": _iso(case.code_expires_at),
            "minutes_left": left if left is not None else _full_minutes(case),
            "expired": expired,
            "timezone": case.timezone or timekeeping.UTC_ZONE,
        },
        buttons=() if expired else code_buttons(case),
        urgency="countdown" if edit else "reply",
        slot="countdown",
        edit=edit,
        # minutes left are true only for a moment: delivered later, the countdown is redone
        valid_until=now + valid if now is not None and not expired else None,
        refresh=timekeeping.TICK,
    )


def code_buttons(case: Case) -> tuple[tuple[Button, ...], ...]:
    """While a code may be entered: entered, none came, a new one needed (and the calendar)."""
    s = case.step if case.step in (Step.CODE, Step.CODE_EXPIRED) else Step.CODE
    return (
        (press(s, "entered", "code.entered"),),
        (press(s, "missing", "code.missing"), press(s, "new_code", "code.new")),
        (press(s, "calendar", "calendar"),),
    )


def _full_minutes(case: Case) -> int | None:
    if case.code_expires_at is None or case.code_received_at is None:
        return None
    return int((case.code_expires_at - case.code_received_at).total_seconds() // 60)


def waiting_buttons(case: Case) -> tuple[tuple[Button, ...], ...]:
    """What a person waiting for Meta can say: confirmed, "we will review", asked for more,
    refused, nothing yet; pause."""
    s = Step.WAITING
    toggle = (
        press(s, "resume", "checkin.resume")
        if case.checkins != "on"
        else press(s, "pause", "checkin.pause")
    )
    return (
        (press(s, "confirmed", "checkin.confirmed"),),
        (press(s, "review", "checkin.review"),),
        (press(s, "info", "checkin.info"),),
        (press(s, "refused", "checkin.meta_refused"),),
        (press(s, "nothing_yet", "checkin.nothing_yet"),),
        (toggle, press(s, "calendar", "calendar")),
    )


def _escalate_buttons(case: Case, knowledge: Knowledge) -> tuple[tuple[Button, ...], ...]:
    """Once Meta's time is up: write the follow-up (and the complaint), or it confirmed."""
    s = Step.WAITING
    complaint = law.writes_complaint(case, knowledge)
    escalate = "checkin.escalate" if complaint else "checkin.escalate_followup"
    return ((press(s, "escalate", escalate),), (press(s, "confirmed", "checkin.confirmed"),))


def _deadline_passed(case: Case, now: datetime) -> bool:
    return case.deadline_at is not None and now >= case.deadline_at


def checkin(case: Case, knowledge: Knowledge, deadline_passed: bool) -> Say:
    s = Step.WAITING
    if deadline_passed:
        buttons = (
            *_escalate_buttons(case, knowledge),
            (press(s, "review", "checkin.review"),),
            (press(s, "info", "checkin.info"),),
        )
        return Say(
            message="deadline_passed",
            context={
                **timeline(case),
                "complaint": law.writes_complaint(case, knowledge),
                "deadline_firm": law.deadline_is_firm(case, knowledge),
            },
            buttons=buttons,
            urgency="checkin",
        )
    return Say(
        message="checkin", context=timeline(case), buttons=waiting_buttons(case), urgency="checkin"
    )


def _extension_months(case: Case, knowledge: Knowledge) -> int | None:
    """The months the law lets Meta add to its deadline if it says so in time (Art. 12(3))."""
    if case.country is None or not law.deadline_is_firm(case, knowledge):
        return None
    period = knowledge.jurisdiction_for(case.country, case.region).deadline
    return period.extension_months if period and period.extension_months else None


def review_said(case: Case, knowledge: Knowledge, now: datetime) -> Say:
    """Meta wrote "we will review it": keep waiting, the deadline still runs (once it has run
    out, such a reply is no answer: escalate)."""
    passed = _deadline_passed(case, now)
    return Say(
        message="review_said",
        context={
            **timeline(case),
            "deadline_firm": law.deadline_is_firm(case, knowledge),
            "extension_months": _extension_months(case, knowledge),
            "passed": passed,
            "complaint": law.writes_complaint(case, knowledge),
        },
        buttons=_escalate_buttons(case, knowledge) if passed else (),
    )


def info_asked(case: Case, knowledge: Knowledge) -> Say:
    """Meta asked for more information or an ID: what to answer, what never to send."""
    assert case.country is not None
    return Say(
        message="info_asked",
        context={
            **timeline(case),
            "jurisdiction": knowledge.jurisdiction_key(case.country, case.region),
            "gdpr": law.under_gdpr(case, knowledge),
            "deadline_firm": law.deadline_is_firm(case, knowledge),
        },
    )


def followup_checkin(case: Case, knowledge: Knowledge) -> Say:
    """Meta's time to answer the follow-up is up: send the complaint now? (Where no complaint is
    written: did Meta answer, and what else can be done.)"""
    s = Step.ESCALATED
    complaint = law.writes_complaint(case, knowledge)
    buttons: tuple[tuple[Button, ...], ...] = (
        *(((press(s, "send_complaint", "escalated.send_complaint"),),) if complaint else ()),
        (press(s, "confirmed", "checkin.confirmed"),),
        (press(s, "not_yet", "escalated.not_yet"),),
        *(() if complaint else ((press(s, "protect", "protect"),),)),
    )
    return Say(
        message="followup_checkin",
        context={
            "escalated": _iso(case.escalated_at),
            "timezone": case.timezone or timekeeping.UTC_ZONE,
            "days": timekeeping.followup_wait(case, knowledge).days,
            "complaint": complaint,
            "regulator": knowledge.regulator_key_for(case.country or "", case.region),
            "jurisdiction": knowledge.jurisdiction_key(case.country or "", case.region),
        },
        buttons=buttons,
        urgency="checkin",
    )


def followup_later(case: Case) -> Say:
    """ "Not yet": when the bot asks again (said as after "nothing yet" at a check-in)."""
    return Say(
        message="nothing_yet",
        context={
            "next": _iso(case.followup_due_at),
            "timezone": case.timezone or timekeeping.UTC_ZONE,
        },
    )


def complaint_buttons(case: Case) -> tuple[tuple[Button, ...], ...]:
    """Where a complaint is written: the printable PDF, "I sent it", "the authority answered"
    (only once it was sent -- or, for a case stored before the date was asked for, once the
    authority's report was due to be counted)."""
    s = Step.ESCALATED
    sent = case.complaint_sent_at is not None or case.authority_report_due_at is not None
    return (
        (press(s, "pdf", "escalated.pdf"),),
        *(() if case.complaint_sent_at else ((press(s, "complaint_sent", "escalated.sent"),),)),
        *(((press(s, "authority_answered", "escalated.authority_answered"),),) if sent else ()),
    )


def complaint_now(case: Case, knowledge: Knowledge) -> Say:
    """The complaint again, and what to do with it."""
    return Say(
        message="complaint_now",
        context={
            "regulator": knowledge.regulator_key_for(case.country or "", case.region),
            "signed": _signed(case, knowledge),
        },
        buttons=complaint_buttons(case),
    )


def complaint_sent(case: Case) -> Say:
    """ "I sent the complaint": noted, and when the authority's answer is due."""
    return Say(
        message="complaint_sent",
        context={
            "sent": _iso(case.complaint_sent_at),
            "report_due": _iso(case.authority_report_due_at),
            "timezone": case.timezone or timekeeping.UTC_ZONE,
        },
        buttons=_authority_buttons(),
    )


def _authority_buttons() -> tuple[tuple[Button, ...], ...]:
    """Once the complaint is with the authority: it answered, or Meta confirmed after all."""
    s = Step.ESCALATED
    return (
        (press(s, "authority_answered", "escalated.authority_answered"),),
        (press(s, "confirmed", "checkin.confirmed"),),
    )


def authority_checkin(case: Case) -> Say:
    return Say(
        message="authority_checkin",
        context={
            "escalated": _iso(case.escalated_at),
            "sent": _iso(case.complaint_sent_at),
            "timezone": case.timezone or timekeeping.UTC_ZONE,
        },
        buttons=_authority_buttons(),
        urgency="checkin",
    )


def _signed(case: Case, knowledge: Knowledge) -> bool:
    """The authority wants the complaint signed (on paper, or with a qualified e-signature)."""
    regulator = knowledge.regulator_for(case.country or "", case.region)
    return regulator is not None and regulator.signed_complaint


def escalation_context(case: Case, knowledge: Knowledge) -> dict[str, object]:
    assert case.country is not None
    return {
        "jurisdiction": knowledge.jurisdiction_key(case.country, case.region),
        "regulator": knowledge.regulator_key_for(case.country, case.region),
        "refused": case.refused_at is not None,
        "complaint": law.writes_complaint(case, knowledge),
        "report_due": _iso(case.authority_report_due_at),
        "sent": _iso(case.complaint_sent_at),
        "followup_due": _iso(case.followup_due_at),
        "signed": _signed(case, knowledge),
        "timezone": case.timezone or timekeeping.UTC_ZONE,
        # the complaint is written in the authority's language, where the bot writes it
        "complaint_language": law.complaint_language(case, knowledge),
    }


def status(case: Case, knowledge: Knowledge) -> Say:
    country = case.country
    return Say(
        message="status",
        context={
            "case": case.model_dump(mode="json"),
            "jurisdiction": knowledge.jurisdiction_key(country, case.region) if country else None,
            "complaint": law.writes_complaint(case, knowledge) if country else False,
        },
    )


def my_data(case: Case, knowledge: Knowledge) -> Say:
    """The readable summary that goes with the JSON document; once a text is written, the
    printable evidence pack is one tap away."""
    pack = (
        ((Button(label="evidence.pdf", data="command:evidence"),),)
        if case.letter_written_at is not None and case.country is not None
        else ()
    )
    return status(case, knowledge).model_copy(update={"message": "mydata", "buttons": pack})


def protect(case: Case, knowledge: Knowledge) -> list[Say]:
    """The protect-your-data checklist, for everyone at any time (/protect): Meta's AI and
    the profile, then the phone and WhatsApp (two messages, each short enough to read)."""
    checklist = _checklist(case, knowledge)
    return [checklist, checklist.model_copy(update={"message": "protect_apps"})]


def _checklist(case: Case, knowledge: Knowledge) -> Say:
    country = case.country
    advice = knowledge.advice
    return Say(
        message="protect",
        context={
            # where there is no right to object, the checklist does not tell people to object
            "objection": country is None or law.objection_right(case, knowledge),
            # where AI chats were not used for ads yet
            "ai_chat_ads": None
            if country is None
            else country not in advice["ai_chat_ads"].countries,
            "ads_choice": (
                "eu"
                if country in advice["ads_choice"].countries
                else "uk"
                if country == "GB"
                else None
            ),
        },
    )


def delete_confirm() -> Say:
    return Say(
        message="delete_confirm",
        buttons=(
            (Button(label="delete.yes", data="delete:yes"),),
            (Button(label="delete.no", data="delete:no"),),
        ),
    )


def settings(case: Case) -> Say:
    """/settings: the language, the time zone, and change alerts, each one tap from here."""
    alerts = (
        Button(label="alerts.off", data="command:alerts_off")
        if case.alerts
        else Button(label="alerts.on", data="command:alerts_on")
    )
    zone = (Button(label="settings.timezone", data="command:timezone"),) if case.country else ()
    return Say(
        message="settings",
        context={
            "language": case.language,
            "timezone": case.timezone,
            "alerts": case.alerts,
            "checkins": case.checkins.value,
        },
        buttons=(
            (Button(label="settings.language", data="command:language"),),
            *((zone,) if zone else ()),
            (alerts,),
        ),
    )
