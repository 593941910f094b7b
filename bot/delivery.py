"""Delivery policy: how each message the brain asks for travels to the person.

Rules:
- Every message is one outbox row per Bot API call ("part"), so retrying one call never repeats
  another: a letter is its chat message and then its ``.txt`` document, two deliveries.
- The lane says who carries it: ``chat`` (Telegram, rate-limited) or ``mail`` (SMTP).
- The priority orders waiting chats: a person waiting for a reply first, then the code
  countdown, then check-ins, then the operator's broadcasts. Within one chat nothing is ever
  reordered.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from conversations import MESSAGE_KINDS, Effect

Lane = Literal["chat", "mail"]

#: An outbox row's priority per urgency: lower is sent first.
PRIORITY = {"reply": 0, "countdown": 1, "checkin": 2, "broadcast": 3}

#: Reminder keys the sender leaves for the inbox, due at once: how an e-mail copy ended. The
#: inbox hands them to the brain as ``MailReport`` events (they never reach it as reminders).
MAIL_SENT, MAIL_FAILED = "mail:sent", "mail:failed"

#: The Bot API calls a message kind takes, in order; kinds not listed take one.
PARTS: dict[str, tuple[str, ...]] = {"letter": ("message", "file")}
SINGLE = ("whole",)
#: The part number of rows queued before messages were split into parts: every part, in one go.
ALL_PARTS = -1


@dataclass(frozen=True)
class Delivery:
    effect: Effect
    priority: int
    lane: Lane
    part: int


def plan(effects: Iterable[Effect]) -> list[Delivery]:
    """The outbox rows for a step's effects (effects that are not messages have none)."""
    rows = []
    for effect in effects:
        if effect.kind not in MESSAGE_KINDS:
            continue
        priority = PRIORITY[getattr(effect, "urgency", "reply")]
        lane: Lane = "mail" if effect.kind == "email" else "chat"
        for part in range(len(PARTS.get(effect.kind, SINGLE))):
            rows.append(Delivery(effect, priority, lane, part))
    return rows


def parts(kind: str, part: int) -> tuple[str, ...]:
    """The names of the calls one outbox row makes."""
    names = PARTS.get(kind, SINGLE)
    return names if part == ALL_PARTS else (names[part],)
