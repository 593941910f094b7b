"""What the bot says at each step: the question, its buttons, and a few fixed answers.

Names only: every ``Say`` names a template in ``templates/chat/`` and every button a label key in
``templates/chat/_labels.j2``. Button data is ``"<step>:<value>"`` so that a press on an old
message's button can be recognised as stale.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from conversations import timekeeping
from conversations.case import OWN_WORDS_MAX_CHARS, Case, Reason, Step
from conversations.effects import Button, Say
from conversations.knowledge import LANGUAGES, Kind, Knowledge, Platform

COUNTRY_BUTTONS_PER_ROW = 3
#: Countries with many zones (US, RU, BR …) still get a short list; any zone can be typed.
MAX_ZONE_BUTTONS = 8


@cache  # buttons are immutable values from a small vocabulary: each is built once
def _press(
    owner: Step, value: str, label: str, *, arg: str | None = None, selected: bool = False
) -> Button:
    return Button(label=label, data=f"{owner.value}:{value}", arg=arg, selected=selected)


def ask(case: Case, k: Knowledge) -> list[Say]:
    """The question for the case's current step, with its buttons (nothing for a new case)."""
    s = case.step
    if s is Step.PLATFORMS:
        return [
            Say(
                message="ask_platforms",
                buttons=(
                    (
                        _press(s, Platform.FACEBOOK, "platform.facebook"),
                        _press(s, Platform.INSTAGRAM, "platform.instagram"),
                    ),
                    (_press(s, "both", "platform.both"),),
                ),
            )
        ]
    if s is Step.LINKED:
        return [
            Say(
                message="ask_linked",
                buttons=(
                    (_press(s, "yes", "linked.yes"),),
                    (_press(s, "no", "linked.no"),),
                    (_press(s, "unsure", "linked.unsure"),),
                ),
            )
        ]
    if s is Step.COUNTRY:
        codes = k.common_countries
        rows = tuple(
            tuple(_press(s, c, "country", arg=c) for c in codes[i : i + COUNTRY_BUTTONS_PER_ROW])
            for i in range(0, len(codes), COUNTRY_BUTTONS_PER_ROW)
        )
        return [Say(message="ask_country", buttons=rows)]
    if s is Step.STATE:
        regions = law_regions(case.country or "", k)
        return [
            Say(
                message="ask_state",
                context={"country": case.country},
                buttons=(
                    *((_press(s, code, "region", arg=code),) for code in regions),
                    (_press(s, "other", "state.other"),),
                ),
            )
        ]
    if s is Step.EMAIL:
        return [Say(message="ask_email", context={"sender_domains": k.meta_sender_domains})]
    if s is Step.REASONS:
        required = (
            case.country is not None
            and k.jurisdiction_for(case.country, case.region).reason.required
        )
        toggles = tuple(
            (_press(s, r, f"reason.{r.value}", selected=r in case.reasons),) for r in Reason
        )
        return [
            Say(
                message="ask_reasons",
                context={
                    "reason_required": required,
                    "selected": [r.value for r in case.reasons],
                    # only the GDPR's Art. 21(1) asks for a "particular situation"
                    "particular_situation": under_gdpr(case, k),
                },
                buttons=(*toggles, (_press(s, "done", "reasons.done"),)),
            )
        ]
    if s is Step.OWN_WORDS:
        keep = ((_press(s, "keep", "own_words.keep"),),) if case.own_words else ()
        return [
            Say(
                message="ask_own_words",
                context={"own_words": case.own_words, "limit": OWN_WORDS_MAX_CHARS},
                buttons=(*keep, (_press(s, "skip", "own_words.skip"),)),
            )
        ]
    if s is Step.LETTER:
        return [
            Say(
                message="ask_letter",
                context={"options": under_gdpr(case, k)},
                buttons=_letter_buttons(case, k),
            )
        ]
    if s is Step.SUBMITTED:
        return [
            Say(
                message="ask_code",
                context=_code_context(case, k),
                buttons=(
                    (_press(s, "have_code", "code.have"),),
                    (_press(s, "no_code_needed", "code.not_needed"),),
                    (_press(s, "no_code", "code.missing"),),
                    (
                        _press(s, "show_letter", "letter.show"),
                        _press(s, "start_over", "start_over"),
                    ),
                ),
            )
        ]
    if s is Step.CODE_EXPIRED:
        return [
            Say(
                message="code_expired",
                buttons=(
                    (_press(s, "have_code", "code.have_new"),),
                    (_press(s, "entered", "code.entered_in_time"),),
                    (_press(s, "start_over", "start_over"),),
                ),
            )
        ]
    if s is Step.CODE:
        return [countdown(case, k, None, edit=False)]
    if s is Step.WAITING:
        return [
            Say(
                message="waiting",
                context={
                    **timeline(case),
                    "deadline_firm": deadline_is_firm(case, k),
                    "objection": k.jurisdiction_for(case.country, case.region).kind
                    is Kind.OBJECTION
                    if case.country
                    else False,
                    "sender_domains": k.meta_sender_domains,
                },
                buttons=_waiting_buttons(case),
            )
        ]
    if s is Step.REGION:
        country = case.country or ""
        regions = k.regulator_regions(country)
        every_region = bool(k.subdivisions_of(country))  # the German states: one must be chosen
        other = () if every_region else ((_press(s, "other", "region.other"),),)
        return [
            Say(
                message="ask_region",
                context={"country": country, "regions": regions, "every_region": every_region},
                buttons=(
                    *(
                        tuple(_press(s, c, "region", arg=c) for c in regions[i : i + 2])
                        for i in range(0, len(regions), 2)
                    ),
                    *other,
                ),
            )
        ]
    if s is Step.PROOF:
        return [Say(message="ask_proof", buttons=((_press(s, "skip", "proof.skip"),),))]
    if s is Step.ESCALATED:
        return [
            Say(
                message="escalated",
                context=escalation_context(case, k),
                buttons=_escalated_buttons(case, k),
            )
        ]
    if s is Step.DONE:
        return [
            Say(
                message="done",
                buttons=(
                    (_press(s, "protect", "protect"),),
                    (Button(label="done.erase", data="command:delete"),),
                    (_press(s, "start_over", "start_over"),),
                ),
            )
        ]
    if s is Step.TIMEZONE:
        zones = timekeeping.zones_of(case.country or "")[:MAX_ZONE_BUTTONS] or [
            timekeeping.UTC_ZONE
        ]
        return [
            Say(
                message="ask_timezone",
                context={"timezone": case.timezone},
                buttons=tuple((_press(s, z, "timezone", arg=z),) for z in zones),
            )
        ]
    if s is Step.LANGUAGE:
        return [
            Say(
                message="ask_language",
                buttons=tuple((_press(s, lang, f"language.{lang}"),) for lang in LANGUAGES),
            )
        ]
    if s is Step.PAUSED:
        return [Say(message="paused", buttons=((_press(s, "resume", "resume"),),))]
    return []


