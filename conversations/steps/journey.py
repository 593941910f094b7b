"""The questions up to the letter: platforms, linked accounts, country, state, e-mail, reasons,
own words, and the letter itself. Each step's question, handlers and arrival side by side."""

from __future__ import annotations

from datetime import timedelta

from conversations import answers, countries, law, letter, timekeeping
from conversations.case import OWN_WORDS_MAX_CHARS, Case, Reason, Step
from conversations.checks import checked_email, checked_own_words
from conversations.contract import Context, Move, Rejected, Result, Stay, StepSpec, Updates
from conversations.effects import Button, Effect, Say, SendEmail, SendLetter, press
from conversations.events import Press
from conversations.knowledge import Knowledge, Platform
from conversations.steps.common import email_offer, form_keys, form_links, on_common_press
from conversations.table import Trigger

COUNTRY_BUTTONS_PER_ROW = 3

# -- platforms ---------------------------------------------------------------------------------


def ask_platforms(case: Case, knowledge: Knowledge) -> list[Say]:
    s = Step.PLATFORMS
    return [
        Say(
            message="ask_platforms",
            buttons=(
                (
                    press(s, Platform.FACEBOOK, "platform.facebook"),
                    press(s, Platform.INSTAGRAM, "platform.instagram"),
                ),
                (press(s, "both", "platform.both"),),
            ),
        )
    ]


def on_platforms_press(case: Case, value: str, ctx: Context) -> Result:
    if value == "both":
        return Move(Trigger.BOTH_PLATFORMS, {"platforms": (Platform.FACEBOOK, Platform.INSTAGRAM)})
    if value in (Platform.FACEBOOK, Platform.INSTAGRAM):
        return Move(
            Trigger.ONE_PLATFORM, {"platforms": (Platform(value),), "linked_accounts": None}
        )
    raise Rejected("stale_button")


PLATFORMS = StepSpec(Step.PLATFORMS, question=ask_platforms, on_press=on_platforms_press)

# -- linked accounts ---------------------------------------------------------------------------


def ask_linked(case: Case, knowledge: Knowledge) -> list[Say]:
    s = Step.LINKED
    return [
        Say(
            message="ask_linked",
            buttons=(
                (press(s, "yes", "linked.yes"),),
                (press(s, "no", "linked.no"),),
                (press(s, "unsure", "linked.unsure"),),
            ),
        )
    ]


def on_linked_press(case: Case, value: str, ctx: Context) -> Result:
    linked = {"yes": True, "no": False, "unsure": None}
    if value not in linked:
        raise Rejected("stale_button")
    return Move(Trigger.LINKED_ANSWERED, {"linked_accounts": linked[value]})


LINKED = StepSpec(Step.LINKED, question=ask_linked, on_press=on_linked_press)

# -- country -----------------------------------------------------------------------------------


def ask_country(case: Case, knowledge: Knowledge) -> list[Say]:
    s, codes, per_row = Step.COUNTRY, knowledge.common_countries, COUNTRY_BUTTONS_PER_ROW
    rows = tuple(
        tuple(press(s, c, "country", arg=c) for c in codes[i : i + per_row])
        for i in range(0, len(codes), per_row)
    )
    return [Say(message="ask_country", buttons=rows)]


def on_country_press(case: Case, value: str, ctx: Context) -> Result:
    # Buttons carry upper-case ISO codes; anything else is forged (pycountry ignores case).
    if value != value.upper() or not countries.is_country(value):
        raise Rejected("stale_button")
    return _country_found(case, value, ctx)


def on_country_text(case: Case, text: str, ctx: Context) -> Result:
    found = countries.resolve(text, ctx.knowledge)
    if found.code is None:
        # near misses are buttons: one tap, nothing to retype
        s = Step.COUNTRY
        picks = tuple((press(s, code, "country", arg=code),) for code in found.suggestions)
        raise Rejected("country_unknown", buttons=picks, suggestions=list(found.suggestions))
    return _country_found(case, found.code, ctx)


def _country_found(case: Case, country: str, ctx: Context) -> Move:
    """A new country: its region (state) is asked again where the law depends on it, and the
    time zone follows it unless one was chosen (check-ins keep daytime there)."""
    needs_state = bool(law.law_regions(country, ctx.knowledge))
    trigger = Trigger.COUNTRY_NEEDS_STATE if needs_state else Trigger.COUNTRY_FOUND
    zone = case.timezone or timekeeping.default_zone(country)
    return Move(trigger, {"country": country, "region": None, "timezone": zone})


