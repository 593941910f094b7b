"""The conversation as a state machine: ``step(case, event, now) -> (case, effects)``.

Rules of this module (after h11's ``_state.py``):
- The journey is the transition table ``TABLE`` below: step -> trigger -> next step. It is data:
  the README's diagram is generated from it and tests walk it. ``GLOBAL`` holds the commands that
  work from every step.
- A handler reads the input and names a trigger (plus the answers to store), or rejects it. A
  rejected input is answered with a friendly message and the question again; the case is returned
  unchanged, so nothing answered before is ever lost.
- No I/O, no clock (``now`` is passed in), no prose: messages and labels are names of templates.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from email_validator import EmailNotValidError, validate_email

from conversations import countries, questions
from conversations.case import OWN_WORDS_MAX_CHARS, Case, Reason, Step
from conversations.effects import Effect, Forget, Say, SendLetter
from conversations.events import Command, Event, Media, Press, Text
from conversations.knowledge import LANGUAGES, Knowledge, Platform
from conversations.knowledge import load as load_knowledge

DEFAULT_LANGUAGE = "en"


class Trigger(StrEnum):
    ONE_PLATFORM = "one platform"
    BOTH_PLATFORMS = "both platforms"
    LINKED_ANSWERED = "linked answered"
    COUNTRY_FOUND = "country found"
    EMAIL_VALID = "email valid"
    REASONS_DONE = "reasons done"
    WORDS_GIVEN = "own words given"
    WORDS_SKIPPED = "own words skipped"
    EDIT_REASON = "edit reason"
    SUBMITTED = "form submitted"
    START = "/start"
    # global
    START_OVER = "start over"
    LANGUAGE = "/language"
    LANGUAGE_CHOSEN = "language chosen"
    CANCEL = "/cancel"
    RESUME = "resume"
    DELETE = "/delete"


#: The journey. Step -> trigger -> next step.
TABLE: dict[Step, dict[Trigger, Step]] = {
    Step.NEW: {Trigger.START: Step.PLATFORMS},
    Step.PLATFORMS: {Trigger.ONE_PLATFORM: Step.COUNTRY, Trigger.BOTH_PLATFORMS: Step.LINKED},
    Step.LINKED: {Trigger.LINKED_ANSWERED: Step.COUNTRY},
    Step.COUNTRY: {Trigger.COUNTRY_FOUND: Step.EMAIL},
    Step.EMAIL: {Trigger.EMAIL_VALID: Step.REASONS},
    Step.REASONS: {Trigger.REASONS_DONE: Step.OWN_WORDS},
    Step.OWN_WORDS: {Trigger.WORDS_GIVEN: Step.LETTER, Trigger.WORDS_SKIPPED: Step.LETTER},
    Step.LETTER: {Trigger.EDIT_REASON: Step.REASONS, Trigger.SUBMITTED: Step.SUBMITTED},
    Step.SUBMITTED: {},
    Step.LANGUAGE: {},
    Step.PAUSED: {},
}

#: Commands and buttons that work from (almost) every step. ``None`` means "back where you were".
GLOBAL: dict[Trigger, Step | None] = {
    Trigger.START_OVER: Step.PLATFORMS,
    Trigger.LANGUAGE: Step.LANGUAGE,
    Trigger.LANGUAGE_CHOSEN: None,
    Trigger.CANCEL: Step.PAUSED,
    Trigger.RESUME: None,
    Trigger.DELETE: Step.NEW,
}

#: Steps that ask a question, i.e. that /cancel can leave and /language can come back to.
QUESTION_STEPS = frozenset(TABLE) - {Step.NEW, Step.LANGUAGE, Step.PAUSED}

#: Commands that only answer, without touching the case.
INFO_COMMANDS = {"help": "help", "privacy": "privacy"}

Outcome = tuple[Case, list[Effect]]


class Rejected(Exception):
    """An input the current step cannot take. Carries the message that explains why."""

    def __init__(self, message: str, **context: object) -> None:
        super().__init__(message)
        self.say = Say(message=message, context=dict(context))


def step(case: Case, event: Event, now: datetime, knowledge: Knowledge | None = None) -> Outcome:
    """The whole conversation: one event in, the new case and what to do out."""
    k = knowledge or load_knowledge()
    if case.language is None:
        case = case.model_copy(update={"language": _supported(event.client_language)})
    try:
        new_case, effects = _dispatch(case, event, now, k)
    except Rejected as rejected:
        return case, [rejected.say, *questions.ask(case, k)]
    if new_case != case:
        new_case = new_case.model_copy(update={"updated_at": now})
    return new_case, effects


def _supported(language: str | None) -> str:
    base = (language or "").split("-")[0].lower()
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


def _dispatch(case: Case, event: Event, now: datetime, k: Knowledge) -> Outcome:
    if isinstance(event, Command):
        return _on_command(case, event.name.lower(), now, k)
    if isinstance(event, Media):
        raise Rejected("text_expected")
    if case.step is Step.NEW:  # any first word opens the conversation like /start
        return _on_command(case, "start", now, k)
    if isinstance(event, Press):
        owner, _, value = event.data.partition(":")
        if owner != case.step.value or not value:
            raise Rejected("stale_button")
        result = _handler(case.step, "press")(case, value, k)
    else:
        assert isinstance(event, Text)
        result = _handler(case.step, "text")(case, event.text, k)
    if isinstance(result, Stay):
        stayed = case.model_copy(update=result.updates)
        shown: list[Effect] = [SendLetter(case=stayed)] if result.resend_letter else []
        return stayed, [*shown, *questions.ask(stayed, k)]
    trigger, updates = result
    return _apply(case.model_copy(update=updates), trigger, now, k)


def _apply(case: Case, trigger: Trigger, now: datetime, k: Knowledge) -> Outcome:
    """Move along the table and say what the new step needs said."""
    if trigger in GLOBAL:
        target = GLOBAL[trigger] or case.resume_step or Step.PLATFORMS
    else:
        target = TABLE[case.step][trigger]
    before = case.step
    case = case.model_copy(update={"step": target})
    effects: list[Effect] = []
    if trigger is Trigger.COUNTRY_FOUND:
        effects.append(questions.country_confirmed(case, k))
    if target is Step.LETTER and before is not Step.LETTER:
        case = case.model_copy(update={"letter_written_at": now, "reasons_done": True})
        effects.append(SendLetter(case=case))
        effects.append(questions.form_help(case, k))
        return case, effects
    if trigger is Trigger.SUBMITTED:
        case = case.model_copy(update={"form_submitted_at": now})
    if trigger is Trigger.LANGUAGE_CHOSEN:
        effects.append(Say(message="language_set"))
        if case.resume_step is None:  # chose a language before anything else: welcome first
            effects.append(Say(message="welcome"))
    if target in (Step.LANGUAGE, Step.PAUSED):
        case = case.model_copy(update={"resume_step": before})
    elif trigger in (Trigger.RESUME, Trigger.LANGUAGE_CHOSEN):
        case = case.model_copy(update={"resume_step": None})
    return case, [*effects, *questions.ask(case, k)]


# -- commands --------------------------------------------------------------------------------


def _on_command(case: Case, name: str, now: datetime, k: Knowledge) -> Outcome:
    if name in INFO_COMMANDS:
        return case, [Say(message=INFO_COMMANDS[name])]
    if name == "start":
        if case.step is Step.NEW:
            welcome = Say(message="welcome")
            case = case.model_copy(update={"step": Step.PLATFORMS})
            return case, [welcome, *questions.ask(case, k)]
        if case.step in (Step.PAUSED, Step.LANGUAGE):
            return _apply(case, Trigger.RESUME, now, k)
        return case, [Say(message="welcome_back"), *questions.ask(case, k)]
    if name == "status":
        return case, [questions.status(case, k), *questions.ask(case, k)]
    if name == "delete":
        fresh = Case.new(case.chat_id, now).model_copy(update={"language": case.language})
        return fresh, [Forget(chat_id=case.chat_id), Say(message="deleted")]
    if name == "language":
        if case.step is Step.LANGUAGE:
            return case, [*questions.ask(case, k)]
        if case.step in (Step.PAUSED, Step.NEW):
            # Keep where a paused person was (or nothing, for a new one): that is where we return.
            asking = case.model_copy(update={"step": Step.LANGUAGE})
            return asking, [*questions.ask(asking, k)]
        return _apply(case, Trigger.LANGUAGE, now, k)
    if name == "cancel":
        if case.step not in QUESTION_STEPS:
            raise Rejected("nothing_to_cancel")
        return _apply(case, Trigger.CANCEL, now, k)
    raise Rejected("unknown_command")


# -- step handlers: (case, input, knowledge) -> a move along the table, or a stay ------------

Updates = dict[str, object]


@dataclass(frozen=True)
class Stay:
    """Same step, some answers changed (a multiple-choice toggle) or the letter shown again."""

    updates: Updates
    resend_letter: bool = False


Result = tuple[Trigger, Updates] | Stay
Handler = Callable[[Case, str, Knowledge], Result]


def _on_platforms_press(case: Case, value: str, k: Knowledge) -> Result:
    if value == "both":
        return Trigger.BOTH_PLATFORMS, {"platforms": (Platform.FACEBOOK, Platform.INSTAGRAM)}
    if value in (Platform.FACEBOOK, Platform.INSTAGRAM):
        return Trigger.ONE_PLATFORM, {"platforms": (Platform(value),), "linked_accounts": None}
    raise Rejected("stale_button")


def _on_linked_press(case: Case, value: str, k: Knowledge) -> Result:
    answers = {"yes": True, "no": False, "unsure": None}
    if value not in answers:
        raise Rejected("stale_button")
    return Trigger.LINKED_ANSWERED, {"linked_accounts": answers[value]}


def _on_country_press(case: Case, value: str, k: Knowledge) -> Result:
    if not countries.is_country(value):
        raise Rejected("stale_button")
    return Trigger.COUNTRY_FOUND, {"country": value}


def _on_country_text(case: Case, text: str, k: Knowledge) -> Result:
    found = countries.resolve(text, k)
    if found.code is None:
        raise Rejected("country_unknown", suggestions=list(found.suggestions))
    return Trigger.COUNTRY_FOUND, {"country": found.code}


#: RFC 5321 limits an address to 254 characters; anything longer is not worth parsing.
EMAIL_MAX_CHARS = 254


def _on_email_text(case: Case, text: str, k: Knowledge) -> Result:
    candidate = text.strip()
    if len(candidate) > EMAIL_MAX_CHARS or any(c.isspace() for c in candidate):
        raise Rejected("email_invalid")
    try:
        checked = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError:
        raise Rejected("email_invalid") from None
    return Trigger.EMAIL_VALID, {"email": checked.normalized}


def _on_reasons_press(case: Case, value: str, k: Knowledge) -> Result:
    if value == "done":
        return Trigger.REASONS_DONE, {}
    try:
        reason = Reason(value)
    except ValueError:
        raise Rejected("stale_button") from None
    chosen = [r for r in case.reasons if r is not reason]
    if reason not in case.reasons:
        chosen.append(reason)
    # Stay on this step: a toggle is not a transition, it only re-draws the question.
    return Stay({"reasons": tuple(r for r in Reason if r in chosen)})


def _on_own_words_press(case: Case, value: str, k: Knowledge) -> Result:
    if value == "skip":
        return Trigger.WORDS_SKIPPED, {"own_words": None}
    if value == "keep" and case.own_words:
        return Trigger.WORDS_SKIPPED, {}
    raise Rejected("stale_button")


def _on_own_words_text(case: Case, text: str, k: Knowledge) -> Result:
    words = text.strip()
    if not words:
        raise Rejected("own_words_empty")
    if len(words) > OWN_WORDS_MAX_CHARS:
        raise Rejected("own_words_too_long", length=len(words), limit=OWN_WORDS_MAX_CHARS)
    if any(_is_invisible_control(c) for c in words):
        raise Rejected("own_words_control_chars")
    return Trigger.WORDS_GIVEN, {"own_words": words}


def _is_invisible_control(char: str) -> bool:
    """Control and bidi-override characters would make the letter read differently than shown."""
    return char not in "\n\t" and unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co")


def _on_letter_press(case: Case, value: str, k: Knowledge) -> Result:
    if value == "edit_reason":
        return Trigger.EDIT_REASON, {}
    if value == "submitted":
        return Trigger.SUBMITTED, {}
    return _on_common_press(case, value, k)


def _on_common_press(case: Case, value: str, k: Knowledge) -> Result:
    """Buttons that several steps show: start over, show the text again."""
    if value == "start_over":
        return Trigger.START_OVER, _cleared()
    if value == "show_letter" and case.letter_written_at is not None:
        return Stay({}, resend_letter=True)
    raise Rejected("stale_button")


def _on_language_press(case: Case, value: str, k: Knowledge) -> Result:
    if value not in LANGUAGES:
        raise Rejected("stale_button")
    return Trigger.LANGUAGE_CHOSEN, {"language": value}


def _on_paused_press(case: Case, value: str, k: Knowledge) -> Result:
    if value == "resume":
        return Trigger.RESUME, {}
    raise Rejected("stale_button")


def _buttons_only(case: Case, text: str, k: Knowledge) -> Result:
    raise Rejected("paused" if case.step is Step.PAUSED else "choose_button")


def _reasons_text(case: Case, text: str, k: Knowledge) -> Result:
    raise Rejected("reasons_hint")


def _cleared() -> Updates:
    """Start over: forget the answers, keep the language."""
    return {
        "platforms": (),
        "linked_accounts": None,
        "country": None,
        "email": None,
        "reasons": (),
        "own_words": None,
        "reasons_done": False,
        "letter_written_at": None,
        "form_submitted_at": None,
        "resume_step": None,
    }


_HANDLERS: dict[tuple[Step, str], Handler] = {
    (Step.PLATFORMS, "press"): _on_platforms_press,
    (Step.LINKED, "press"): _on_linked_press,
    (Step.COUNTRY, "press"): _on_country_press,
    (Step.COUNTRY, "text"): _on_country_text,
    (Step.EMAIL, "text"): _on_email_text,
    (Step.REASONS, "press"): _on_reasons_press,
    (Step.REASONS, "text"): _reasons_text,
    (Step.OWN_WORDS, "press"): _on_own_words_press,
    (Step.OWN_WORDS, "text"): _on_own_words_text,
    (Step.LETTER, "press"): _on_letter_press,
    (Step.SUBMITTED, "press"): _on_common_press,
    (Step.LANGUAGE, "press"): _on_language_press,
    (Step.PAUSED, "press"): _on_paused_press,
}


def _handler(current: Step, kind: str) -> Handler:
    default = _buttons_only if kind == "text" else _stale
    return _HANDLERS.get((current, kind), default)


def _stale(case: Case, value: str, k: Knowledge) -> Result:
    raise Rejected("stale_button")
