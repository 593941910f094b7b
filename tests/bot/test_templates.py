"""Every template rendered for every jurisdiction × language × archetype under StrictUndefined."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from markupsafe import escape

from bot.renderer import TEMPLATES_DIR, Renderer
from conversations import Policy, law, machine, steps, views
from conversations.case import Case, Proof, Reason, Step
from conversations.effects import Say
from conversations.events import MailReport, Press
from conversations.knowledge import LANGUAGES, Knowledge, Platform
from conversations.steps.journey import country_confirmed, form_help
from tests.support import START, letter_case
from tests.support.walks import Walk

HOSTILE = '<b>x</b> {{ 7*7 }} {% raw %} & "quoted" 🦄'


def representative_countries(k: Knowledge) -> dict[str, str]:
    """One country per jurisdiction (and a country the default jurisdiction catches)."""
    picks = {key: j.countries[0] for key, j in k.jurisdictions.items() if j.countries}
    listed = {c for j in k.jurisdictions.values() for c in j.countries}
    default = next(key for key, j in k.jurisdictions.items() if j.default)
    picks[default] = next(c for c in ("NZ", "ZA", "MX", "AR") if c not in listed)
    return picks


def case_for(country: str, language: str, **extra: object) -> Case:
    # no deadline or escalation dates: the timeline starts only with the submitted form
    fields: dict[str, object] = {"own_words": HOSTILE, "deadline_at": None, "escalated_at": None}
    return letter_case(country, language, **{**fields, **extra})


def every_say(k: Knowledge, country: str, language: str) -> list[Say]:
    """All messages the brain asks the renderer for, for one country: every step's question,
    the messages of scripted walks through every branch, and every rejection."""
    says: list[Say] = []
    for step in Step:
        for linked in (True, False, None):
            case = case_for(country, language, step=step, linked_accounts=linked)
            says += steps.ask(case, k)
            says += [form_help(case, k), views.status(case, k)]
    empty = Case.new(1, START).model_copy(update={"language": language})
    says += [
        views.status(empty, k),
        country_confirmed(case_for(country, language), k),
    ]
    for branch in BRANCHES:
        walk = Walk.begin(k, START, language=language).to_letter(country, both=True)
        branch(walk)
        says += [e for e in walk.effects if isinstance(e, Say)]
    retention = Policy().retention()
    says += [
        Say(message=m, context=retention) for m in (*machine.INFO_COMMANDS.values(), "welcome")
    ]
    says += [views.delete_confirm(), views.my_data(case_for(country, language), k)]
    says += [*views.protect(case_for(country, language), k), *views.protect(empty, k)]
    if law.law_regions(country, k):
        at_state = case_for(country, language).model_copy(update={"step": Step.STATE})
        says += steps.ask(at_state, k)
    says += [
        Say(message=m)
        for m in (
            "delete_kept",
            "slow_down",
            "edited_message",
            "welcome_back",
            "deleted",
            "stale_button",
            "choose_button",
            "text_expected",
            "unknown_command",
            "nothing_to_cancel",
            "email_invalid",
            "reasons_hint",
            "own_words_empty",
            "own_words_control_chars",
            "group_chat",
            "error",
            "region_unknown",
            "proof_expected",
            "timezone_unknown",
            "timezone_needs_country",
            "delete_answer_expected",
            "objected_before",
            "evidence_needs_letter",
        )
    ]
    says += [Say(message="code_in_chat", context={"form_open": o}) for o in (True, False)]
    says.append(Say(message="stale_button_notice"))
    says.append(Say(message="letter_language_set", context={"written_in": "en"}))
    says.append(Say(message="language_offer", context={"languages": ["de"]}))
    # the console's own lines (bot/console.py)
    says += [Say(message="console_goodbye", context={"kept": kept}) for kept in (True, False)]
    says.append(Say(message="console_quit", context={"kept": True}))
    path = "/data/documents/evidence-pack-en.pdf"
    says.append(Say(message="console_saved", context={"kept": True, "path": path}))
    says.append(Say(message="own_words_confirm", context={"words": HOSTILE}))
    says.append(Say(message="broadcast", context={"text": HOSTILE}))  # the operator's (bot/admin)
    says += [Say(message="country_unknown", context={"suggestions": s}) for s in ([], ["DE", "AT"])]
    says.append(Say(message="own_words_too_long", context={"length": 2000, "limit": 1500}))
    says.append(Say(message="proof_too_long", context={"length": 5000, "limit": 4000}))
    return says


def _code_runs_out(walk: Walk) -> None:
    walk.press("letter:submitted")
    walk.press("submitted:no_code")
    walk.press("submitted:have_code")
    walk.advance(timedelta(minutes=90))
    walk.press("code_expired:have_code")
    walk.press("code:entered")
    walk.press("waiting:pause")
    walk.press("waiting:resume")
    walk.press("waiting:nothing_yet")
    walk.command("timezone")
    walk.press("timezone:UTC")
    walk.command("language")
    walk.press(f"language:{walk.case.language}")


def _deadline_then_complaint(walk: Walk) -> None:
    walk.press("letter:submitted")
    walk.press("submitted:no_code_needed")
    walk.advance(timedelta(days=70))
    walk.press("waiting:escalate")
    if walk.case.step is Step.REGION:
        walk.press("region:DE-HH")
    walk.advance(timedelta(days=120))
    walk.press("escalated:confirmed")
    walk.text("Meta: we will honour your objection.")


def _refused(walk: Walk) -> None:
    walk.press("letter:submitted")
    walk.press("submitted:no_code_needed")
    walk.press("waiting:refused")
    if walk.case.step is Step.REGION:
        walk.press("region:DE-BY")
    walk.press("escalated:authority_answered")


def _meta_says_more(walk: Walk) -> None:
    """ "We will review it", "send us more", before and after the deadline; the follow-up's
    reminder, "not yet", the complaint again, "I sent it", the authority's reminder."""
    walk.press("letter:submitted")
    walk.press("submitted:no_code_needed")
    walk.press("waiting:review")
    walk.press("waiting:info")
    walk.advance(timedelta(days=70))
    walk.press("waiting:review")
    walk.press("waiting:escalate")
    if walk.case.step is Step.REGION:
        walk.press("region:DE-BY" if walk.case.country == "DE" else "region:other")
    walk.advance(timedelta(days=31))
    walk.press("escalated:not_yet")
    walk.press("escalated:send_complaint")
    walk.press("escalated:complaint_sent")
    walk.press("escalated:show_texts")
    walk.advance(timedelta(days=100))