def country_confirmed(case: Case, knowledge: Knowledge) -> Say:
    """What the country means for the person: the right, the law, earlier objections."""
    assert case.country is not None
    earlier = case.country in knowledge.advice["earlier_objections"].countries
    return Say(
        message="country_set",
        context={
            "country": case.country,
            "jurisdiction": knowledge.jurisdiction_key(case.country, case.region),
            "earlier_objections_stay": earlier,
        },
        buttons=((Button(label="objected_before", data="command:objected_before"),),)
        if earlier
        else (),
    )


def leave_country(case: Case, trigger: Trigger, ctx: Context) -> list[Effect]:
    """The country is confirmed once it is complete (with its state, where one is asked)."""
    if trigger in (Trigger.COUNTRY_FOUND, Trigger.ANSWER_CHANGED):
        return [country_confirmed(case, ctx.knowledge)]
    return []


COUNTRY = StepSpec(
    Step.COUNTRY,
    question=ask_country,
    on_press=on_country_press,
    on_text=on_country_text,
    on_leaving=leave_country,
)

# -- state (USA) -------------------------------------------------------------------------------


def ask_state(case: Case, knowledge: Knowledge) -> list[Say]:
    s = Step.STATE
    regions = law.law_regions(case.country or "", knowledge)
    return [
        Say(
            message="ask_state",
            context={"country": case.country},
            buttons=(
                *((press(s, code, "region", arg=code),) for code in regions),
                (press(s, "other", "state.other"),),
            ),
        )
    ]


def on_state_press(case: Case, value: str, ctx: Context) -> Result:
    if value == "other":
        return Move(Trigger.STATE_CHOSEN, {"region": None})
    if value not in law.law_regions(case.country or "", ctx.knowledge):
        raise Rejected("stale_button")
    return Move(Trigger.STATE_CHOSEN, {"region": value})


def on_state_text(case: Case, text: str, ctx: Context) -> Result:
    """A typed state: its name, or its code ("CA", "US-CA"), in any language CLDR knows."""
    code = countries.resolve_subdivision(case.country or "", text)
    if code is None:
        raise Rejected("region_unknown")
    return Move(Trigger.STATE_CHOSEN, {"region": code})


def leave_state(case: Case, trigger: Trigger, ctx: Context) -> list[Effect]:
    if trigger in (Trigger.STATE_CHOSEN, Trigger.ANSWER_CHANGED):
        return [country_confirmed(case, ctx.knowledge)]
    return []


STATE = StepSpec(
    Step.STATE,
    question=ask_state,
    on_press=on_state_press,
    on_text=on_state_text,
    on_leaving=leave_state,
)

# -- e-mail ------------------------------------------------------------------------------------


def ask_email(case: Case, knowledge: Knowledge) -> list[Say]:
    return [Say(message="ask_email", context={"sender_domains": knowledge.meta_sender_domains})]


def on_email_text(case: Case, text: str, ctx: Context) -> Result:
    return Move(Trigger.EMAIL_VALID, {"email": checked_email(text)})


def arrive_at_email(case: Case, trigger: Trigger, ctx: Context) -> tuple[Case, list[Effect]]:
    """Once, after the country: a person chatting in English whose country speaks a language
    the bot has is offered it (Telegram's own app exists in few languages, so many run it in
    English)."""
    if case.language_offered or case.language != "en" or case.country is None:
        return case, []
    offered = countries.languages_of(case.country)
    if not offered:
        return case, []
    offer = Say(
        message="language_offer",
        context={"languages": list(offered)},
        buttons=tuple(
            (Button(label="language", arg=lang, data=f"lang:{lang}"),) for lang in offered
        ),
    )
    return case.model_copy(update={"language_offered": True}), [offer]


EMAIL = StepSpec(Step.EMAIL, question=ask_email, on_text=on_email_text, on_arrival=arrive_at_email)

# -- reasons -----------------------------------------------------------------------------------


def ask_reasons(case: Case, knowledge: Knowledge) -> list[Say]:
    s = Step.REASONS
    required = (
        case.country is not None
        and knowledge.jurisdiction_for(case.country, case.region).reason.required
    )
    toggles = tuple((press(s, r, f"reason.{r.value}", selected=r in case.reasons),) for r in Reason)
    return [
        Say(
            message="ask_reasons",
            slot="reasons",  # a tap edits this one message: the tick marks move
            context={
                "reason_required": required,
                "selected": [r.value for r in case.reasons],
                # only the GDPR's Art. 21(1) asks for a "particular situation"
                "particular_situation": law.under_gdpr(case, knowledge),
            },
            buttons=(*toggles, (press(s, "done", "reasons.done"),)),
        )
    ]


