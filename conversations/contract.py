"""The contract between the machine and the steps: what a step is (``StepSpec``: its question,
what it accepts, what arriving at it and leaving it do), what its handlers get (``Context``,
``Policy``) and what they give back (``Move``, ``Stay``, ``Rejected``).

A handler reads one input and returns a ``Move`` along the transition table (with the
answers to store), a ``Stay`` (same step, maybe changed answers and something to say), or raises
``Rejected`` with the message that explains why the input does not fit. ``StepSpec`` puts them
side by side with the step's question and its arrival and leaving effects, after
aiogram-dialog's ``Window`` (state, view and actions in one place).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from conversations.case import Case, Step
from conversations.effects import Button, Effect, Say
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
    """What every handler and hook gets besides the case: the time, the facts, the input."""

    now: datetime
    knowledge: Knowledge
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
#: Reads one input (a button's value, a typed text, a reminder's key) at the case's step.
Handler = Callable[[Case, str, Context], Result]
#: The step's question: what the person sees while the case is at it.
Question = Callable[[Case, Knowledge], list[Say]]
#: Arriving at the step by ``trigger``: milestones set, reminders scheduled, things said first.
Arrival = Callable[[Case, Trigger, Context], tuple[Case, list[Effect]]]
#: Leaving the step by ``trigger``: what is said or cancelled on the way out.
Leaving = Callable[[Case, Trigger, Context], list[Effect]]


class Rejected(Exception):
    """An input the current step cannot take. Carries the message that explains why."""

    def __init__(
        self, message: str, buttons: tuple[tuple[Button, ...], ...] = (), **context: object
    ) -> None:
        super().__init__(message)
        self.say = Say(message=message, context=dict(context), buttons=buttons)


def stale(case: Case, value: str, ctx: Context) -> Result:
    """A button that belongs to no question the person has open."""
    raise Rejected("stale_button")


def no_question(case: Case, knowledge: Knowledge) -> list[Say]:
    return []


def arrive_quietly(case: Case, trigger: Trigger, ctx: Context) -> tuple[Case, list[Effect]]:
    return case, []


def leave_quietly(case: Case, trigger: Trigger, ctx: Context) -> list[Effect]:
    return []


@dataclass(frozen=True)
class StepSpec:
    """One step in one place. A handler left out means the step does not take that kind of
    input (a press: "stale button"; a text: "please tap a button"; media: "text expected"; a
    reminder: ignored)."""

    step: Step
    question: Question = no_question
    on_press: Handler | None = None
    on_text: Handler | None = None
    on_media: Handler | None = None
    on_reminder: Handler | None = None
    on_arrival: Arrival = arrive_quietly
    #: whether the question follows the arrival's effects (the countdown and the letter are
    #: their own question)
    asks_on_arrival: bool = True
    on_leaving: Leaving = leave_quietly
