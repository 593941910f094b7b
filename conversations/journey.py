"""Handlers for the questions up to the letter: platforms, country, e-mail, reasons, own words."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email

from conversations import answers, countries, questions
from conversations.case import OWN_WORDS_MAX_CHARS, Case, Reason, Step
from conversations.effects import Button, Effect, Say, SendEmail, SendLetter
from conversations.handling import Context, Handler, Move, Rejected, Result, Stay, Updates
from conversations.knowledge import LANGUAGES, Platform
from conversations.table import Trigger

#: RFC 5321 limits an address to 254 characters; anything longer is not worth parsing.
EMAIL_MAX_CHARS = 254


def on_platforms_press(case: Case, value: str, ctx: Context) -> Result:
    if value == "both":
        return Move(Trigger.BOTH_PLATFORMS, {"platforms": (Platform.FACEBOOK, Platform.INSTAGRAM)})
    if value in (Platform.FACEBOOK, Platform.INSTAGRAM):
        return Move(
            Trigger.ONE_PLATFORM, {"platforms": (Platform(value),), "linked_accounts": None}
        )
    raise Rejected("stale_button")


def on_linked_press(case: Case, value: str, ctx: Context) -> Result:
    answers = {"yes": True, "no": False, "unsure": None}
    if value not in answers:
        raise Rejected("stale_button")
    return Move(Trigger.LINKED_ANSWERED, {"linked_accounts": answers[value]})


def on_country_press(case: Case, value: str, ctx: Context) -> Result:
    # Buttons carry upper-case ISO codes; anything else is forged (pycountry ignores case).
    if value != value.upper() or not countries.is_country(value):
        raise Rejected("stale_button")
    return _country_found(value, ctx)


def on_country_text(case: Case, text: str, ctx: Context) -> Result:
    found = countries.resolve(text, ctx.k)
    if found.code is None:
        raise Rejected("country_unknown", suggestions=list(found.suggestions))
    return _country_found(found.code, ctx)


def _country_found(country: str, ctx: Context) -> Move:
    """A new country: its region (state) is asked again where the law depends on it."""
    needs_state = bool(questions.law_regions(country, ctx.k))
    trigger = Trigger.COUNTRY_NEEDS_STATE if needs_state else Trigger.COUNTRY_FOUND
    return Move(trigger, {"country": country, "region": None})


def on_state_press(case: Case, value: str, ctx: Context) -> Result:
    if value == "other":
        return Move(Trigger.STATE_CHOSEN, {"region": None})
    if value not in questions.law_regions(case.country or "", ctx.k):
        raise Rejected("stale_button")
    return Move(Trigger.STATE_CHOSEN, {"region": value})


def on_state_text(case: Case, text: str, ctx: Context) -> Result:
    """A typed state: its name, or its code ("CA", "US-CA"), in any language CLDR knows."""
    code = countries.resolve_subdivision(case.country or "", text)
    if code is None:
        raise Rejected("region_unknown")
    return Move(Trigger.STATE_CHOSEN, {"region": code})


def on_email_text(case: Case, text: str, ctx: Context) -> Result:
    return Move(Trigger.EMAIL_VALID, {"email": checked_email(text)})


def checked_email(text: str) -> str:
    """The account e-mail address as typed, normalised; ``Rejected`` if it is not one."""
    candidate = text.strip()
    if len(candidate) > EMAIL_MAX_CHARS or any(c.isspace() for c in candidate):
        raise Rejected("email_invalid")
    try:
        checked = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError:
        raise Rejected("email_invalid") from None
    return str(checked.normalized)


def on_reasons_press(case: Case, value: str, ctx: Context) -> Result:
    if value == "done":
        return Move(Trigger.REASONS_DONE)
    try:
        reason = Reason(value)
    except ValueError:
        raise Rejected("stale_button") from None
    chosen = {r for r in case.reasons if r is not reason}
    if reason not in case.reasons:
        chosen.add(reason)
    return Stay({"reasons": tuple(r for r in Reason if r in chosen)})


def on_reasons_text(case: Case, text: str, ctx: Context) -> Result:
    raise Rejected("reasons_hint")


def on_own_words_press(case: Case, value: str, ctx: Context) -> Result:
    if value == "skip":
        return Move(Trigger.WORDS_SKIPPED, {"own_words": None, "own_words_pending": None})
    if value == "keep" and case.own_words:
        return Move(Trigger.WORDS_SKIPPED, {"own_words_pending": None})
    if value == "use" and case.own_words_pending:
        return Move(
            Trigger.WORDS_GIVEN, {"own_words": case.own_words_pending, "own_words_pending": None}
        )
    raise Rejected("stale_button")


def on_own_words_text(case: Case, text: str, ctx: Context) -> Result:
    words = checked_own_words(text)
    if answers.is_one_word(words):
        # "no", "2" or a stray word is more likely an answer than a statement for a letter:
        # it goes in only once the person says so.
        confirm = Say(
            message="own_words_confirm",
            context={"words": words},
            buttons=(
                (Button(label="own_words.use", data="own_words:use"),),
                (Button(label="own_words.skip", data="own_words:skip"),),
            ),
        )
        return Stay({"own_words_pending": words}, effects=[confirm], ask_again=False)
    return Move(Trigger.WORDS_GIVEN, {"own_words": words, "own_words_pending": None})


def checked_own_words(text: str) -> str:
    """The person's own words as they go into a letter; ``Rejected`` if they cannot."""
    words = text.strip()
    if not words:
        raise Rejected("own_words_empty")
    if len(words) > OWN_WORDS_MAX_CHARS:
        raise Rejected("own_words_too_long", length=len(words), limit=OWN_WORDS_MAX_CHARS)
    if has_hidden_controls(words):
        raise Rejected("own_words_control_chars")
    return words