def on_reasons_press(case: Case, value: str, ctx: Context) -> Result:
    if value == "done":
        return Move(Trigger.REASONS_DONE)
    try:
        reason = Reason(value)
    except ValueError:
        raise Rejected("stale_button") from None
    if reason in case.reasons and isinstance(ctx.event, Press) and ctx.event.typed:
        # typing a chosen reason's name means "this one", not "remove it"
        kept = Say(message="reason_already_chosen", context={"reason": reason.value})
        return Stay(effects=[kept], ask_again=False)
    chosen = {r for r in case.reasons if r is not reason}
    if reason not in case.reasons:
        chosen.add(reason)
    updates: Updates = {"reasons": tuple(r for r in Reason if r in chosen)}
    (question,) = ask_reasons(case.model_copy(update=updates), ctx.knowledge)
    return Stay(updates, effects=[question.model_copy(update={"edit": True})], ask_again=False)


def on_reasons_text(case: Case, text: str, ctx: Context) -> Result:
    raise Rejected("reasons_hint")


REASONS = StepSpec(
    Step.REASONS, question=ask_reasons, on_press=on_reasons_press, on_text=on_reasons_text
)

# -- own words ---------------------------------------------------------------------------------


def ask_own_words(case: Case, knowledge: Knowledge) -> list[Say]:
    s = Step.OWN_WORDS
    keep = ((press(s, "keep", "own_words.keep"),),) if case.own_words else ()
    return [
        Say(
            message="ask_own_words",
            context={"own_words": case.own_words, "limit": OWN_WORDS_MAX_CHARS},
            buttons=(*keep, (press(s, "skip", "own_words.skip"),)),
        )
    ]


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


OWN_WORDS = StepSpec(
    Step.OWN_WORDS, question=ask_own_words, on_press=on_own_words_press, on_text=on_own_words_text
)

# -- the letter --------------------------------------------------------------------------------


def ask_letter(case: Case, knowledge: Knowledge) -> list[Say]:
    return [
        Say(
            message="ask_letter",
            context={"options": law.under_gdpr(case, knowledge)},
            buttons=letter_buttons(case, knowledge),
        )
    ]


def letter_buttons(case: Case, knowledge: Knowledge) -> tuple[tuple[Button, ...], ...]:
    """What the person can do at the letter: say the form is sent first; the help that is not
    needed to fill in the form one tap away; then fixing or redoing the answers."""
    s = Step.LETTER
    options: tuple[tuple[Button, ...], ...] = (
        (
            (press(s, "erasure", "letter.add_erasure", selected=case.ask_erasure),),
            (press(s, "access", "letter.add_access", selected=case.ask_access),),
        )
        if law.under_gdpr(case, knowledge)
        else ()
    )
    # Where no objection right exists, the evidence Meta's form asks for and the checklist
    # are what helps most: offered first.
    third_party = case.country is not None and not law.objection_right(case, knowledge)
    evidence = (
        ((press(s, "evidence_guide", "letter.evidence_guide"),), (press(s, "protect", "protect"),))
        if third_party
        else ()
    )
    # the text to Meta in English instead, or (back) in the chat's language
    if case.language == "en":
        written: tuple[tuple[Button, ...], ...] = ()
    elif letter.written_in(case) != "en":
        written = ((press(s, "in_english", "letter.in_english"),),)
    elif letter.usual_language(case) == "en":  # a guest language: English unless they choose
        written = ((press(s, "in_own", "letter.in_own_first"),),)
    else:
        written = ((press(s, "in_own", "letter.in_own"),),)
    return (
        (press(s, "submitted", "letter.submitted"),),
        *evidence,
        (press(s, "more_help", "letter.more_help"), press(s, "why", "letter.why")),
        (press(s, "if_refused", "letter.if_refused"),),
        *options,
        *written,
        (press(s, "show_letter", "letter.show"), press(s, "change", "letter.change")),
        (press(s, "start_over", "start_over"),),
    )


def _about_the_letter(case: Case, knowledge: Knowledge) -> dict[str, object]:
    assert case.country is not None
    return {
        "jurisdiction": knowledge.jurisdiction_key(case.country, case.region),
        "country": case.country,
        "platforms": [p.value for p in case.platforms],
        "linked_accounts": case.linked_accounts,
    }