def _no_code_but_new_one(walk: Walk) -> None:
    walk.press("letter:submitted")
    walk.press("submitted:have_code")
    walk.advance(timedelta(minutes=20))
    walk.press("code:new_code")
    walk.command("cancel")
    walk.command("start")


def _email_copies(walk: Walk) -> None:
    walk.policy = Policy(email_enabled=True, emails_per_day=1)
    walk.press("letter:show_letter")
    walk.press("letter:email")
    walk.press("letter:email_no")
    walk.press("letter:email")
    walk.press("letter:email_yes")
    walk.send(MailReport(ok=True))
    walk.send(MailReport(ok=False))
    walk.press("letter:email")  # over the daily limit


def _forgiving_letter(walk: Walk) -> None:
    """The letter's help, "Change an answer", "Start over" asked first, a typed chosen
    reason, a code typed into the chat, settings and change alerts, the evidence pack."""
    for value in ("more_help", "why", "if_refused", "evidence_guide", "protect", "change"):
        walk.press(f"letter:{value}")
    walk.press("letter:start_over")
    walk.press("letter:start_over_no")
    walk.press("letter:in_english")  # the text to Meta in English (not offered in English)
    walk.press("letter:in_own")
    walk.text("123456")
    walk.press("letter:change_reasons")
    walk.send(Press(data="reasons:children", typed=True))  # a chosen reason's label, typed
    walk.press("reasons:privacy")
    walk.press("reasons:done")
    walk.command("settings")
    walk.command("alerts_on")
    walk.command("settings")
    walk.command("alerts_off")
    walk.command("evidence")
    walk.press("letter:submitted")
    walk.text("654321")  # a code typed where the form is open


BRANCHES = (
    _forgiving_letter,
    _code_runs_out,
    _deadline_then_complaint,
    _refused,
    _meta_says_more,
    _no_code_but_new_one,
    _email_copies,
)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_chat_message_renders_for_every_jurisdiction(
    knowledge: Knowledge, renderer: Renderer, language: str
) -> None:
    """No template fails under StrictUndefined, none is empty, and every template is covered."""
    used: set[str] = set()
    for country in representative_countries(knowledge).values():
        for say in every_say(knowledge, country, language):
            message = renderer.message(say, language)
            assert message.plain.strip(), say.message
            assert len(message.plain) <= 4096, (say.message, len(message.plain))
            shown = message.html.replace(str(escape(HOSTILE)), "")
            assert "{{" not in shown and "{%" not in shown, say.message
            assert "None" not in shown, say.message
            used.add(say.message)
            for row in message.buttons:
                for button in row:
                    assert button.text.strip()
                    assert button.data is None or len(button.data.encode()) <= 64
    used.add("letter")  # rendered by letter_message, below
    files = {p.name.removesuffix(".html.j2") for p in (TEMPLATES_DIR / "chat").glob("*.html.j2")}
    assert files - used == set(), "templates nobody renders"


