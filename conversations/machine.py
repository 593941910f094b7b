"""The conversation as a state machine: ``step(case, event, now, knowledge) -> (case, effects)``.

Rules of this module (after h11's ``_state.py``):
- The journey is the transition table in ``conversations.table``: step -> trigger -> next step.
  ``GLOBAL`` there holds the commands that work from every step.
- Each step's question, handlers and arrival live together in ``conversations.steps``. A
  handler reads the input and names a trigger plus the answers to store, or stays, or rejects
  it. A rejected input is answered with a friendly message and the question again; the case is
  returned unchanged, so nothing answered before is ever lost.
- Every move goes through ``_apply`` and the table, and only ``_moved`` changes a case's step.
- No I/O, no clock (``now`` is passed in), no prose: messages and labels are names of templates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from conversations import answers, campaign, views
from conversations.case import Case, Step
from conversations.checks import looks_like_code
from conversations.contract import Context, Move, Policy, Rejected, Stay, stale
from conversations.countries import country_name, language_names, normalize, subdivision_names
from conversations.effects import (
    Button,
    DeleteMessage,
    Effect,
    Notice,
    Say,
    SendData,
    SendEvidence,
    Tally,
)
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
from conversations.knowledge import LANGUAGES, Knowledge, supported_language
from conversations.steps import STEPS, ask
from conversations.steps.code import quiet
from conversations.table import (
    CHANGE_ENDS_AT,
    GLOBAL,
    QUESTION_STEPS,
    SIDE_STEPS,
    TABLE,
    Trigger,
)

__all__ = ["GLOBAL", "QUESTION_STEPS", "TABLE", "Trigger", "step"]


#: Commands that only answer, without touching the case.
INFO_COMMANDS = {"help": "help", "privacy": "privacy"}
#: Buttons that stand for a command ("Erase everything" on the last message).
COMMAND_BUTTONS = {
    "delete",
    "objected_before",
    "language",
    "timezone",
    "settings",
    "alerts_on",
    "alerts_off",
    "evidence",
}
#: The answers to "really erase everything?" (asked from any step, so not tied to one).
DELETE_ANSWERS = {"yes", "no"}

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
    if case.language is None:
        case = case.model_copy(update={"language": supported_language(event.client_language)})
    if isinstance(event, Text) and case.step is not Step.NEW and looks_like_code(event.text):
        return case, _code_in_chat(case, event, knowledge)
    if isinstance(event, Text) and case.step is not Step.NEW:
        event = _typed_as_press(case, event, knowledge, labels or {})
        if case.erase_asked and isinstance(event, Text):
            # Typed while "Erase everything?" is open, and neither yes nor no: ask again. It is
            # not an answer to the question before (it never becomes own words).
            return case, [Say(message="delete_answer_expected"), views.delete_confirm()]
    ctx = Context(now=now, knowledge=knowledge, event=event, policy=policy or Policy())
    try:
        new_case, effects = _dispatch(case, event, ctx)
    except Rejected as rejected:
        if rejected.say.message == "stale_button" and isinstance(event, Press) and not event.typed:
            # A tap on an earlier question's button: a notice on the button, nothing in the chat.
            return case, [Notice(message="stale_button_notice")]
        return case, [rejected.say, *ask(case, knowledge)]
    if new_case.erase_asked and not _answers_erase(event):
        # "Erase everything?" is answered by the next thing the person does, or not at all:
        # an old "Yes" button pressed later asks again.
        new_case = new_case.model_copy(update={"erase_asked": False})
    if new_case != case:
        new_case = new_case.model_copy(update={"updated_at": now})
    return new_case, effects


def _typed_as_press(
    case: Case, event: Text, knowledge: Knowledge, labels: Mapping[str, frozenset[str]]
) -> Event:
    """A typed text that is a button of the open question -- its label in any language, its
    value, or a short answer ("yes", "nein", "skip") that means it -- is that button."""
    shown = [views.delete_confirm()] if case.erase_asked else ask(case, knowledge)
    buttons = [b for say in shown for row in say.buttons for b in row if b.data]
    typed = _fold(event.text)
    language = event.client_language
    for button in buttons:
        assert button.data is not None
        names = {_fold(text) for text in _label_texts(button, labels)}
        if typed and typed in names | {_fold(button.data.partition(":")[2])}:
            return Press(data=button.data, client_language=language, typed=True)
    said = answers.meaning(event.text)
    if said is None:
        return event
    if case.erase_asked:
        if said == "skip":
            return event
        answer = "yes" if said == "yes" else "no"
        return Press(data=f"delete:{answer}", client_language=language, typed=True)
    offered = [b.data for b in buttons if b.data and b.data.partition(":")[0] == case.step.value]
    for value in answers.VALUES[said]:
        for data in offered:
            if data.partition(":")[2] == value:
                return Press(data=data, client_language=language, typed=True)
    return event


def _code_in_chat(case: Case, event: Text, knowledge: Knowledge) -> list[Effect]:
    """A one-time code typed into the chat: it is removed from the chat, the person is told
    never to share Meta's codes with anyone (this bot included) and where the code goes."""
    form_open = case.step in (Step.LETTER, Step.SUBMITTED, Step.CODE, Step.CODE_EXPIRED)
    removed: list[Effect] = (
        [DeleteMessage(message_id=event.message_id)] if event.message_id is not None else []
    )
    warning = Say(message="code_in_chat", context={"form_open": form_open})
    return [*removed, warning, *ask(case, knowledge)]


