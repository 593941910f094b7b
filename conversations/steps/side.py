"""Side steps, open from any question and back to it: the language, the time zone, a pause.
And the step before everything (a new case, opened by any first message)."""

from __future__ import annotations

from conversations import timekeeping, views
from conversations.case import Case, Step
from conversations.contract import Context, Move, Rejected, Result, StepSpec
from conversations.effects import Effect, Forget, Say, press
from conversations.knowledge import LANGUAGES, Knowledge
from conversations.table import Trigger

#: Countries with many zones (US, RU, BR …) still get a short list; any zone can be typed.
MAX_ZONE_BUTTONS = 8


def leave_new(case: Case, trigger: Trigger, ctx: Context) -> list[Effect]:
    """Any first message (or /start) opens the conversation: the welcome comes first."""
    return [views.welcome(ctx.policy)] if trigger is Trigger.START else []


def arrive_at_new(case: Case, trigger: Trigger, ctx: Context) -> tuple[Case, list[Effect]]:
    """Erased (/delete, then yes): a fresh case that keeps only the language it is told in."""
    fresh = Case.new(case.chat_id, ctx.now).model_copy(update={"language": case.language})
    return fresh, [Forget(chat_id=case.chat_id), Say(message="deleted")]


NEW = StepSpec(Step.NEW, on_leaving=leave_new, on_arrival=arrive_at_new)

# -- language ----------------------------------------------------------------------------------


def ask_language(case: Case, knowledge: Knowledge) -> list[Say]:
    s = Step.LANGUAGE
    return [
        Say(
            message="ask_language",
            buttons=tuple((press(s, lang, "language", arg=lang),) for lang in LANGUAGES),
        )
    ]


def on_language_press(case: Case, value: str, ctx: Context) -> Result:
    if value not in LANGUAGES:
        raise Rejected("stale_button")
    return Move(Trigger.LANGUAGE_CHOSEN, {"language": value})


def leave_language(case: Case, trigger: Trigger, ctx: Context) -> list[Effect]:
    if trigger is not Trigger.LANGUAGE_CHOSEN:
        return []
    said: list[Effect] = [Say(message="language_set", context={"timezone": case.timezone})]
    if case.resume_step is None:  # chose a language before anything else
        said.append(views.welcome(ctx.policy))
    return said


LANGUAGE = StepSpec(
    Step.LANGUAGE, question=ask_language, on_press=on_language_press, on_leaving=leave_language
)

# -- time zone ---------------------------------------------------------------------------------


def ask_timezone(case: Case, knowledge: Knowledge) -> list[Say]:
    s = Step.TIMEZONE
    zones = timekeeping.zones_of(case.country or "")[:MAX_ZONE_BUTTONS] or [timekeeping.UTC_ZONE]
    return [
        Say(
            message="ask_timezone",
            context={"timezone": case.timezone},
            buttons=tuple((press(s, z, "timezone", arg=z),) for z in zones),
        )
    ]


def on_timezone_press(case: Case, value: str, ctx: Context) -> Result:
    if value not in timekeeping.zones_of(case.country or "") and value != timekeeping.UTC_ZONE:
        raise Rejected("stale_button")
    return Move(Trigger.TIMEZONE_CHOSEN, {"timezone": value})


def on_timezone_text(case: Case, text: str, ctx: Context) -> Result:
    name = text.strip().replace(" ", "_")
    if not timekeeping.is_zone(name):
        raise Rejected("timezone_unknown")
    return Move(Trigger.TIMEZONE_CHOSEN, {"timezone": name})


def leave_timezone(case: Case, trigger: Trigger, ctx: Context) -> list[Effect]:
    if trigger is not Trigger.TIMEZONE_CHOSEN:
        return []
    return [Say(message="timezone_set", context={"timezone": case.timezone})]


TIMEZONE = StepSpec(
    Step.TIMEZONE,
    question=ask_timezone,
    on_press=on_timezone_press,
    on_text=on_timezone_text,
    on_leaving=leave_timezone,
)

# -- paused (/cancel) --------------------------------------------------------------------------


def ask_paused(case: Case, knowledge: Knowledge) -> list[Say]:
    return [Say(message="paused", buttons=((press(Step.PAUSED, "resume", "resume"),),))]


def on_paused_press(case: Case, value: str, ctx: Context) -> Result:
    if value == "resume":
        return Move(Trigger.RESUME)
    raise Rejected("stale_button")


PAUSED = StepSpec(Step.PAUSED, question=ask_paused, on_press=on_paused_press)

SPECS = (NEW, LANGUAGE, TIMEZONE, PAUSED)