def test_hostile_own_words_are_escaped_in_chat(knowledge: Knowledge, renderer: Renderer) -> None:
    """A person's words appear HTML-escaped in chat and never as markup or evaluated Jinja."""
    case = case_for("DE", "en", step=Step.OWN_WORDS)
    message = renderer.message(steps.ask(case, knowledge)[0], "en")
    assert str(escape(HOSTILE)) in message.html
    assert "<b>x</b>" not in message.html and "49" not in message.html


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_letter_renders_for_every_jurisdiction_and_archetype(
    knowledge: Knowledge, renderer: Renderer, language: str
) -> None:
    """Each kind of letter, with each archetype alone and none, in both platform set-ups."""
    reason_sets = [(), *((r,) for r in Reason), tuple(Reason)]
    platform_sets = [
        (Platform.FACEBOOK,),
        (Platform.INSTAGRAM,),
        (Platform.FACEBOOK, Platform.INSTAGRAM),
    ]
    for key, country in representative_countries(knowledge).items():
        j = knowledge.jurisdictions[key]
        for reasons, platforms, words in itertools.product(
            reason_sets, platform_sets, (None, HOSTILE)
        ):
            case = case_for(
                country, language, reasons=reasons, platforms=platforms, own_words=words
            )
            letter = renderer.letter(case)
            assert len(letter.form_text.strip()) >= j.reason.min_chars, (key, reasons)
            assert "holder@example.org" in letter.full_text
            if words:
                assert words in letter.form_text and words in letter.full_text
            if j.law is not None and j.kind != "third_party":
                assert j.law.right[language] in letter.full_text, key  # the right it rests on
            elif j.law is not None:
                assert j.law.name[language] in letter.full_text, key  # no right claimed, law named
            assert "{{" not in letter.full_text.replace(HOSTILE, "")
            assert "None" not in letter.full_text, (key, language)
            if "Herren,\n\n" in letter.full_text:  # German: after "Sehr geehrte …," go on lowercase
                assert letter.full_text.split("Herren,\n\n", 1)[1][0].islower()


def test_letter_message_offers_a_copy_button_only_when_it_fits(renderer: Renderer) -> None:
    """The copy button takes 256 characters; longer texts rely on tap-to-copy and the file."""
    long_letter = renderer.letter(case_for("DE", "en"))
    assert len(long_letter.form_text) > 256
    assert renderer.letter_message(long_letter, "en").buttons == ()
    short = type(long_letter)("x" * 120, "x", "f.txt", "en")
    ((button,),) = renderer.letter_message(short, "en").buttons
    assert button.copy_text == "x" * 120


def test_templates_dir_has_letters_for_every_language() -> None:
    """Each language has the same set of letter templates as English."""
    english = {
        p.relative_to(TEMPLATES_DIR / "letters" / "en")
        for p in (TEMPLATES_DIR / "letters" / "en").rglob("*.j2")
    }
    for lang in LANGUAGES:
        base = TEMPLATES_DIR / "letters" / lang
        assert {p.relative_to(base) for p in base.rglob("*.j2")} == english, lang


@pytest.mark.parametrize("language", LANGUAGES)
def test_follow_up_and_complaint_render_for_every_jurisdiction(
    knowledge: Knowledge, renderer: Renderer, language: str
) -> None:
    """With and without a refusal, proof, a code and a German state: no gaps, no "None"."""
    proof = Proof(received_at=START, text="Meta: " + HOSTILE)
    countries = [*representative_countries(knowledge).values(), "DE"]
    for country in countries:
        kind = knowledge.jurisdiction_for(country).kind
        for refused, with_proof, region in itertools.product(
            (None, START), (None, proof), (None, "DE-HH")
        ):
            case = case_for(
                country,
                language,
                refused_at=refused,
                proof=with_proof,
                code_entered_at=None,
                deadline_at=START + timedelta(days=30),
                escalated_at=START + timedelta(days=40),
                region=region if country == "DE" else None,
            )
            followup = renderer.letter(case, "followup").full_text
            assert "holder@example.org" in followup and "None" not in followup
            assert "{{" not in followup.replace(HOSTILE, "")
            if kind.value == "third_party":
                continue
            complaint = renderer.letter(case, "complaint").full_text
            assert "None" not in complaint and "holder@example.org" in complaint
            assert knowledge.meta_contact_for(country).controller in complaint
            if with_proof:
                assert HOSTILE in complaint  # the pasted confirmation, exactly as given
            regulator = knowledge.regulator_for(country, case.region)
            if regulator is not None and not regulator.generic:
                assert regulator.name[language] in complaint, (country, region)


def test_own_words_keep_their_blank_lines_exactly(renderer: Renderer) -> None:
    """The letter's own blank-line tidying never touches the person's text: a run of blank
    lines they typed stays as typed, in the form text and the full letter."""
    words = "First thought.\n\n\n\nAfter three blank lines.\n\n\n   Indented last line."
    case = case_for("DE", "en", step=Step.LETTER).model_copy(update={"own_words": words})
    letter = renderer.letter(case)
    assert words in letter.form_text
    assert words in letter.full_text
    assert "\n\n\n" not in letter.full_text.replace(words, "")  # template gaps still tidied