def form_help(case: Case, knowledge: Knowledge) -> Say:
    """The three or four steps that fill in the form, said right after the text."""
    return Say(
        message="form_help",
        context=_about_the_letter(case, knowledge),
        buttons=letter_buttons(case, knowledge),
    )


def letter_help(case: Case, value: str, knowledge: Knowledge) -> Say:
    """What is one tap away at the letter: more help with the form, why the text works, what
    happens if Meta refuses, and (without a right to object) how to collect the evidence."""
    assert case.country is not None
    about = _about_the_letter(case, knowledge)
    if value == "more_help":
        return Say(message="more_help", context={**about, "forms": form_keys(case, knowledge)})
    if value == "why":
        return Say(message="why_it_works", context=about)
    if value == "if_refused":
        complaint = law.writes_complaint(case, knowledge)
        return Say(message="if_refused", context={**about, "complaint": complaint})
    return Say(message="evidence_guide")


#: The letter's help, one tap away (``letter_help``).
LETTER_HELP = frozenset({"more_help", "why", "if_refused", "evidence_guide"})


def arrive_at_letter(case: Case, trigger: Trigger, ctx: Context) -> tuple[Case, list[Effect]]:
    """The text is written: the text with the form's buttons (the person can act at once),
    then the steps that fill in the form, then -- without a right to object -- the first
    protection, and the e-mail offer."""
    k = ctx.knowledge
    case = case.model_copy(
        update={"letter_written_at": ctx.now, "reasons_done": True, "changing": False}
    )
    protect = [] if law.objection_right(case, k) else [Say(message="protect_first")]
    return case, [
        SendLetter(case=case, buttons=form_links(case, k)),
        form_help(case, k),
        *protect,
        *email_offer(ctx),
    ]


def on_letter_press(case: Case, value: str, ctx: Context) -> Result:
    if value in LETTER_HELP:
        return Stay(effects=[letter_help(case, value, ctx.knowledge)], ask_again=False)
    if value == "change":
        return Stay(effects=[change_what(case)], ask_again=False)
    if value in ("in_english", "in_own") and case.language != "en":
        # None: the usual language (``letter.usual_language``), which follows the chat's
        chosen = "en" if value == "in_english" else case.language
        written = None if chosen == letter.usual_language(case) else chosen
        rewritten = case.model_copy(update={"letter_language": written})
        links = form_links(rewritten, ctx.knowledge)
        return Stay(
            {"letter_language": written},
            effects=[
                SendLetter(case=rewritten, buttons=links),
                Say(message="letter_language_set", context={"written_in": chosen}),
                *ask_letter(rewritten, ctx.knowledge),
            ],
            ask_again=False,
        )
    if value in CHANGES:
        return Move(CHANGES[value], {"changing": True})
    if value in ("erasure", "access") and law.under_gdpr(case, ctx.knowledge):
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


#: "Change an answer": which question each choice goes back to (``EDIT_REASON`` is also what
#: "Edit my reason" on messages sent before this screen existed still presses).
CHANGES = {
    "change_platforms": Trigger.CHANGE_PLATFORMS,
    "change_country": Trigger.CHANGE_COUNTRY,
    "change_email": Trigger.CHANGE_EMAIL,
    "change_reasons": Trigger.EDIT_REASON,
    "edit_reason": Trigger.EDIT_REASON,
    "change_own_words": Trigger.CHANGE_OWN_WORDS,
}


def change_what(case: Case) -> Say:
    """The "Change an answer" screen: one answer goes back to its question, the rest stay."""
    s = Step.LETTER
    return Say(
        message="change_what",
        buttons=(
            (press(s, "change_platforms", "change.platforms"),),
            (press(s, "change_country", "change.country"),),
            (press(s, "change_email", "change.email"),),
            (press(s, "change_reasons", "change.reasons"),),
            (press(s, "change_own_words", "change.own_words"),),
            (press(s, "show_letter", "change.nothing"),),
        ),
    )


LETTER = StepSpec(
    Step.LETTER,
    question=ask_letter,
    on_press=on_letter_press,
    on_arrival=arrive_at_letter,
    asks_on_arrival=False,
)

SPECS = (PLATFORMS, LINKED, COUNTRY, STATE, EMAIL, REASONS, OWN_WORDS, LETTER)
