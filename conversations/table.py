"""The transition table: step -> trigger -> next step. Data, after h11's ``_state.py``.

The README's diagram is generated from it and tests walk every entry. ``GLOBAL`` holds what
works from every step; ``None`` there means "back to the step the person left" (from the side
step ``BACK_FROM`` names).
"""

from __future__ import annotations

from enum import StrEnum

from conversations.case import Step


class Trigger(StrEnum):
    START = "/start"
    ONE_PLATFORM = "one platform"
    BOTH_PLATFORMS = "both platforms"
    LINKED_ANSWERED = "linked answered"
    COUNTRY_FOUND = "country found"
    COUNTRY_NEEDS_STATE = "country found (USA)"
    STATE_CHOSEN = "state chosen (USA)"
    EMAIL_VALID = "email valid"
    REASONS_DONE = "reasons done"
    WORDS_GIVEN = "own words given"
    WORDS_SKIPPED = "own words skipped"
    EDIT_REASON = "edit reason"
    SUBMITTED = "form submitted"
    CODE_RECEIVED = "code received"
    NO_CODE_NEEDED = "no code needed"
    CODE_TROUBLE = "no code / new code"
    CODE_EXPIRES = "code expires"
    CODE_ENTERED = "code entered"
    CONFIRMED = "Meta confirmed"
    ESCALATE = "refused / deadline passed"
    ESCALATE_ASK_REGION = "refused / deadline passed (Germany)"
    REGION_CHOSEN = "state chosen"
    PROOF_KEPT = "proof kept"
    PROOF_SKIPPED = "proof skipped"
    AUTHORITY_ANSWERED = "authority answered"
    # "Change an answer" at the letter: back to one question, then straight back to the letter
    CHANGE_PLATFORMS = "change platforms"
    CHANGE_COUNTRY = "change country"
    CHANGE_EMAIL = "change e-mail"
    CHANGE_OWN_WORDS = "change own words"
    ANSWER_CHANGED = "answer changed"
    # global
    START_OVER = "start over"
    LANGUAGE = "/language"
    LANGUAGE_CHOSEN = "language chosen"
    TIMEZONE = "/timezone"
    TIMEZONE_CHOSEN = "time zone chosen"
    CANCEL = "/cancel"
    RESUME = "resume"
    DELETE = "/delete"


TABLE: dict[Step, dict[Trigger, Step]] = {
    Step.NEW: {Trigger.START: Step.PLATFORMS},
    Step.PLATFORMS: {Trigger.ONE_PLATFORM: Step.COUNTRY, Trigger.BOTH_PLATFORMS: Step.LINKED},
    Step.LINKED: {Trigger.LINKED_ANSWERED: Step.COUNTRY},
    Step.COUNTRY: {Trigger.COUNTRY_FOUND: Step.EMAIL, Trigger.COUNTRY_NEEDS_STATE: Step.STATE},
    Step.STATE: {Trigger.STATE_CHOSEN: Step.EMAIL},
    Step.EMAIL: {Trigger.EMAIL_VALID: Step.REASONS},
    Step.REASONS: {Trigger.REASONS_DONE: Step.OWN_WORDS},
    Step.OWN_WORDS: {Trigger.WORDS_GIVEN: Step.LETTER, Trigger.WORDS_SKIPPED: Step.LETTER},
    Step.LETTER: {
        Trigger.SUBMITTED: Step.SUBMITTED,
        Trigger.CHANGE_PLATFORMS: Step.PLATFORMS,
        Trigger.CHANGE_COUNTRY: Step.COUNTRY,
        Trigger.CHANGE_EMAIL: Step.EMAIL,
        Trigger.EDIT_REASON: Step.REASONS,
        Trigger.CHANGE_OWN_WORDS: Step.OWN_WORDS,
    },
    Step.SUBMITTED: {Trigger.CODE_RECEIVED: Step.CODE, Trigger.NO_CODE_NEEDED: Step.WAITING},
    Step.CODE: {
        Trigger.CODE_ENTERED: Step.WAITING,
        Trigger.CODE_EXPIRES: Step.CODE_EXPIRED,
        Trigger.CODE_TROUBLE: Step.SUBMITTED,
    },
    Step.CODE_EXPIRED: {Trigger.CODE_RECEIVED: Step.CODE, Trigger.CODE_ENTERED: Step.WAITING},
    Step.WAITING: {
        Trigger.CONFIRMED: Step.PROOF,
        Trigger.ESCALATE: Step.ESCALATED,
        Trigger.ESCALATE_ASK_REGION: Step.REGION,
    },
    Step.REGION: {Trigger.REGION_CHOSEN: Step.ESCALATED},
    Step.ESCALATED: {Trigger.CONFIRMED: Step.PROOF, Trigger.AUTHORITY_ANSWERED: Step.DONE},
    Step.PROOF: {Trigger.PROOF_KEPT: Step.DONE, Trigger.PROOF_SKIPPED: Step.DONE},
    Step.DONE: {},
    Step.LANGUAGE: {},
    Step.TIMEZONE: {},
    Step.PAUSED: {},
}

GLOBAL: dict[Trigger, Step | None] = {
    Trigger.START_OVER: Step.PLATFORMS,
    Trigger.ANSWER_CHANGED: Step.LETTER,
    Trigger.LANGUAGE: Step.LANGUAGE,
    Trigger.LANGUAGE_CHOSEN: None,
    Trigger.TIMEZONE: Step.TIMEZONE,
    Trigger.TIMEZONE_CHOSEN: None,
    Trigger.CANCEL: Step.PAUSED,
    Trigger.RESUME: None,
    Trigger.DELETE: Step.NEW,
}

#: While an answer is being changed ("Change an answer" at the letter), a move on to one of
#: these questions -- the next answer, which is already given -- goes back to the letter
#: instead (``ANSWER_CHANGED``): only the changed answer is asked, with what belongs to it (the
#: linked accounts for both platforms, the US state for the USA).
CHANGE_ENDS_AT = frozenset({Step.COUNTRY, Step.EMAIL, Step.REASONS, Step.OWN_WORDS})

#: Side steps that return to where the person was.
SIDE_STEPS = frozenset({Step.LANGUAGE, Step.TIMEZONE, Step.PAUSED})

#: The side step each "back to where you were" trigger ends (the diagram draws it from there).
BACK_FROM: dict[Trigger, Step] = {
    Trigger.LANGUAGE_CHOSEN: Step.LANGUAGE,
    Trigger.TIMEZONE_CHOSEN: Step.TIMEZONE,
    Trigger.RESUME: Step.PAUSED,
}

#: Steps that ask a question, i.e. that /cancel can leave and /language can come back to.
QUESTION_STEPS = frozenset(TABLE) - {Step.NEW} - SIDE_STEPS