#: Bidirectional overrides and isolates: they make a text display in a different order than
#: it is stored (and pasted), so a letter could say something other than what the person saw.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def has_hidden_controls(text: str) -> bool:
    """Control characters (other than line breaks and tabs) and bidi overrides.

    Other invisible format characters stay allowed: the zero-width joiner holds family and flag
    emoji together, and soft hyphens come with pasted e-mails.
    """
    return any(
        c in BIDI_CONTROLS or (c not in "\n\r\t" and unicodedata.category(c) in ("Cc", "Cs", "Co"))
        for c in text
    )


def on_letter_press(case: Case, value: str, ctx: Context) -> Result:
    if value == "edit_reason":
        return Move(Trigger.EDIT_REASON)
    if value in ("erasure", "access") and questions.under_gdpr(case, ctx.k):
        field = f"ask_{value}"
        ticked = case.model_copy(update={field: not getattr(case, field)})
        return Stay({field: getattr(ticked, field)}, effects=[SendLetter(case=ticked)])
    if value == "submitted":
        return Move(Trigger.SUBMITTED)
    if value in ("email", "email_yes", "email_no") and ctx.policy.email_enabled:
        return _on_email_press(case, value, ctx)
    return on_common_press(case, value, ctx)


def _on_email_press(case: Case, value: str, ctx: Context) -> Result:
    """E-mail a copy: only to the account's own address, only after the person confirms it,
    and only a few times a day."""
    if value == "email_no":
        return Stay()
    recent = tuple(t for t in case.emails_sent if ctx.now - t < timedelta(days=1))
    if len(recent) >= ctx.policy.emails_per_day:
        raise Rejected("email_limit", limit=ctx.policy.emails_per_day)
    if value == "email":
        confirm = Say(
            message="email_confirm",
            context={"email": case.email},
            buttons=(
                (Button(label="email.yes", data="letter:email_yes"),),
                (Button(label="email.no", data="letter:email_no"),),
            ),
        )
        return Stay(effects=[confirm], ask_again=False)
    return Stay(
        {"emails_sent": (*recent, ctx.now)},
        effects=[SendEmail(case=case), Say(message="email_queued", context={"email": case.email})],
        ask_again=False,
    )


def email_offer(ctx: Context) -> list[Effect]:
    """The "E-mail me this text" button, where the operator configured an SMTP server."""
    if not ctx.policy.email_enabled:
        return []
    button = Button(label="email.offer", data="letter:email")
    return [Say(message="email_offer", buttons=((button,),))]


def on_common_press(case: Case, value: str, ctx: Context) -> Result:
    """Buttons that several steps show: start over, show the text again."""
    if value == "start_over":
        return Move(Trigger.START_OVER, cleared())
    if value == "protect":
        return Stay(effects=[questions.protect(case, ctx.k)], ask_again=False)
    if value == "show_letter" and case.letter_written_at is not None:
        offer = email_offer(ctx) if case.step is Step.LETTER else []
        return Stay(effects=[SendLetter(case=case), *offer])
    raise Rejected("stale_button")


def on_language_press(case: Case, value: str, ctx: Context) -> Result:
    if value not in LANGUAGES:
        raise Rejected("stale_button")
    return Move(Trigger.LANGUAGE_CHOSEN, {"language": value})


def on_paused_press(case: Case, value: str, ctx: Context) -> Result:
    if value == "resume":
        return Move(Trigger.RESUME)
    raise Rejected("stale_button")


def cleared() -> Updates:
    """Start over: forget the answers and the timeline, keep the language and time zone."""
    keep = {"chat_id", "language", "timezone", "created_at", "updated_at", "step"}
    return {name: f.default for name, f in Case.model_fields.items() if name not in keep}


HANDLERS: dict[tuple[Step, str], Handler] = {
    (Step.PLATFORMS, "press"): on_platforms_press,
    (Step.LINKED, "press"): on_linked_press,
    (Step.COUNTRY, "press"): on_country_press,
    (Step.COUNTRY, "text"): on_country_text,
    (Step.STATE, "press"): on_state_press,
    (Step.STATE, "text"): on_state_text,
    (Step.EMAIL, "text"): on_email_text,
    (Step.REASONS, "press"): on_reasons_press,
    (Step.REASONS, "text"): on_reasons_text,
    (Step.OWN_WORDS, "press"): on_own_words_press,
    (Step.OWN_WORDS, "text"): on_own_words_text,
    (Step.LETTER, "press"): on_letter_press,
    (Step.LANGUAGE, "press"): on_language_press,
    (Step.PAUSED, "press"): on_paused_press,
}
