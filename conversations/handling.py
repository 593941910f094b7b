"""What a step handler gets and gives back.

A handler reads one input for the current step and returns a ``Move`` along the transition
table (with the answers to store), a ``Stay`` (same step, maybe changed answers and something
to say), or raises ``Rejected`` with the message that explains why the input does not fit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from conversations.case import Case
from conversations.effects import Effect, Say
from conversations.events import Event
from conversations.knowledge import Knowledge
from conversations.table import Trigger

Updates = dict[str, object]


@dataclass(frozen=True)
class Policy:
    """What the operator decided (from settings), as far as the conversation needs to know."""

    email_enabled: bool = False  # an SMTP server is configured: offer "E-mail me this text"
    emails_per_day: int = 3
    retention_closed_days: int = 30  # personal data kept this long after a case is closed
    retention_inactive_days: int = 120  # ... and this long after the last activity

    def retention(self) -> dict[str, int]:
        return {
            "closed_days": self.retention_closed_days,
            "inactive_days": self.retention_inactive_days,
        }


@dataclass(frozen=True)
class Context:
    now: datetime
    k: Knowledge
    event: Event
    policy: Policy = field(default_factory=Policy)


@dataclass(frozen=True)
class Move:
    trigger: Trigger
    updates: Updates = field(default_factory=dict)


@dataclass(frozen=True)
class Stay:
    """Same step. ``ask_again``: repeat the step's question after ``effects``."""

    updates: Updates = field(default_factory=dict)
    effects: list[Effect] = field(default_factory=list)
    ask_again: bool = True


Result = Move | Stay
Handler = Callable[[Case, str, Context], Result]


class Rejected(Exception):
    """An input the current step cannot take. Carries the message that explains why."""

    def __init__(self, message: str, **context: object) -> None:
        super().__init__(message)
        self.say = Say(message=message, context=dict(context))


def stale(case: Case, value: str, ctx: Context) -> Result:
    raise Rejected("stale_button")
