"""Handlers that several steps share: the buttons shown on more than one question."""

from __future__ import annotations

from conversations import views
from conversations.case import Case, Step
from conversations.contract import Context, Move, Rejected, Result, Stay, Updates
from conversations.effects import Button, Effect, Say, SendCalendar, SendLetter, press
from conversations.knowledge import Knowledge
from conversations.table import Trigger


def on_common_press(case: Case, value: str, ctx: Context) -> Result:
    """Start over (once the person said yes), the protect-your-data checklist, show the text
    again."""
    if value == "start_over":
        return Stay(effects=[start_over_confirm(case)], ask_again=False)
    if value == "start_over_yes":
        return Move(Trigger.START_OVER, cleared())
    if value == "start_over_no":
        return Stay()
    if value == "protect":
        return Stay(effects=[*views.protect(case, ctx.knowledge)], ask_again=False)
    if value == "show_letter" and case.letter_written_at is not None:
        at_letter = case.step is Step.LETTER
        links = form_links(case, ctx.knowledge) if at_letter else ()
        offer = email_offer(ctx) if at_letter else []
        return Stay(effects=[SendLetter(case=case, buttons=links), *offer])
    raise Rejected("stale_button")


def start_over_confirm(case: Case) -> Say:
    """Starting over erases the answers: asked first, from whichever step offers it."""
    s = case.step
    return Say(
        message="start_over_confirm",
        buttons=(
            (press(s, "start_over_yes", "start_over.yes"),),
            (press(s, "start_over_no", "start_over.no"),),
        ),
    )


def form_keys(case: Case, knowledge: Knowledge) -> list[str]:
    """The forms for the case's platforms, each once (where both platforms share one form,
    it is offered once)."""
    assert case.country is not None
    j = knowledge.jurisdiction_for(case.country, case.region)
    return list(dict.fromkeys(j.forms[p] for p in case.platforms))


def form_links(case: Case, knowledge: Knowledge) -> tuple[tuple[Button, ...], ...]:
    """The buttons that open the form(s), shown under the text to paste into them."""
    return tuple(
        (
            Button(
                label="form.open", arg=knowledge.forms[key].platform, url=knowledge.forms[key].url
            ),
        )
        for key in form_keys(case, knowledge)
    )


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