def _label_texts(button: Button, labels: Mapping[str, frozenset[str]]) -> frozenset[str]:
    """What a button says, in every language (countries and regions by their names)."""
    arg = button.arg or ""
    if button.label == "country":
        return frozenset(country_name(arg, lang) for lang in LANGUAGES)
    if button.label == "region":
        return frozenset(subdivision_names(arg))
    if button.label == "timezone":
        return frozenset({arg.replace("_", " ")})
    if button.label == "language":
        return language_names(arg)
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


def _dispatch(case: Case, event: Event, ctx: Context) -> Outcome:
    spec = STEPS[case.step]
    if isinstance(event, Command) and event.name.lower() == "start" and case.step is Step.NEW:
        started = campaign.parse(event.args) if event.args else None
        if started is not None:
            return _campaign_start(case, started, ctx)
    if isinstance(event, Command):
        return _on_command(case, event.name.lower(), ctx)
    if isinstance(event, MailReport):  # whatever the step: say how the e-mail copy went
        return case, [Say(message="email_sent" if event.ok else "email_failed")]
    if isinstance(event, Reminder):
        return _result(case, (spec.on_reminder or quiet)(case, event.key, ctx), ctx)
    if isinstance(event, Edited):
        raise Rejected("edited_message")
    if isinstance(event, Media):
        if spec.on_media is None:
            raise Rejected("text_expected")
        return _result(case, spec.on_media(case, "", ctx), ctx)
    if case.step is Step.NEW:  # any first word opens the conversation like /start
        return _on_command(case, "start", ctx)
    if isinstance(event, Press):
        return _on_press(case, event.data, ctx)
    assert isinstance(event, Text)
    return _result(case, (spec.on_text or _buttons_only)(case, event.text, ctx), ctx)


def _on_press(case: Case, data: str, ctx: Context) -> Outcome:
    """A button: a command's, an answer to "erase everything?", the country's language offered
    once, or the open question's (anything else is from an earlier question)."""
    owner, _, value = data.partition(":")
    if owner == "command" and value in COMMAND_BUTTONS:
        return _on_command(case, value, ctx)
    if owner == "delete" and value in DELETE_ANSWERS:
        return _on_delete_answer(case, value == "yes", ctx)
    if owner == "lang" and value in LANGUAGES:
        chosen = case.model_copy(update={"language": value})
        said = Say(message="language_set", context={"timezone": chosen.timezone})
        return chosen, [said, *ask(chosen, ctx.knowledge)]
    if owner != case.step.value or not value:
        raise Rejected("stale_button")
    return _result(case, (STEPS[case.step].on_press or stale)(case, value, ctx), ctx)


