"""Waiting for Meta: check-ins until the legal deadline, the proof of a confirmation, and the
escalation (the follow-up to Meta, the complaint to the authority, which state's authority)."""

from __future__ import annotations

from conversations import countries, law, timekeeping, views
from conversations.case import Case, CheckIns, Proof, Step
from conversations.checks import has_hidden_controls
from conversations.contract import Context, Move, Rejected, Result, Stay, StepSpec, Updates
from conversations.effects import (
    Button,
    Cancel,
    Effect,
    Say,
    Schedule,
    SendEvidence,
    SendLetter,
    press,
)
from conversations.events import Media
from conversations.knowledge import Kind, Knowledge
from conversations.steps.code import quiet
from conversations.steps.common import calendar, on_common_press
from conversations.table import Trigger
from conversations.timekeeping import AUTHORITY, CHECKIN, FOLLOWUP

# -- waiting for Meta's answer -----------------------------------------------------------------


def ask_waiting(case: Case, knowledge: Knowledge) -> list[Say]:
    country = case.country
    kind = knowledge.jurisdiction_for(country, case.region).kind if country else None
    return [
        Say(
            message="waiting",
            context={
                **views.timeline(case),
                "deadline_firm": law.deadline_is_firm(case, knowledge),
                "objection": kind is Kind.OBJECTION,
                "sender_domains": knowledge.meta_sender_domains,
            },
            buttons=views.waiting_buttons(case),
        )
    ]


def on_waiting_press(case: Case, value: str, ctx: Context) -> Result:
    now, k = ctx.now, ctx.knowledge
    if value == "confirmed":
        return Move(Trigger.CONFIRMED)
    if value in ("refused", "escalate"):
        updates: Updates = {"refused_at": now} if value == "refused" else {}
        return Move(_escalation(case, ctx), updates)
    if value == "review":  # "we will review it": no answer yet, the clock still runs
        return Stay(
            {"review_said_at": now}, effects=[views.review_said(case, k, now)], ask_again=False
        )
    if value == "info":  # Meta asks for more information or an ID
        return Stay({"info_asked_at": now}, effects=[views.info_asked(case, k)], ask_again=False)
    if value == "nothing_yet":
        if case.deadline_at is not None and now >= case.deadline_at:
            return Move(_escalation(case, ctx))
        return Stay(
            effects=[Say(message="nothing_yet", context=views.timeline(case))], ask_again=False
        )
    if value == "pause":
        return Stay(
            {"checkins": CheckIns.PAUSED, "next_checkin_at": None},
            effects=[Cancel(keys=(CHECKIN,)), Say(message="checkins_paused")],
            ask_again=False,
        )
    if value == "resume":
        resumed = case.model_copy(update={"checkins": CheckIns.ON})
        due = timekeeping.next_checkin(resumed, k, now)
        timeline = views.timeline(resumed.model_copy(update={"next_checkin_at": due}))
        effects: list[Effect] = [Say(message="checkins_resumed", context=timeline)]
        if due is not None:
            effects.insert(0, Schedule(key=CHECKIN, due_at=due))
        return Stay(
            {"checkins": CheckIns.ON, "next_checkin_at": due}, effects=effects, ask_again=False
        )
    if value == "calendar":
        return calendar(case)
    return on_common_press(case, value, ctx)


def _escalation(case: Case, ctx: Context) -> Trigger:
    """Escalate; first ask for the region where it decides the authority (German states)."""
    regions = ctx.knowledge.regulator_regions(case.country or "")
    needs_region = bool(regions) and case.region is None
    return Trigger.ESCALATE_ASK_REGION if needs_region else Trigger.ESCALATE


def on_waiting_reminder(case: Case, key: str, ctx: Context) -> Result:
    now, k = ctx.now, ctx.knowledge
    if key != CHECKIN or case.checkins is not CheckIns.ON:
        return quiet(case, key, ctx)
    if timekeeping.is_quiet(case, k, now):  # late after downtime, at night: wait for morning
        morning = timekeeping.daytime(case, k, now)
        return Stay({"next_checkin_at": morning}, [Schedule(key=CHECKIN, due_at=morning)], False)
    passed = case.deadline_at is not None and now >= case.deadline_at
    effects: list[Effect] = [views.checkin(case, k, passed)]
    due = timekeeping.next_checkin(case, k, now)
    if due is not None:
        effects.append(Schedule(key=CHECKIN, due_at=due))
    return Stay({"next_checkin_at": due}, effects=effects, ask_again=False)


def arrive_at_waiting(case: Case, trigger: Trigger, ctx: Context) -> tuple[Case, list[Effect]]:
    """The clock starts: the legal deadline, and the first check-in."""
    now, k = ctx.now, ctx.knowledge
    entered = now if trigger is Trigger.CODE_ENTERED else None
    case = case.model_copy(
        update={"code_entered_at": entered, "deadline_at": timekeeping.deadline(case, k, now)}
    )
    first = timekeeping.next_checkin(case, k, now)
    case = case.model_copy(update={"next_checkin_at": first})
    if first is not None and case.checkins is CheckIns.ON:
        return case, [Schedule(key=CHECKIN, due_at=first)]
    return case, []


