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
    """What a person waiting for Meta can say: confirmed, refused, nothing yet; pause."""
    s = Step.WAITING
    toggle = (
        press(s, "resume", "checkin.resume")
        if case.checkins != "on"
        else press(s, "pause", "checkin.pause")
    )
    return (
        (press(s, "confirmed", "checkin.confirmed"),),
        (press(s, "refused", "checkin.refused"),),
        (press(s, "nothing_yet", "checkin.nothing_yet"),),
        (toggle, press(s, "calendar", "calendar")),
    )


def checkin(case: Case, knowledge: Knowledge, deadline_passed: bool) -> Say:
    s = Step.WAITING
    if deadline_passed:
        complaint = law.writes_complaint(case, knowledge)
        escalate = "checkin.escalate" if complaint else "checkin.escalate_followup"
        buttons: tuple[tuple[Button, ...], ...] = (
            (press(s, "escalate", escalate),),
            (press(s, "confirmed", "checkin.confirmed"),),
        )
        return Say(
            message="deadline_passed",
            context={
                **timeline(case),
                "complaint": complaint,
                "deadline_firm": law.deadline_is_firm(case, knowledge),
            },
            buttons=buttons,
            urgency="checkin",
        )
    return Say(
        message="checkin", context=timeline(case), buttons=waiting_buttons(case), urgency="checkin"
    )


def authority_checkin(case: Case) -> Say:
    s = Step.ESCALATED
    return Say(
        message="authority_checkin",
        context={"escalated": _iso(case.escalated_at)},
        buttons=(
            (press(s, "authority_answered", "escalated.authority_answered"),),
            (press(s, "confirmed", "checkin.confirmed"),),
        ),
        urgency="checkin",
    )


def escalation_context(case: Case, knowledge: Knowledge) -> dict[str, object]:
    assert case.country is not None
    return {
        "jurisdiction": knowledge.jurisdiction_key(case.country, case.region),
        "regulator": knowledge.regulator_key_for(case.country, case.region),
        "refused": case.refused_at is not None,
        "complaint": law.writes_complaint(case, knowledge),
        "report_due": _iso(case.authority_report_due_at),
        "timezone": case.timezone or timekeeping.UTC_ZONE,
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
    """The readable summary that goes with the JSON document."""
    return status(case, knowledge).model_copy(update={"message": "mydata"})


def protect(case: Case, knowledge: Knowledge) -> Say:
    """The protect-your-data checklist: for everyone, at any time (/protect)."""
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
