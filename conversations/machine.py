"""The conversation as a state machine: ``step(case, event, now, knowledge) -> (case, effects)``.

Rules of this module (after h11's ``_state.py``):
- The journey is the transition table in ``conversations.table``: step -> trigger -> next step.
  ``GLOBAL`` there holds the commands that work from every step.
- A handler (``journey``, ``aftercare``) reads the input and names a trigger plus the answers to
  store, or stays, or rejects it. A rejected input is answered with a friendly message and the
  question again; the case is returned unchanged, so nothing answered before is ever lost.
- No I/O, no clock (``now`` is passed in), no prose: messages and labels are names of templates.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from conversations import aftercare, answers, journey, questions
from conversations.case import Case, Step
from conversations.countries import country_name, normalize, subdivision_names
from conversations.effects import Button, Effect, Forget, Say, SendData, SendLetter
from conversations.events import (
    Command,
    Edited,
    Event,
    MailReport,
    Media,
    Press,
    Reminder,
    Text,
)
from conversations.handling import Context, Handler, Move, Policy, Rejected, Stay, stale
from conversations.journey import email_offer
from conversations.knowledge import LANGUAGES, Knowledge
from conversations.table import GLOBAL, QUESTION_STEPS, SIDE_STEPS, TABLE, Trigger

__all__ = ["GLOBAL", "QUESTION_STEPS", "TABLE", "Trigger", "step"]

DEFAULT_LANGUAGE = "en"

#: Commands that only answer, without touching the case.
INFO_COMMANDS = {"help": "help", "privacy": "privacy"}
#: Buttons that stand for a command ("Erase everything" on the last message).
COMMAND_BUTTONS = {"delete", "objected_before"}
#: The answers to "really erase everything?" (asked from any step, so not tied to one).
DELETE_ANSWERS = {"yes", "no"}

HANDLERS: dict[tuple[Step, str], Handler] = {**journey.HANDLERS, **aftercare.HANDLERS}

Outcome = tuple[Case, list[Effect]]


def step(
    case: Case,
    event: Event,
    now: datetime,
    knowledge: Knowledge,
    policy: Policy | None = None,
    labels: Mapping[str, frozenset[str]] | None = None,
) -> Outcome:
    """The whole conversation: one event in, the new case and what to do out. ``knowledge``
    is handed in (the shell loads it once); the brain never reads a file. ``labels``: every
    button label's text in every language, by label key (the shell renders them), so a typed
    label is read as the button it names."""
    k = knowledge
    if case.language is None:
        case = case.model_copy(update={"language": supported_language(event.client_language)})
    if isinstance(event, Text) and case.step is not Step.NEW:
        event = _typed_as_press(case, event, k, labels or {})
        if case.erase_asked and isinstance(event, Text):
            # Typed while "Erase everything?" is open, and neither yes nor no: ask again. It is
            # not an answer to the question before (it never becomes own words).
            return case, [Say(message="delete_answer_expected"), questions.delete_confirm()]
    ctx = Context(now=now, k=k, event=event, policy=policy or Policy())
    try:
        new_case, effects = _dispatch(case, event, ctx)
    except Rejected as rejected:
        return case, [rejected.say, *questions.ask(case, k)]
    if new_case.erase_asked and not _answers_erase(event):
        # "Erase everything?" is answered by the next thing the person does, or not at all:
        # an old "Yes" button pressed later asks again.
        new_case = new_case.model_copy(update={"erase_asked": False})
    if new_case != case:
        new_case = new_case.model_copy(update={"updated_at": now})
    return new_case, effects


def _typed_as_press(
    case: Case, event: Text, k: Knowledge, labels: Mapping[str, frozenset[str]]
) -> Event:
    """A typed text that is a button of the open question -- its label in any language, its
    value, or a short answer ("yes", "nein", "skip") that means it -- is that button."""
    shown = [questions.delete_confirm()] if case.erase_asked else questions.ask(case, k)
    buttons = [b for say in shown for row in say.buttons for b in row if b.data]
    typed = _fold(event.text)
    language = event.client_language
    for button in buttons:
        assert button.data is not None
        names = {_fold(text) for text in _label_texts(button, labels)}
        if typed and typed in names | {_fold(button.data.partition(":")[2])}:
            return Press(data=button.data, client_language=language)
    said = answers.meaning(event.text)
    if said is None:
        return event
    if case.erase_asked:
        if said == "skip":
            return event
        return Press(data=f"delete:{'yes' if said == 'yes' else 'no'}", client_language=language)
    offered = [b.data for b in buttons if b.data and b.data.partition(":")[0] == case.step.value]
    for value in answers.VALUES[said]:
        for data in offered:
            if data.partition(":")[2] == value:
                return Press(data=data, client_language=language)
    return event


def _label_texts(button: Button, labels: Mapping[str, frozenset[str]]) -> frozenset[str]:
    """What a button says, in every language (countries and regions by their names)."""
    arg = button.arg or ""
    if button.label == "country":
        return frozenset(country_name(arg, lang) for lang in LANGUAGES)
    if button.label == "region":
        return frozenset(subdivision_names(arg))
    if button.label == "timezone":
        return frozenset({arg.replace("_", " ")})
    return labels.get(f"{button.label}.{arg}" if arg else button.label, frozenset())


def _fold(text: str) -> str:
    return normalize(text.removeprefix("✅"))


def _answers_erase(event: Event) -> bool:
    """Whether this event asks or answers "Erase everything?" (reminders and reports leave
    the question open)."""
    if isinstance(event, Command):
        return event.name.lower() == "delete"
    if isinstance(event, Press):
        return event.data in ("delete:yes", "delete:no", "command:delete")
    return isinstance(event, Reminder | MailReport)


def supported_language(language: str | None) -> str:
    """The bot's language for a client's IETF tag ("de-AT" -> "de"), English otherwise."""
    base = (language or "").split("-")[0].lower()
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


def _dispatch(case: Case, event: Event, ctx: Context) -> Outcome:
    if isinstance(event, Command):
        return _on_command(case, event.name.lower(), ctx)
    if isinstance(event, MailReport):  # whatever the step: say how the e-mail copy went
        return case, [Say(message="email_sent" if event.ok else "email_failed")]
    if isinstance(event, Reminder):
        handler = HANDLERS.get((case.step, "reminder"), aftercare.IGNORE_REMINDER)
        return _result(case, handler(case, event.key, ctx), ctx)
    if isinstance(event, Edited):
        raise Rejected("edited_message")
    if isinstance(event, Media):
        if (case.step, "media") not in HANDLERS:
            raise Rejected("text_expected")
        return _result(case, HANDLERS[(case.step, "media")](case, "", ctx), ctx)
    if case.step is Step.NEW:  # any first word opens the conversation like /start
        return _on_command(case, "start", ctx)
    if isinstance(event, Press):
        owner, _, value = event.data.partition(":")
        if owner == "command" and value in COMMAND_BUTTONS:
            return _on_command(case, value, ctx)
        if owner == "delete" and value in DELETE_ANSWERS:
            return _on_delete_answer(case, value == "yes", ctx)
        if owner != case.step.value or not value:
            raise Rejected("stale_button")
        return _result(case, HANDLERS.get((case.step, "press"), stale)(case, value, ctx), ctx)
    assert isinstance(event, Text)
    handler = HANDLERS.get((case.step, "text"), _buttons_only)
    return _result(case, handler(case, event.text, ctx), ctx)


def _buttons_only(case: Case, text: str, ctx: Context) -> Move | Stay:
    raise Rejected("paused" if case.step is Step.PAUSED else "choose_button")


def _result(case: Case, result: Move | Stay, ctx: Context) -> Outcome:
    if isinstance(result, Stay):
        stayed = case.model_copy(update=result.updates)
        again = questions.ask(stayed, ctx.k) if result.ask_again else []
        return stayed, [*result.effects, *again]
    return _apply(case.model_copy(update=result.updates), result.trigger, ctx)


def _apply(case: Case, trigger: Trigger, ctx: Context) -> Outcome:
    """Move along the table and say (and schedule) what arriving at the new step needs."""
    if trigger in GLOBAL:
        target = GLOBAL[trigger] or case.resume_step or Step.PLATFORMS
    else:
        target = TABLE[case.step][trigger]
    before = case.step
    case = _moved(case, target)
    effects: list[Effect] = []
    if trigger in (Trigger.COUNTRY_FOUND, Trigger.STATE_CHOSEN):
        effects.append(questions.country_confirmed(case, ctx.k))
    if target is Step.LETTER and before is not Step.LETTER:
        case = case.model_copy(update={"letter_written_at": ctx.now, "reasons_done": True})
        return case, [SendLetter(case=case), questions.form_help(case, ctx.k), *email_offer(ctx)]
    if trigger is Trigger.SUBMITTED:
        case = case.model_copy(update={"form_submitted_at": ctx.now})
    if trigger in (Trigger.LANGUAGE_CHOSEN, Trigger.TIMEZONE_CHOSEN):
        effects.append(
            Say(message=f"{target_name(trigger)}_set", context={"timezone": case.timezone})
        )
        if trigger is Trigger.LANGUAGE_CHOSEN and case.resume_step is None:
            effects.append(_welcome(ctx))  # chose a language before anything else
    if target in SIDE_STEPS:
        return case.model_copy(update={"resume_step": before}), [
            *effects,
            *questions.ask(case.model_copy(update={"resume_step": before}), ctx.k),
        ]
    if trigger in (Trigger.RESUME, Trigger.LANGUAGE_CHOSEN, Trigger.TIMEZONE_CHOSEN):
        case = case.model_copy(update={"resume_step": None})
        return case, [*effects, *questions.ask(case, ctx.k)]
    case, entered = aftercare.enter(case, before, trigger, ctx)
    return case, [*effects, *entered]


def _moved(case: Case, target: Step) -> Case:
    """The one place a case changes its step; every target comes from TABLE or GLOBAL."""
    return case.model_copy(update={"step": target})


def target_name(trigger: Trigger) -> str:
    return "language" if trigger is Trigger.LANGUAGE_CHOSEN else "timezone"


def _on_command(case: Case, name: str, ctx: Context) -> Outcome:
    k = ctx.k
    if name == "protect":
        return case, [questions.protect(case, k)]
    if name == "objected_before":  # "I objected in 2024 or 2025": no need to do it again
        return case, [Say(message="objected_before"), *questions.ask(case, k)]
    if name in INFO_COMMANDS:
        return case, [Say(message=INFO_COMMANDS[name], context=ctx.policy.retention())]
    if name == "start":
        if case.step is Step.NEW:
            case = _moved(case, TABLE[Step.NEW][Trigger.START])
            return case, [_welcome(ctx), *questions.ask(case, k)]
        if case.step in SIDE_STEPS:
            return _apply(case, Trigger.RESUME, ctx)
        return case, [Say(message="welcome_back"), *questions.ask(case, k)]
    if name == "status":
        return case, [questions.status(case, k), *questions.ask(case, k)]
    if name == "delete":
        return case.model_copy(update={"erase_asked": True}), [questions.delete_confirm()]
    if name == "mydata":
        return case, [questions.my_data(case, k), SendData(case=case)]
    if name in ("language", "timezone"):
        trigger = Trigger.LANGUAGE if name == "language" else Trigger.TIMEZONE
        if name == "timezone" and case.country is None:
            raise Rejected("timezone_needs_country")
        if case.step in SIDE_STEPS or case.step is Step.NEW:
            # Keep where a paused person was (or nothing, for a new one): that is where we return.
            side = GLOBAL[trigger]
            assert side is not None
            asking = _moved(case, side)
            return asking, [*questions.ask(asking, k)]
        return _apply(case, trigger, ctx)
    if name == "cancel":
        if case.step not in QUESTION_STEPS:
            raise Rejected("nothing_to_cancel")
        return _apply(case, Trigger.CANCEL, ctx)
    raise Rejected("unknown_command")


def _welcome(ctx: Context) -> Say:
    return Say(message="welcome", context=ctx.policy.retention())


def _on_delete_answer(case: Case, erase: bool, ctx: Context) -> Outcome:
    """The answer to "really erase everything?": erase, or carry on where the person was."""
    if not case.erase_asked:  # an answer to an earlier question: erase nothing
        if not erase:
            raise Rejected("stale_button")
        asking = case.model_copy(update={"erase_asked": True})  # so ask again
        return asking, [Say(message="stale_button"), questions.delete_confirm()]
    case = case.model_copy(update={"erase_asked": False})
    if not erase:
        return case, [Say(message="delete_kept"), *questions.ask(case, ctx.k)]
    target = GLOBAL[Trigger.DELETE]
    assert target is not None
    fresh = _moved(Case.new(case.chat_id, ctx.now), target)
    fresh = fresh.model_copy(update={"language": case.language})
    return fresh, [Forget(chat_id=case.chat_id), Say(message="deleted")]