def _buttons_only(case: Case, text: str, ctx: Context) -> Move | Stay:
    raise Rejected("paused" if case.step is Step.PAUSED else "choose_button")


def _result(case: Case, result: Move | Stay, ctx: Context) -> Outcome:
    if isinstance(result, Stay):
        stayed = case.model_copy(update=result.updates)
        again = ask(stayed, ctx.knowledge) if result.ask_again else []
        return stayed, [*result.effects, *again]
    moved, trigger = case.model_copy(update=result.updates), result.trigger
    if case.changing and TABLE[case.step].get(trigger) in CHANGE_ENDS_AT:
        trigger = Trigger.ANSWER_CHANGED  # the changed answer is given: back to the letter
    return _apply(moved, trigger, ctx)


def _apply(case: Case, trigger: Trigger, ctx: Context) -> Outcome:
    """Move along the table: what leaving the step says, what arriving at the next one does,
    then the next step's question.

    Side steps (language, time zone, pause) are an aside: entering one remembers where the
    person was and does nothing else; "back" (``None`` in ``GLOBAL``) returns there, with what
    leaving the side step says, and does not arrive anew (nothing is re-done or re-scheduled).
    """
    before = case.step
    if trigger in GLOBAL:
        back = GLOBAL[trigger] is None
        target = GLOBAL[trigger] or case.resume_step or Step.PLATFORMS
    else:
        back, target = False, TABLE[before][trigger]
    if target in SIDE_STEPS:
        # From a question, remember it; from another aside (or before anything), keep what
        # was remembered: that is where "back" returns.
        resume = case.resume_step if before in SIDE_STEPS or before is Step.NEW else before
        aside = _moved(case, target).model_copy(update={"resume_step": resume})
        return aside, [*ask(aside, ctx.knowledge)]
    left = STEPS[before].on_leaving(case, trigger, ctx)
    case = _moved(case, target)
    if back:
        case = case.model_copy(update={"resume_step": None})
        return case, [*left, *ask(case, ctx.knowledge)]
    arrival = STEPS[target]
    case, arrived = arrival.on_arrival(case, trigger, ctx)
    again = ask(case, ctx.knowledge) if arrival.asks_on_arrival else []
    return case, [*left, *arrived, *again]


def _moved(case: Case, target: Step) -> Case:
    """The one place a case changes its step; every target comes from TABLE or GLOBAL."""
    return case.model_copy(update={"step": target})


def _on_command(case: Case, name: str, ctx: Context) -> Outcome:
    if name in INFO_COMMANDS:
        return case, [Say(message=INFO_COMMANDS[name], context=ctx.policy.retention())]
    if name not in COMMANDS:
        raise Rejected("unknown_command")
    return COMMANDS[name](case, ctx)


def _start(case: Case, ctx: Context) -> Outcome:
    if case.step is Step.NEW:
        return _apply(case, Trigger.START, ctx)
    if case.step in SIDE_STEPS:
        return _apply(case, Trigger.RESUME, ctx)
    if not any(value not in (None, (), False) for value in case.answers().values()):
        return case, [*ask(case, ctx.knowledge)]  # nothing answered yet: nothing to come back to
    return case, [Say(message="welcome_back"), *ask(case, ctx.knowledge)]


