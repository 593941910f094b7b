"""Events: everything that can happen to a case, as plain values.

An adapter (Telegram, console, tests) turns its input into one of these; the brain never sees a
Telegram object. ``client_language`` is the language the person's app reports, used only until
the person has a language of their own.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    client_language: str | None = None


class Command(_Event):
    """A slash command, e.g. ``/start`` (name ``start``) with whatever followed it."""

    kind: Literal["command"] = "command"
    name: str
    args: str = ""


class Text(_Event):
    """Typed text that is not a command."""

    kind: Literal["text"] = "text"
    text: str
    #: the chat message it came in, where the shell has one (to remove a shared code)
    message_id: int | None = None


class Press(_Event):
    """A button press. ``data`` is ``"<step>:<value>"`` as the brain put it on the button."""

    kind: Literal["press"] = "press"
    data: str
    #: the person typed the button's label (or a word that means it) instead of tapping it
    typed: bool = False


class Media(_Event):
    """Anything that is not text: a sticker, photo, voice message, file, location…

    ``file_id`` is Telegram's reference for a photo or document (kept as proof when asked for).
    """

    kind: Literal["media"] = "media"
    file_id: str | None = None


class Edited(_Event):
    """The person edited an earlier message. Its new text is not read as an answer: it may
    belong to a question long gone."""

    kind: Literal["edited"] = "edited"


class Reminder(_Event):
    """A scheduled moment arrived. ``key`` is what the brain scheduled; ``due_at`` when it was due
    (the brain compares it with ``now`` to tell a timely reminder from a late one)."""

    kind: Literal["reminder"] = "reminder"
    key: str
    due_at: AwareDatetime


class MailReport(_Event):
    """The shell's word on an e-mail copy: sent, or finally given up."""

    kind: Literal["mail_report"] = "mail_report"
    ok: bool


Event = Annotated[
    Command | Text | Press | Media | Edited | Reminder | MailReport, Field(discriminator="kind")
]