WAITING = StepSpec(
    Step.WAITING,
    question=ask_waiting,
    on_press=on_waiting_press,
    on_reminder=on_waiting_reminder,
    on_arrival=arrive_at_waiting,
)

# -- which state's authority (Germany, Canada) -------------------------------------------------


def ask_region(case: Case, knowledge: Knowledge) -> list[Say]:
    s = Step.REGION
    country = case.country or ""
    regions = knowledge.regulator_regions(country)
    every_region = bool(knowledge.subdivisions_of(country))  # German states: one must be chosen
    other = () if every_region else ((press(s, "other", "region.other"),),)
    return [
        Say(
            message="ask_region",
            context={"country": country, "regions": regions, "every_region": every_region},
            buttons=(
                *(
                    tuple(press(s, c, "region", arg=c) for c in regions[i : i + 2])
                    for i in range(0, len(regions), 2)
                ),
                *other,
            ),
        )
    ]


def on_region_press(case: Case, value: str, ctx: Context) -> Result:
    country = case.country or ""
    if value == "other" and not ctx.knowledge.subdivisions_of(country):  # Canada, not Québec
        return Move(Trigger.REGION_CHOSEN, {"region": None})
    if value not in ctx.knowledge.regulator_regions(country):
        raise Rejected("stale_button")
    return Move(Trigger.REGION_CHOSEN, {"region": value})


def on_region_text(case: Case, text: str, ctx: Context) -> Result:
    country = case.country or ""
    regions = ctx.knowledge.regulator_regions(country)
    code = countries.resolve_subdivision(country, text, regions)
    if code is None:
        raise Rejected("region_unknown")
    return Move(Trigger.REGION_CHOSEN, {"region": code})


REGION = StepSpec(
    Step.REGION, question=ask_region, on_press=on_region_press, on_text=on_region_text
)

# -- escalated: the follow-up and the complaint ------------------------------------------------


def ask_escalated(case: Case, knowledge: Knowledge) -> list[Say]:
    return [
        Say(
            message="escalated",
            context=views.escalation_context(case, knowledge),
            buttons=_escalated_buttons(case, knowledge),
        )
    ]


def _escalated_buttons(case: Case, knowledge: Knowledge) -> tuple[tuple[Button, ...], ...]:
    s = Step.ESCALATED
    if not law.writes_complaint(case, knowledge):
        return (
            (press(s, "show_texts", "escalated.show_text"),),
            (press(s, "confirmed", "checkin.confirmed"),),
            (press(s, "calendar", "calendar"),),
        )
    return (
        (press(s, "show_texts", "escalated.show_texts"),),
        *views.complaint_buttons(case),
        (press(s, "confirmed", "checkin.confirmed"),),
        (press(s, "calendar", "calendar"),),
    )


def _escalation_letters(case: Case, knowledge: Knowledge) -> list[Effect]:
    """The follow-up to Meta and, where the law gives a complaint, the complaint text."""
    letters: list[Effect] = [SendLetter(case=case, letter="followup")]
    if law.writes_complaint(case, knowledge):
        letters += complaint_letters(case, knowledge)
    return letters


def complaint_letters(case: Case, knowledge: Knowledge) -> list[Effect]:
    """The complaint in the authority's language and, where that is not the person's, a copy
    in theirs, marked as the copy, so they know what they sign."""
    language = law.complaint_language(case, knowledge)
    if language == case.language:
        return [SendLetter(case=case, letter="complaint")]
    return [
        SendLetter(case=case, letter="complaint", language=language),
        SendLetter(case=case, letter="complaint", reader_copy=True),
    ]


def on_escalated_press(case: Case, value: str, ctx: Context) -> Result:
    now, k = ctx.now, ctx.knowledge
    complaint = law.writes_complaint(case, k)
    if value == "confirmed":
        return Move(Trigger.CONFIRMED)
    if value == "authority_answered" and complaint:
        # offered once the complaint was sent; typed or pressed before, it is still believed
        return Move(Trigger.AUTHORITY_ANSWERED)
    if value == "show_texts":
        return Stay(effects=_escalation_letters(case, k))
    if value == "send_complaint" and complaint:
        texts = complaint_letters(case, k)
        return Stay(effects=[*texts, views.complaint_now(case, k)], ask_again=False)
    if value == "pdf" and complaint:
        return Stay(effects=[SendEvidence(case=case)], ask_again=False)
    if value == "complaint_sent" and complaint:
        return _complaint_sent(case, ctx)
    if value == "not_yet":  # Meta has not answered the follow-up: ask again in a week
        due = timekeeping.followup_due(case, k, now, again=True)
        later = case.model_copy(update={"followup_due_at": due})
        return Stay(
            {"followup_due_at": due},
            effects=[Schedule(key=FOLLOWUP, due_at=due), views.followup_later(later)],
            ask_again=False,
        )
    if value == "calendar":
        return calendar(case)
    return on_common_press(case, value, ctx)