def under_gdpr(case: Case, k: Knowledge) -> bool:
    """Whether the GDPR (or the UK GDPR) applies: its "particular situation" (Art. 21(1)), and
    the erasure (Art. 17(1)(c)) and access (Art. 15) the objection can also ask for."""
    law = k.jurisdiction_for(case.country, case.region).law if case.country else None
    return law is not None and law.gdpr


def _letter_buttons(case: Case, k: Knowledge) -> tuple[tuple[Button, ...], ...]:
    s = Step.LETTER
    options: tuple[tuple[Button, ...], ...] = (
        (
            (_press(s, "erasure", "letter.add_erasure", selected=case.ask_erasure),),
            (_press(s, "access", "letter.add_access", selected=case.ask_access),),
        )
        if under_gdpr(case, k)
        else ()
    )
    # Where no objection right exists, what else a person can do is offered right away.
    kind = k.jurisdiction_for(case.country, case.region).kind if case.country else None
    protect = ((_press(s, "protect", "protect"),),) if kind is Kind.THIRD_PARTY else ()
    return (
        *options,
        (_press(s, "submitted", "letter.submitted"),),
        *protect,
        (_press(s, "show_letter", "letter.show"), _press(s, "edit_reason", "letter.edit_reason")),
        (_press(s, "start_over", "start_over"),),
    )


