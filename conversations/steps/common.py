"""Handlers that several steps share: the buttons shown on more than one question."""

from __future__ import annotations

from conversations import views
from conversations.case import Case, Step
from conversations.contract import Context, Move, Rejected, Result, Stay, Updates
from conversations.effects import Button, Effect, Say, SendCalendar, SendLetter
from conversations.table import Trigger


def on_common_press(case: Case, value: str, ctx: Context) -> Result:
    """Start over, the protect-your-data checklist, show the text again."""
    if value == "start_over":
        return Move(Trigger.START_OVER, cleared())
    if value == "protect":
        return Stay(effects=[views.protect(case, ctx.knowledge)], ask_again=False)
    if value == "show_letter" and case.letter_written_at is not None:
        offer = email_offer(ctx) if case.step is Step.LETTER else []
        return Stay(effects=[SendLetter(case=case), *offer])
    raise Rejected("stale_button")


def cleared() -> Updates:
    """Start over: forget the answers and the timeline, keep the language and time zone."""
    keep = {"chat_id", "language", "timezone", "created_at", "updated_at", "step"}
    return {name: f.default for name, f in Case.model_fields.items() if name not in keep}


def email_offer(ctx: Context) -> list[Effect]:
    """The "E-mail me this text" button, where the operator configured an SMTP server."""
    if not ctx.policy.email_enabled:
        return []
    button = Button(label="email.offer", data="letter:email")
    return [Say(message="email_offer", buttons=((button,),))]


def calendar(case: Case) -> Stay:
    """The case's dates as an .ics file."""
    return Stay(effects=[SendCalendar(case=case)], ask_again=False)
