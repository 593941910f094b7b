"""What the bot says at each step: the question, its buttons, and a few fixed answers.

Names only: every ``Say`` names a template in ``templates/chat/`` and every button a label key in
``templates/chat/_labels.j2``. Button data is ``"<step>:<value>"`` so that a press on an old
message's button can be recognised as stale.
"""

from __future__ import annotations

from conversations.case import OWN_WORDS_MAX_CHARS, Case, Reason, Step
from conversations.effects import Button, Say
from conversations.knowledge import LANGUAGES, Knowledge, Platform

COUNTRY_BUTTONS_PER_ROW = 3


def _press(
    owner: Step, value: str, label: str, *, arg: str | None = None, selected: bool = False
) -> Button:
    return Button(label=label, data=f"{owner.value}:{value}", arg=arg, selected=selected)


def ask(case: Case, k: Knowledge) -> list[Say]:
    """The question for the case's current step, with its buttons (nothing for a new case)."""
    s = case.step
    if s is Step.PLATFORMS:
        return [
            Say(
                message="ask_platforms",
                buttons=(
                    (
                        _press(s, Platform.FACEBOOK, "platform.facebook"),
                        _press(s, Platform.INSTAGRAM, "platform.instagram"),
                    ),
                    (_press(s, "both", "platform.both"),),
                ),
            )
        ]
    if s is Step.LINKED:
        return [
            Say(
                message="ask_linked",
                buttons=(
                    (_press(s, "yes", "linked.yes"),),
                    (_press(s, "no", "linked.no"),),
                    (_press(s, "unsure", "linked.unsure"),),
                ),
            )
        ]
    if s is Step.COUNTRY:
        codes = k.common_countries
        rows = tuple(
            tuple(_press(s, c, "country", arg=c) for c in codes[i : i + COUNTRY_BUTTONS_PER_ROW])
            for i in range(0, len(codes), COUNTRY_BUTTONS_PER_ROW)
        )
        return [Say(message="ask_country", buttons=rows)]
    if s is Step.EMAIL:
        return [Say(message="ask_email", context={"sender_domains": k.meta_sender_domains})]
    if s is Step.REASONS:
        required = case.country is not None and k.jurisdiction_for(case.country).reason.required
        toggles = tuple(
            (_press(s, r, f"reason.{r.value}", selected=r in case.reasons),) for r in Reason
        )
        return [
            Say(
                message="ask_reasons",
                context={"reason_required": required, "selected": [r.value for r in case.reasons]},
                buttons=(*toggles, (_press(s, "done", "reasons.done"),)),
            )
        ]
    if s is Step.OWN_WORDS:
        keep = ((_press(s, "keep", "own_words.keep"),),) if case.own_words else ()
        return [
            Say(
                message="ask_own_words",
                context={"own_words": case.own_words, "limit": OWN_WORDS_MAX_CHARS},
                buttons=(*keep, (_press(s, "skip", "own_words.skip"),)),
            )
        ]
    if s is Step.LETTER:
        return [Say(message="ask_letter", buttons=_letter_buttons(case))]
    if s is Step.SUBMITTED:
        return [
            Say(
                message="ask_submitted",
                buttons=(
                    (_press(s, "show_letter", "letter.show"),),
                    (_press(s, "start_over", "start_over"),),
                ),
            )
        ]
    if s is Step.LANGUAGE:
        return [
            Say(
                message="ask_language",
                buttons=tuple((_press(s, lang, f"language.{lang}"),) for lang in LANGUAGES),
            )
        ]
    if s is Step.PAUSED:
        return [Say(message="paused", buttons=((_press(s, "resume", "resume"),),))]
    return []


def _letter_buttons(case: Case) -> tuple[tuple[Button, ...], ...]:
    s = Step.LETTER
    return (
        (_press(s, "submitted", "letter.submitted"),),
        (_press(s, "show_letter", "letter.show"), _press(s, "edit_reason", "letter.edit_reason")),
        (_press(s, "start_over", "start_over"),),
    )


def form_help(case: Case, k: Knowledge) -> Say:
    """The form link(s) and field-by-field help, said right after the letter."""
    assert case.country is not None
    j = k.jurisdiction_for(case.country)
    links = tuple(
        (Button(label="form.open", arg=p.value, url=k.forms[j.forms[p]].url),)
        for p in case.platforms
    )
    return Say(
        message="form_help",
        context={
            "jurisdiction": k.jurisdiction_key(case.country),
            "country": case.country,
            "platforms": [p.value for p in case.platforms],
            "linked_accounts": case.linked_accounts,
            "has_reason": bool(case.reasons or case.own_words),
        },
        buttons=(*links, *_letter_buttons(case)),
    )


def country_confirmed(case: Case, k: Knowledge) -> Say:
    assert case.country is not None
    return Say(
        message="country_set",
        context={"country": case.country, "jurisdiction": k.jurisdiction_key(case.country)},
    )


def status(case: Case, k: Knowledge) -> Say:
    jurisdiction = k.jurisdiction_key(case.country) if case.country else None
    return Say(
        message="status",
        context={"case": case.model_dump(mode="json"), "jurisdiction": jurisdiction},
    )
