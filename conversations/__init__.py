"""The brain of optout-bot: the journey as a pure function, its data, and its vocabulary.

``step(case, event, now, knowledge) -> (case, effects)`` is the whole conversation. No I/O, no
clock, no prose: the shell (``bot/``) hands in the knowledge and the time, carries out the
effects, and renders the messages they name. The shell imports only what is listed here.
"""

from conversations.case import Case, Proof, Reason, Step
from conversations.checks import checked_email, checked_own_words
from conversations.contract import Policy, Rejected
from conversations.countries import (
    country_index,
    country_name,
    is_country,
    language_name,
    normalize,
    subdivision_names,
)
from conversations.countries import resolve as resolve_country
from conversations.diagram import mermaid
from conversations.effects import (
    MESSAGE_KINDS,
    Button,
    Cancel,
    DeleteMessage,
    Effect,
    Forget,
    LetterKind,
    Notice,
    Say,
    Schedule,
    SendCalendar,
    SendData,
    SendEmail,
    SendEvidence,
    SendLetter,
    Tally,
)
from conversations.events import Command, Edited, Event, MailReport, Media, Press, Reminder, Text
from conversations.knowledge import (
    LANGUAGES,
    RIGHT_TO_LEFT,
    Knowledge,
    Platform,
    babel_locale,
    catalog_file,
    parsed_catalog,
    supported_language,
)
from conversations.knowledge import load as load_knowledge
from conversations.law import complaint_language, writes_complaint
from conversations.letter import context as letter_context
from conversations.letter import template_names as letter_templates
from conversations.letter import written_in as letter_language
from conversations.machine import step
from conversations.stats import Stats, shown, summarize
from conversations.steps import ask
from conversations.timekeeping import (
    CODE_LEFT,
    authority_report_due,
    code_validity,
    deadline,
    default_zone,
)
from conversations.views import checkin, delete_confirm

__all__ = [
    "CODE_LEFT",
    "LANGUAGES",
    "MESSAGE_KINDS",
    "RIGHT_TO_LEFT",
    "Button",
    "Cancel",
    "Case",
    "Command",
    "DeleteMessage",
    "Edited",
    "Effect",
    "Event",
    "Forget",
    "Knowledge",
    "LetterKind",
    "MailReport",
    "Media",
    "Notice",
    "Platform",
    "Policy",
    "Press",
    "Proof",
    "Reason",
    "Rejected",
    "Reminder",
    "Say",
    "Schedule",
    "SendCalendar",
    "SendData",
    "SendEmail",
    "SendEvidence",
    "SendLetter",
    "Stats",
    "Step",
    "Tally",
    "Text",
    "ask",
    "authority_report_due",
    "babel_locale",
    "catalog_file",
    "checked_email",
    "checked_own_words",
    "checkin",
    "code_validity",
    "complaint_language",
    "country_index",
    "country_name",
    "deadline",
    "default_zone",
    "delete_confirm",
    "is_country",
    "language_name",
    "letter_context",
    "letter_language",
    "letter_templates",
    "load_knowledge",
    "mermaid",
    "normalize",
    "parsed_catalog",
    "resolve_country",
    "shown",
    "step",
    "subdivision_names",
    "summarize",
    "supported_language",
    "writes_complaint",
]
