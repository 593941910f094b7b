"""Effects: what the brain wants done, as plain values the shell carries out.

Messages are named, never written here: ``Say("ask_country", …)`` names the template
``templates/chat/ask_country.html.j2``; button labels are keys into ``templates/chat/_labels.j2``.
Effects are stored in the outbox as JSON, so every field is a plain, serialisable value.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from conversations.case import Case, Step


class Button(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str  # key in templates/chat/_labels.j2
    data: str | None = None  # callback data "<step>:<value>", at most 64 bytes
    url: str | None = None  # a link button instead of a callback
    arg: str | None = None  # a value the label shows, e.g. a country code
    selected: bool = False  # shown with a check mark (multiple choice)


@cache  # buttons are immutable values from a small vocabulary: each is built once
def press(
    owner: Step, value: str, label: str, *, arg: str | None = None, selected: bool = False
) -> Button:
    """A button of ``owner``'s question: its data is ``"<step>:<value>"``, so a press on it
    once the person has moved on is recognised as stale."""
    return Button(label=label, data=f"{owner.value}:{value}", arg=arg, selected=selected)


#: Delivery order when messages queue up: a person waiting for a reply first, then the code
#: countdown, then check-ins.
#: How soon a message must go: a reply first, then the countdown, check-ins, broadcasts.
Urgency = Literal["reply", "countdown", "checkin", "broadcast"]


class Say(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["say"] = "say"
    message: str
    context: dict[str, Any] = {}
    buttons: tuple[tuple[Button, ...], ...] = ()
    urgency: Urgency = "reply"
    #: a named message (the countdown): the message sent is remembered under this name ...
    slot: str | None = None
    #: ... and with ``edit`` the remembered message is edited in place instead of re-sent
    edit: bool = False
    #: a time-bound message ("4 minutes left") is not sent after this moment ...
    valid_until: AwareDatetime | None = None
    #: ... instead this reminder key is run again, so the person gets what fits then
    refresh: str | None = None


LetterKind = Literal["objection", "followup", "complaint"]


class _AboutCase(BaseModel):
    """A message made from the whole case (rendered when it is delivered)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    case: Case
    urgency: Urgency = "reply"


class SendLetter(_AboutCase):
    """Send a text the person sends on: copyable in chat and as a .txt document."""

    kind: Literal["letter"] = "letter"
    letter: LetterKind = "objection"
    #: shown under the text: the form to paste it into, so the person can act at once
    buttons: tuple[tuple[Button, ...], ...] = ()
    #: the language it is written in, where it is not the person's (the authority's)
    language: str | None = None
    #: a copy in the person's language of a text they send in another, to know what they sign
    reader_copy: bool = False


class SendCalendar(_AboutCase):
    """An .ics file with the case's dates (code expiry, Meta's deadline, the authority's)."""

    kind: Literal["calendar"] = "calendar"


class SendEmail(_AboutCase):
    """E-mail the objection text, the form links and the help to the case's own address."""

    kind: Literal["email"] = "email"


class SendEvidence(_AboutCase):
    """A printable PDF: the complaint to sign (where one is written), the case's timeline, and
    the objection, the follow-up and Meta's answer as annexes -- an evidence pack."""

    kind: Literal["evidence"] = "evidence"


class SendData(_AboutCase):
    """Everything stored about the person, as a JSON document (/mydata)."""

    kind: Literal["data"] = "data"


class Notice(BaseModel):
    """A short notice on the button just tapped (Telegram shows it over the chat and keeps
    nothing): for a tap that needs no new message, such as a button of an earlier question."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["notice"] = "notice"
    message: str


class DeleteMessage(BaseModel):
    """Remove one of the person's own messages from the chat (a code they should not have
    shared): the bot may delete incoming messages in a private chat."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["delete"] = "delete"
    message_id: int


class Schedule(BaseModel):
    """Feed ``Reminder(key)`` back to the brain at ``due_at`` (replaces one with the same key)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["schedule"] = "schedule"
    key: str
    due_at: AwareDatetime


class Cancel(BaseModel):
    """Drop scheduled reminders by key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["cancel"] = "cancel"
    keys: tuple[str, ...]


class Forget(BaseModel):
    """Erase everything stored about this chat."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["forget"] = "forget"
    chat_id: int


class Tally(BaseModel):
    """Count one more start from a campaign link (a number per campaign, nobody's name)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["tally"] = "tally"
    campaign: str


Effect = Annotated[
    Say
    | SendLetter
    | SendCalendar
    | SendData
    | SendEmail
    | SendEvidence
    | Notice
    | DeleteMessage
    | Schedule
    | Cancel
    | Forget
    | Tally,
    Field(discriminator="kind"),
]

#: Effects that travel through the outbox: messages to the person, and the one call that
#: removes a message of theirs (the rest change stored state, or answer the tap itself).
MESSAGE_KINDS = ("say", "letter", "calendar", "data", "email", "evidence", "delete")