def form_help(case: Case, k: Knowledge) -> Say:
    """The form link(s) and field-by-field help, said right after the letter."""
    assert case.country is not None
    j = k.jurisdiction_for(case.country, case.region)
    links = tuple(
        (Button(label="form.open", arg=p.value, url=k.forms[j.forms[p]].url),)
        for p in case.platforms
    )
    return Say(
        message="form_help",
        context={
            "jurisdiction": k.jurisdiction_key(case.country, case.region),
            "country": case.country,
            "platforms": [p.value for p in case.platforms],
            "linked_accounts": case.linked_accounts,
            "has_reason": bool(case.reasons or case.own_words),
        },
        buttons=(*links, *_letter_buttons(case, k)),
    )


def country_confirmed(case: Case, k: Knowledge) -> Say:
    assert case.country is not None
    earlier = case.country in k.advice["earlier_objections"].countries
    return Say(
        message="country_set",
        context={
            "country": case.country,
            "jurisdiction": k.jurisdiction_key(case.country, case.region),
            "earlier_objections_stay": earlier,
        },
        buttons=((Button(label="objected_before", data="command:objected_before"),),)
        if earlier
        else (),
    )


def status(case: Case, k: Knowledge) -> Say:
    jurisdiction = k.jurisdiction_key(case.country, case.region) if case.country else None
    return Say(
        message="status",
        context={
            "case": case.model_dump(mode="json"),
            "jurisdiction": jurisdiction,
            "complaint": writes_complaint(case, k) if case.country else False,
        },
    )


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


def _waiting_buttons(case: Case) -> tuple[tuple[Button, ...], ...]:
    s = Step.WAITING
    toggle = (
        _press(s, "resume", "checkin.resume")
        if case.checkins != "on"
        else _press(s, "pause", "checkin.pause")
    )
    return (
        (_press(s, "confirmed", "checkin.confirmed"),),
        (_press(s, "refused", "checkin.refused"),),
        (_press(s, "nothing_yet", "checkin.nothing_yet"),),
        (toggle, _press(s, "calendar", "calendar")),
    )


def _code_context(case: Case, k: Knowledge) -> dict[str, object]:
    assert case.country is not None
    code = k.jurisdiction_for(case.country, case.region).code
    return {"expected": code.expected, "minutes": code.validity_minutes}


def countdown(case: Case, k: Knowledge, now: datetime | None, *, edit: bool) -> Say:
    """The one countdown message: sent when the code arrives, then edited as time runs."""
    left = timekeeping.minutes_left(case, now) if now is not None else None
    expired = case.step is Step.CODE_EXPIRED or left == 0
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
        valid_until=now + timedelta(seconds=k.schedule.countdown_valid_seconds)
        if now is not None and not expired
        else None,
        refresh=timekeeping.TICK,
    )


def code_buttons(case: Case) -> tuple[tuple[Button, ...], ...]:
    """While a code may be entered: entered, none came, a new one needed (and the calendar)."""
    s = case.step if case.step in (Step.CODE, Step.CODE_EXPIRED) else Step.CODE
    return (
        (_press(s, "entered", "code.entered"),),
        (_press(s, "missing", "code.missing"), _press(s, "new_code", "code.new")),
        (_press(s, "calendar", "calendar"),),
    )