def _complaint_sent(case: Case, ctx: Context) -> Stay:
    """The complaint went to the authority: its time to answer counts from today; no more
    "did Meta answer?". Pressed again, the first date stands."""
    if case.complaint_sent_at is not None:
        return Stay(effects=[views.complaint_sent(case)], ask_again=False)
    now = ctx.now
    report = timekeeping.authority_report_due(case, ctx.knowledge, now)
    updates: Updates = {
        "complaint_sent_at": now,
        "authority_report_due_at": report,
        "followup_due_at": None,
    }
    sent = case.model_copy(update=updates)
    effects: list[Effect] = [Cancel(keys=(FOLLOWUP, AUTHORITY))]
    if report is not None:
        effects.append(Schedule(key=AUTHORITY, due_at=report))
    effects.append(views.complaint_sent(sent))
    return Stay(updates, effects=effects, ask_again=False)


def on_escalated_reminder(case: Case, key: str, ctx: Context) -> Result:
    now, k = ctx.now, ctx.knowledge
    if key == AUTHORITY:
        return Stay(effects=[views.authority_checkin(case)], ask_again=False)
    if key != FOLLOWUP or case.complaint_sent_at is not None:
        return quiet(case, key, ctx)
    if timekeeping.is_quiet(case, k, now):  # late after downtime, at night: wait for morning
        morning = timekeeping.daytime(case, k, now)
        return Stay({"followup_due_at": morning}, [Schedule(key=FOLLOWUP, due_at=morning)], False)
    return Stay(
        {"followup_due_at": None}, effects=[views.followup_checkin(case, k)], ask_again=False
    )


def arrive_at_escalated(case: Case, trigger: Trigger, ctx: Context) -> tuple[Case, list[Effect]]:
    """Check-ins stop; the texts are written; Meta's time to answer the follow-up is counted
    (the authority's three months only from when the person sends the complaint)."""
    due = timekeeping.followup_due(case, ctx.knowledge, ctx.now)
    case = case.model_copy(
        update={"escalated_at": ctx.now, "followup_due_at": due, "next_checkin_at": None}
    )
    return case, [
        Cancel(keys=(CHECKIN,)),
        *_escalation_letters(case, ctx.knowledge),
        Schedule(key=FOLLOWUP, due_at=due),
    ]


ESCALATED = StepSpec(
    Step.ESCALATED,
    question=ask_escalated,
    on_press=on_escalated_press,
    on_reminder=on_escalated_reminder,
    on_arrival=arrive_at_escalated,
)

# -- Meta confirmed: the proof -----------------------------------------------------------------


def ask_proof(case: Case, knowledge: Knowledge) -> list[Say]:
    return [Say(message="ask_proof", buttons=((press(Step.PROOF, "skip", "proof.skip"),),))]


def on_proof_text(case: Case, text: str, ctx: Context) -> Result:
    limit = ctx.knowledge.schedule.proof_max_chars
    if len(text) > limit:
        raise Rejected("proof_too_long", length=len(text), limit=limit)
    if not text.strip():
        raise Rejected("proof_expected")
    if has_hidden_controls(text):
        raise Rejected("own_words_control_chars")
    return Move(Trigger.PROOF_KEPT, {"proof": Proof(received_at=ctx.now, text=text)})


def on_proof_media(case: Case, value: str, ctx: Context) -> Result:
    event = ctx.event
    if not isinstance(event, Media) or not event.file_id:
        raise Rejected("proof_expected")
    return Move(Trigger.PROOF_KEPT, {"proof": Proof(received_at=ctx.now, file_id=event.file_id)})


def on_proof_press(case: Case, value: str, ctx: Context) -> Result:
    if value == "skip":
        return Move(Trigger.PROOF_SKIPPED)
    raise Rejected("stale_button")


def arrive_at_proof(case: Case, trigger: Trigger, ctx: Context) -> tuple[Case, list[Effect]]:
    case = case.model_copy(
        update={"confirmed_at": ctx.now, "next_checkin_at": None, "followup_due_at": None}
    )
    return case, [Cancel(keys=(CHECKIN, AUTHORITY, FOLLOWUP))]


PROOF = StepSpec(
    Step.PROOF,
    question=ask_proof,
    on_press=on_proof_press,
    on_text=on_proof_text,
    on_media=on_proof_media,
    on_arrival=arrive_at_proof,
)

# -- done --------------------------------------------------------------------------------------


def ask_done(case: Case, knowledge: Knowledge) -> list[Say]:
    """The end: the checklist for the rest, change alerts (opt-in), erase everything."""
    s = Step.DONE
    alerts = () if case.alerts else ((Button(label="alerts.on", data="command:alerts_on"),),)
    return [
        Say(
            message="done",
            context={"alerts": case.alerts},
            buttons=(
                (press(s, "protect", "protect"),),
                *alerts,
                (Button(label="done.erase", data="command:delete"),),
                (press(s, "start_over", "start_over"),),
            ),
        )
    ]


DONE = StepSpec(Step.DONE, question=ask_done, on_press=on_common_press)

SPECS = (WAITING, REGION, ESCALATED, PROOF, DONE)
