"""After the form: Meta's code, check-ins until Meta confirms, proof, and escalation.

Handlers here follow ``handling``'s contract. ``enter`` says what happens on arriving at a step
(the countdown starts, check-ins are scheduled, the follow-up and complaint are written).
Reminders come in as events like any other input; one that no longer fits the present (the
bot was down, the person moved on) is answered with what fits now, or with nothing.
"""

from __future__ import annotations

from datetime import timedelta

from conversations import countries, questions, timekeeping
from conversations.case import Case, CheckIns, Proof, Step
from conversations.effects import Cancel, Effect, Say, Schedule, SendCalendar, SendLetter
from conversations.events import Media
from conversations.handling import Context, Handler, Move, Rejected, Result, Stay, Updates
from conversations.journey import has_hidden_controls, on_common_press
from conversations.table import Trigger
from conversations.timekeeping import AUTHORITY, CHECKIN, CODE_EXPIRED, TICK


def _code_keys(ctx: Context) -> tuple[str, ...]:
    return (TICK, CODE_EXPIRED, *timekeeping.code_reminder_keys(ctx.k))


def _calendar(case: Case) -> Stay:
    return Stay(effects=[SendCalendar(case=case)], ask_again=False)


# -- presses ---------------------------------------------------------------------------------


def on_submitted_press(case: Case, value: str, ctx: Context) -> Result:
    if value == "have_code":
        return Move(Trigger.CODE_RECEIVED)
    if value == "no_code_needed":
        return Move(Trigger.NO_CODE_NEEDED)
    if value == "no_code":
        return Stay(effects=[Say(message="no_code_help", context=_sender_context(ctx))])
    return on_common_press(case, value, ctx)


def on_code_press(case: Case, value: str, ctx: Context) -> Result:
    if value == "entered":
        return Move(Trigger.CODE_ENTERED)
    if value in ("missing", "new_code"):
        return Move(Trigger.CODE_TROUBLE)
    if value == "calendar":
        return _calendar(case)
    raise Rejected("stale_button")


def on_code_expired_press(case: Case, value: str, ctx: Context) -> Result:
    if value == "have_code":
        return Move(Trigger.CODE_RECEIVED)
    if value == "entered":
        return Move(Trigger.CODE_ENTERED)
    return on_common_press(case, value, ctx)