def _full_minutes(case: Case) -> int | None:
    if case.code_expires_at is None or case.code_received_at is None:
        return None
    return int((case.code_expires_at - case.code_received_at).total_seconds() // 60)


def deadline_is_firm(case: Case, k: Knowledge) -> bool:
    """Whether Meta's period to answer is a confirmed legal deadline (else only a guide)."""
    period = k.jurisdiction_for(case.country, case.region).deadline if case.country else None
    return period is not None and period.confidence == "verified"


def writes_complaint(case: Case, k: Knowledge) -> bool:
    """Whether escalating writes a complaint to an authority as well as the follow-up to Meta:
    only where the law gives a right a complaint can enforce, and an authority is known."""
    assert case.country is not None
    kind = k.jurisdiction_for(case.country, case.region).kind
    return kind is not Kind.THIRD_PARTY and k.regulator_for(case.country, case.region) is not None


def _escalated_buttons(case: Case, k: Knowledge) -> tuple[tuple[Button, ...], ...]:
    s = Step.ESCALATED
    if not writes_complaint(case, k):
        return (
            (_press(s, "show_texts", "escalated.show_text"),),
            (_press(s, "confirmed", "checkin.confirmed"),),
            (_press(s, "calendar", "calendar"),),
        )
    return (
        (_press(s, "show_texts", "escalated.show_texts"),),
        (_press(s, "confirmed", "checkin.confirmed"),),
        (_press(s, "authority_answered", "escalated.authority_answered"),),
        (_press(s, "calendar", "calendar"),),
    )


def checkin(case: Case, k: Knowledge, deadline_passed: bool) -> Say:
    s = Step.WAITING
    if deadline_passed:
        complaint = writes_complaint(case, k)
        escalate = "checkin.escalate" if complaint else "checkin.escalate_followup"
        buttons: tuple[tuple[Button, ...], ...] = (
            (_press(s, "escalate", escalate),),
            (_press(s, "confirmed", "checkin.confirmed"),),
        )
        return Say(
            message="deadline_passed",
            context={
                **timeline(case),
                "complaint": complaint,
                "deadline_firm": deadline_is_firm(case, k),
            },
            buttons=buttons,
            urgency="checkin",
        )
    return Say(
        message="checkin", context=timeline(case), buttons=_waiting_buttons(case), urgency="checkin"
    )


def authority_checkin(case: Case) -> Say:
    s = Step.ESCALATED
    return Say(
        message="authority_checkin",
        context={"escalated": _iso(case.escalated_at)},
        buttons=(
            (_press(s, "authority_answered", "escalated.authority_answered"),),
            (_press(s, "confirmed", "checkin.confirmed"),),
        ),
        urgency="checkin",
    )


def escalation_context(case: Case, k: Knowledge) -> dict[str, object]:
    assert case.country is not None
    return {
        "jurisdiction": k.jurisdiction_key(case.country, case.region),
        "regulator": k.regulator_key_for(case.country, case.region),
        "refused": case.refused_at is not None,
        "complaint": writes_complaint(case, k),
        "report_due": _iso(case.authority_report_due_at),
        "timezone": case.timezone or timekeeping.UTC_ZONE,
    }


def delete_confirm() -> Say:
    return Say(
        message="delete_confirm",
        buttons=(
            (Button(label="delete.yes", data="delete:yes"),),
            (Button(label="delete.no", data="delete:no"),),
        ),
    )


def my_data(case: Case, k: Knowledge) -> Say:
    """The readable summary that goes with the JSON document."""
    return status(case, k).model_copy(update={"message": "mydata"})


def protect(case: Case, k: Knowledge) -> Say:
    """The protect-your-data checklist: for everyone, at any time (/protect)."""
    country = case.country
    not_yet = k.advice["ai_chat_ads"].countries  # where AI chats were not used for ads yet
    kind = k.jurisdiction_for(country, case.region).kind if country else None
    return Say(
        message="protect",
        context={
            # where there is no right to object, the checklist does not tell people to object
            "objection": kind is not Kind.THIRD_PARTY,
            "ai_chat_ads": None if country is None else country not in not_yet,
            "ads_choice": (
                "eu"
                if country in k.advice["ads_choice"].countries
                else "uk"
                if country == "GB"
                else None
            ),
        },
    )


def law_regions(country: str, k: Knowledge) -> list[str]:
    """The regions of ``country`` with a law of their own (US-CA): asked after the country."""
    return sorted(code for code in k.subdivision_jurisdictions if code.startswith(f"{country}-"))