def _campaign_start(case: Case, started: campaign.Campaign, ctx: Context) -> Outcome:
    """/start from a campaign link: counted; its language taken; its platform and country
    given as the answers a person would give (the same steps, checks and messages), and only
    the welcome and what follows the last of them said."""
    if started.language is not None:
        case = case.model_copy(update={"language": started.language})
    case, effects = _apply(case, Trigger.START, ctx)
    welcome = [e for e in effects if isinstance(e, Say) and e.message == "welcome"]
    for answer in (
        f"platforms:{started.platforms}" if started.platforms else None,
        f"country:{started.country}" if started.country else None,
    ):
        if answer is None or answer.partition(":")[0] != case.step.value:
            continue
        try:
            case, effects = _on_press(case, answer, ctx)
        except Rejected:
            break  # not an answer this question takes: the person answers it
    return case, [Tally(campaign=started.name), *welcome, *(e for e in effects if e not in welcome)]


def _protect(case: Case, ctx: Context) -> Outcome:
    return case, [*views.protect(case, ctx.knowledge)]


def _objected_before(case: Case, ctx: Context) -> Outcome:
    """Someone who objected in 2024 or 2025 need not object again."""
    return case, [Say(message="objected_before"), *ask(case, ctx.knowledge)]


def _status(case: Case, ctx: Context) -> Outcome:
    return case, [views.status(case, ctx.knowledge), *ask(case, ctx.knowledge)]


def _delete(case: Case, ctx: Context) -> Outcome:
    return case.model_copy(update={"erase_asked": True}), [views.delete_confirm()]


def _my_data(case: Case, ctx: Context) -> Outcome:
    return case, [views.my_data(case, ctx.knowledge), SendData(case=case)]


def _evidence(case: Case, ctx: Context) -> Outcome:
    """The printable evidence pack (PDF), from /mydata: once there is a text to put in it."""
    if case.letter_written_at is None or case.country is None:
        raise Rejected("evidence_needs_letter")
    return case, [SendEvidence(case=case)]


def _settings(case: Case, ctx: Context) -> Outcome:
    return case, [views.settings(case)]


def _alerts(on: bool) -> Callable[[Case, Context], Outcome]:
    """Change alerts on or off: a message if Meta's forms or the rules for the person's
    country change (the operator sends them; only a yes/no is stored)."""

    def switch(case: Case, ctx: Context) -> Outcome:
        said = Say(message="alerts_on" if on else "alerts_off")
        return case.model_copy(update={"alerts": on}), [said]

    return switch


def _language(case: Case, ctx: Context) -> Outcome:
    return _apply(case, Trigger.LANGUAGE, ctx)


def _timezone(case: Case, ctx: Context) -> Outcome:
    if case.country is None:
        raise Rejected("timezone_needs_country")
    return _apply(case, Trigger.TIMEZONE, ctx)


def _cancel(case: Case, ctx: Context) -> Outcome:
    if case.step not in QUESTION_STEPS:
        raise Rejected("nothing_to_cancel")
    return _apply(case, Trigger.CANCEL, ctx)


#: What each command does (the info commands only answer: ``INFO_COMMANDS``).
COMMANDS: dict[str, Callable[[Case, Context], Outcome]] = {
    "start": _start,
    "protect": _protect,
    "objected_before": _objected_before,
    "status": _status,
    "delete": _delete,
    "mydata": _my_data,
    "language": _language,
    "timezone": _timezone,
    "cancel": _cancel,
    "settings": _settings,
    "evidence": _evidence,
    "alerts_on": _alerts(on=True),
    "alerts_off": _alerts(on=False),
}


def _on_delete_answer(case: Case, erase: bool, ctx: Context) -> Outcome:
    """The answer to "really erase everything?": erase, or carry on where the person was."""
    if not case.erase_asked:  # an answer to an earlier question: erase nothing
        if not erase:
            raise Rejected("stale_button")
        asking = case.model_copy(update={"erase_asked": True})  # so ask again
        return asking, [Say(message="stale_button"), views.delete_confirm()]
    case = case.model_copy(update={"erase_asked": False})
    if not erase:
        return case, [Say(message="delete_kept"), *ask(case, ctx.knowledge)]
    return _apply(case, Trigger.DELETE, ctx)