def on_waiting_press(case: Case, value: str, ctx: Context) -> Result:
    now, k = ctx.now, ctx.k
    if value == "confirmed":
        return Move(Trigger.CONFIRMED)
    if value in ("refused", "escalate"):
        updates: Updates = {"refused_at": now} if value == "refused" else {}
        return Move(_escalation(case, ctx), updates)
    if value == "nothing_yet":
        if case.deadline_at is not None and now >= case.deadline_at:
            return Move(_escalation(case, ctx))
        return Stay(
            effects=[Say(message="nothing_yet", context=questions.timeline(case))], ask_again=False
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
        timeline = questions.timeline(resumed.model_copy(update={"next_checkin_at": due}))
        effects: list[Effect] = [Say(message="checkins_resumed", context=timeline)]
        if due is not None:
            effects.insert(0, Schedule(key=CHECKIN, due_at=due))
        return Stay(
            {"checkins": CheckIns.ON, "next_checkin_at": due}, effects=effects, ask_again=False
        )
    if value == "calendar":
        return _calendar(case)
    return on_common_press(case, value, ctx)


def _escalation(case: Case, ctx: Context) -> Trigger:
    """Escalate; first ask for the region where it decides the authority (German states)."""
    needs_region = bool(ctx.k.regulator_regions(case.country or "")) and case.region is None
    return Trigger.ESCALATE_ASK_REGION if needs_region else Trigger.ESCALATE


def on_region_press(case: Case, value: str, ctx: Context) -> Result:
    country = case.country or ""
    if value == "other" and not ctx.k.subdivisions_of(country):  # Canada, outside Québec
        return Move(Trigger.REGION_CHOSEN, {"region": None})
    if value not in ctx.k.regulator_regions(country):
        raise Rejected("stale_button")
    return Move(Trigger.REGION_CHOSEN, {"region": value})


def on_region_text(case: Case, text: str, ctx: Context) -> Result:
    country = case.country or ""
    code = countries.resolve_subdivision(country, text, ctx.k.regulator_regions(country))
    if code is None:
        raise Rejected("region_unknown")
    return Move(Trigger.REGION_CHOSEN, {"region": code})


def on_proof_text(case: Case, text: str, ctx: Context) -> Result:
    limit = ctx.k.schedule.proof_max_chars
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


def on_escalated_press(case: Case, value: str, ctx: Context) -> Result:
    if value == "confirmed":
        return Move(Trigger.CONFIRMED)
    if value == "authority_answered" and questions.writes_complaint(case, ctx.k):
        return Move(Trigger.AUTHORITY_ANSWERED)
    if value == "show_texts":
        return Stay(effects=_escalation_letters(case, ctx))
    if value == "calendar":
        return _calendar(case)
    return on_common_press(case, value, ctx)


def on_done_press(case: Case, value: str, ctx: Context) -> Result:
    return on_common_press(case, value, ctx)


def on_timezone_press(case: Case, value: str, ctx: Context) -> Result:
    if value not in timekeeping.zones_of(case.country or "") and value != timekeeping.UTC_ZONE:
        raise Rejected("stale_button")
    return Move(Trigger.TIMEZONE_CHOSEN, {"timezone": value})


def on_timezone_text(case: Case, text: str, ctx: Context) -> Result:
    name = text.strip().replace(" ", "_")
    if not timekeeping.is_zone(name):
        raise Rejected("timezone_unknown")
    return Move(Trigger.TIMEZONE_CHOSEN, {"timezone": name})


# -- reminders -------------------------------------------------------------------------------


def _quiet(case: Case, value: str, ctx: Context) -> Result:
    """A reminder that no longer applies (the person moved on): nothing to say."""
    return Stay(ask_again=False)


def on_code_reminder(case: Case, key: str, ctx: Context) -> Result:
    now, k = ctx.now, ctx.k
    expired = case.code_expires_at is not None and now >= case.code_expires_at
    if key == CODE_EXPIRED or (expired and key in _code_keys(ctx)):
        return Move(Trigger.CODE_EXPIRES)
    if key == TICK:
        effects: list[Effect] = [questions.countdown(case, k, now, edit=True)]
        due = timekeeping.next_tick(case, k, now)
        if due is not None:
            effects.append(Schedule(key=TICK, due_at=due))
        return Stay(effects=effects, ask_again=False)
    if key in timekeeping.code_reminder_keys(k) and timekeeping.code_reminder_is_current(
        key, case, k, now
    ):
        left = timekeeping.minutes_left(case, now)
        say = Say(
            message="code_reminder",
            context={"minutes": left},
            buttons=questions.code_buttons(case),
            urgency="countdown",
            valid_until=now + timedelta(seconds=k.schedule.countdown_valid_seconds),
            refresh=key,
        )
        return Stay(effects=[say], ask_again=False)
    return _quiet(case, key, ctx)


def on_waiting_reminder(case: Case, key: str, ctx: Context) -> Result:
    now, k = ctx.now, ctx.k
    if key != CHECKIN or case.checkins is not CheckIns.ON:
        return _quiet(case, key, ctx)
    if timekeeping.is_quiet(case, k, now):  # late after downtime, at night: wait for morning
        morning = timekeeping.daytime(case, k, now)
        return Stay({"next_checkin_at": morning}, [Schedule(key=CHECKIN, due_at=morning)], False)
    passed = case.deadline_at is not None and now >= case.deadline_at
    effects: list[Effect] = [questions.checkin(case, k, passed)]
    due = timekeeping.next_checkin(case, k, now)
    if due is not None:
        effects.append(Schedule(key=CHECKIN, due_at=due))
    return Stay({"next_checkin_at": due}, effects=effects, ask_again=False)


def on_escalated_reminder(case: Case, key: str, ctx: Context) -> Result:
    if key != AUTHORITY:
        return _quiet(case, key, ctx)
    return Stay(effects=[questions.authority_checkin(case)], ask_again=False)


# -- arriving at a step ----------------------------------------------------------------------


def enter(case: Case, before: Step, trigger: Trigger, ctx: Context) -> tuple[Case, list[Effect]]:
    """Set the milestone dates and say / schedule what arriving at ``case.step`` needs."""
    now, k, step = ctx.now, ctx.k, case.step
    effects: list[Effect] = []
    if case.timezone is None and case.country is not None:
        case = case.model_copy(update={"timezone": timekeeping.default_zone(case.country)})
    if step is Step.CODE:
        validity = timekeeping.code_validity(case, k)
        expires = now + validity if validity else None
        case = case.model_copy(update={"code_received_at": now, "code_expires_at": expires})
        effects.append(questions.countdown(case, k, now, edit=False))
        if expires is not None:
            tick = timekeeping.next_tick(case, k, now)
            effects += [Schedule(key=TICK, due_at=tick)] if tick else []
            for minutes in k.schedule.code_reminders_minutes:
                due = expires - timedelta(minutes=minutes)
                if due > now:
                    effects.append(Schedule(key=f"{timekeeping.CODE_LEFT}:{minutes}", due_at=due))
            effects.append(Schedule(key=CODE_EXPIRED, due_at=expires))
        return case, effects
    if before is Step.CODE:
        effects.append(Cancel(keys=_code_keys(ctx)))
    if step is Step.CODE_EXPIRED:
        effects.append(questions.countdown(case, k, now, edit=True))
        return case, [*effects, *questions.ask(case, k)]
    if step is Step.SUBMITTED and trigger is Trigger.CODE_TROUBLE:
        effects.append(Say(message="no_code_help", context=_sender_context(ctx)))
    if step is Step.WAITING:
        entered = now if trigger is Trigger.CODE_ENTERED else None
        case = case.model_copy(
            update={"code_entered_at": entered, "deadline_at": timekeeping.deadline(case, k, now)}
        )
        first = timekeeping.next_checkin(case, k, now)
        case = case.model_copy(update={"next_checkin_at": first})
        if first is not None and case.checkins is CheckIns.ON:
            effects.append(Schedule(key=CHECKIN, due_at=first))
        return case, [*effects, *questions.ask(case, k)]
    if step is Step.ESCALATED:
        report = timekeeping.authority_report_due(case, k, now)
        case = case.model_copy(
            update={"escalated_at": now, "authority_report_due_at": report, "next_checkin_at": None}
        )
        effects += [Cancel(keys=(CHECKIN,)), *_escalation_letters(case, ctx)]
        if report is not None:
            effects.append(Schedule(key=AUTHORITY, due_at=report))
        return case, [*effects, *questions.ask(case, k)]
    if step is Step.PROOF:
        case = case.model_copy(update={"confirmed_at": now, "next_checkin_at": None})
        effects.append(Cancel(keys=(CHECKIN, AUTHORITY)))
    return case, [*effects, *questions.ask(case, k)]


def _escalation_letters(case: Case, ctx: Context) -> list[Effect]:
    """The follow-up to Meta and, where the law gives a complaint, the complaint text."""
    letters: list[Effect] = [SendLetter(case=case, letter="followup")]
    if questions.writes_complaint(case, ctx.k):
        letters.append(SendLetter(case=case, letter="complaint"))
    return letters


def _sender_context(ctx: Context) -> dict[str, object]:
    return {"sender_domains": ctx.k.meta_sender_domains}


HANDLERS: dict[tuple[Step, str], Handler] = {
    (Step.SUBMITTED, "press"): on_submitted_press,
    (Step.CODE, "press"): on_code_press,
    (Step.CODE, "reminder"): on_code_reminder,
    (Step.CODE_EXPIRED, "press"): on_code_expired_press,
    (Step.WAITING, "press"): on_waiting_press,
    (Step.WAITING, "reminder"): on_waiting_reminder,
    (Step.REGION, "press"): on_region_press,
    (Step.REGION, "text"): on_region_text,
    (Step.PROOF, "text"): on_proof_text,
    (Step.PROOF, "media"): on_proof_media,
    (Step.PROOF, "press"): on_proof_press,
    (Step.ESCALATED, "press"): on_escalated_press,
    (Step.ESCALATED, "reminder"): on_escalated_reminder,
    (Step.DONE, "press"): on_done_press,
    (Step.TIMEZONE, "press"): on_timezone_press,
    (Step.TIMEZONE, "text"): on_timezone_text,
}

#: What a reminder does at a step without its own reminder handler: nothing.
IGNORE_REMINDER: Handler = _quiet
