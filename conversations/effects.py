"""Effects: what the brain wants done, as plain values the shell carries out.

Messages are named, never written here: ``Say("ask_country", …)`` names the template
``templates/chat/ask_country.html.j2``; button labels are keys into ``templates/chat/_labels.j2``.
Effects are stored in the outbox as JSON, so every field is a plain, serialisable value.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from conversations.case import Case


class Button(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str  # key in templates/chat/_labels.j2
    data: str | None = None  # callback data "<step>:<value>", at most 64 bytes
    url: str | None = None  # a link button instead of a callback
    arg: str | None = None  # a value the label shows, e.g. a country code
    selected: bool = False  # shown with a check mark (multiple choice)


class Say(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["say"] = "say"
    message: str
    context: dict[str, Any] = {}
    buttons: tuple[tuple[Button, ...], ...] = ()


class SendLetter(BaseModel):
    """Send the objection text: copyable in chat and as a .txt document."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["letter"] = "letter"
    case: Case


class Forget(BaseModel):
    """Erase everything stored about this chat."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["forget"] = "forget"
    chat_id: int


Effect = Annotated[Say | SendLetter | Forget, Field(discriminator="kind")]
