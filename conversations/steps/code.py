"""After the form is sent: did Meta e-mail a code, the countdown while it is valid, and what to
do when it has expired. Reminders come in as events like any other input; one that no longer
fits the present (the bot was down, the person moved on) is answered with what fits now."""

from __future__ import annotations

from datetime import timedelta

from conversations import timekeeping, views
from conversations.case import Case, Step
from conversations.contract import Context, Move, Rejected, Result, Stay, StepSpec
from conversations.effects import Cancel, Effect, Say, Schedule, press
from conversations.knowledge import Knowledge
from conversations.steps.common import calendar, on_common_press
from conversations.table import Trigger
from conversations.timekeeping import CODE_EXPIRED, TICK


def code_keys(knowledge: Knowledge) -> tuple[str, ...]:
    """Every reminder the countdown schedules."""
    return (TICK, CODE_EXPIRED, *timekeeping.code_reminder_keys(knowledge))


def _no_code_help(knowledge: Knowledge) -> Say:
    return Say(message="no_code_help", context={"sender_domains": knowledge.meta_sender_domains})


def quiet(case: Case, key: str, ctx: Context) -> Result:
    """A reminder that no longer applies (the person moved on): nothing to say."""
    return Stay(ask_again=False)


# -- the form was sent: a code? -----------------------------------------------------------------


def ask_code(case: Case, knowledge: Knowledge) -> list[Say]:
    s = Step.SUBMITTED
    assert case.country is not None
    code = knowledge.jurisdiction_for(case.country, case.region).code
    return [
        Say(
            message="ask_code",
            context={"expected": code.expected, "minutes": code.validity_minutes},
            buttons=(
                (press(s, "have_code", "code.have"),),
                (press(s, "no_code_needed", "code.not_needed"),),
                (press(s, "no_code", "code.missing"),),
                (press(s, "show_letter", "letter.show"), press(s, "start_over", "start_over")),
            ),
        )
    ]


def on_submitted_press(case: Case, value: str, ctx: Context) -> Result:
    if value == "have_code":
        return Move(Trigger.CODE_RECEIVED)
    if value == "no_code_needed":
        return Move(Trigger.NO_CODE_NEEDED)
    if value == "no_code":
        return Stay(effects=[_no_code_help(ctx.knowledge)])
    return on_common_press(case, value, ctx)


def arrive_at_submitted(case: Case, trigger: Trigger, ctx: Context) -> tuple[Case, list[Effect]]:
    if trigger is Trigger.SUBMITTED:
        return case.model_copy(update={"form_submitted_at": ctx.now}), []
    if trigger is Trigger.CODE_TROUBLE:  # back from the countdown: no code, or a new one needed
        return case, [_no_code_help(ctx.knowledge)]
    return case, []


SUBMITTED = StepSpec(
    Step.SUBMITTED,
    question=ask_code,
    on_press=on_submitted_press,
    on_arrival=arrive_at_submitted,
)

# -- the code's countdown ----------------------------------------------------------------------


def ask_countdown(case: Case, knowledge: Knowledge) -> list[Say]:
    return [views.countdown(case, knowledge, None, edit=False)]


def on_code_press(case: Case, value: str, ctx: Context) -> Result:
    if value == "entered":
        return Move(Trigger.CODE_ENTERED)
    if value in ("missing", "new_code"):
        return Move(Trigger.CODE_TROUBLE)
    if value == "calendar":
        return calendar(case)
    raise Rejected("stale_button")


def on_code_reminder(case: Case, key: str, ctx: Context) -> Result:
    now, k = ctx.now, ctx.knowledge
    expired = case.code_expires_at is not None and now >= case.code_expires_at
    if key == CODE_EXPIRED or (expired and key in code_keys(k)):
        return Move(Trigger.CODE_EXPIRES)
    if key == TICK:
        effects: list[Effect] = [views.countdown(case, k, now, edit=True)]
        due = timekeeping.next_tick(case, k, now)
        if due is not None:
            effects.append(Schedule(key=TICK, due_at=due))
        return Stay(effects=effects, ask_again=False)
    if key in timekeeping.code_reminder_keys(k) and timekeeping.code_reminder_is_current(
        key, case, k, now
    ):
        say = Say(
            message="code_reminder",
            context={"minutes": timekeeping.minutes_left(case, now)},
            buttons=views.code_buttons(case),
            urgency="countdown",
            valid_until=now + timedelta(seconds=k.schedule.countdown_valid_seconds),
            refresh=key,
        )
        return Stay(effects=[say], ask_again=False)
    return quiet(case, key, ctx)


def arrive_at_code(case: Case, trigger: Trigger, ctx: Context) -> tuple[Case, list[Effect]]:
    """The code came: the countdown starts, with a reminder before it runs out."""
    now, k = ctx.now, ctx.knowledge
    validity = timekeeping.code_validity(case, k)
    expires = now + validity if validity else None
    case = case.model_copy(update={"code_received_at": now, "code_expires_at": expires})
    effects: list[Effect] = [views.countdown(case, k, now, edit=False)]
    if expires is not None:
        tick = timekeeping.next_tick(case, k, now)
        effects += [Schedule(key=TICK, due_at=tick)] if tick else []
        for minutes in k.schedule.code_reminders_minutes:
            due = expires - timedelta(minutes=minutes)
            if due > now:
                effects.append(Schedule(key=f"{timekeeping.CODE_LEFT}:{minutes}", due_at=due))
        effects.append(Schedule(key=CODE_EXPIRED, due_at=expires))
    return case, effects


def leave_code(case: Case, trigger: Trigger, ctx: Context) -> list[Effect]:
    return [Cancel(keys=code_keys(ctx.knowledge))]


CODE = StepSpec(
    Step.CODE,
    question=ask_countdown,
    on_press=on_code_press,
    on_reminder=on_code_reminder,
    on_arrival=arrive_at_code,
    asks_on_arrival=False,  # the countdown is the question
    on_leaving=leave_code,
)

# -- the code has expired ----------------------------------------------------------------------


def ask_code_expired(case: Case, knowledge: Knowledge) -> list[Say]:
    s = Step.CODE_EXPIRED
    return [
        Say(
            message="code_expired",
            buttons=(
                (press(s, "have_code", "code.have_new"),),
                (press(s, "entered", "code.entered_in_time"),),
                (press(s, "start_over", "start_over"),),
            ),
        )
    ]


def on_code_expired_press(case: Case, value: str, ctx: Context) -> Result:
    if value == "have_code":
        return Move(Trigger.CODE_RECEIVED)
    if value == "entered":
        return Move(Trigger.CODE_ENTERED)
    return on_common_press(case, value, ctx)


def arrive_at_code_expired(case: Case, trigger: Trigger, ctx: Context) -> tuple[Case, list[Effect]]:
    """The countdown message says so (edited in place), then what to do now."""
    return case, [views.countdown(case, ctx.knowledge, ctx.now, edit=True)]


CODE_EXPIRED_STEP = StepSpec(
    Step.CODE_EXPIRED,
    question=ask_code_expired,
    on_press=on_code_expired_press,
    on_arrival=arrive_at_code_expired,
)

SPECS = (SUBMITTED, CODE, CODE_EXPIRED_STEP)
