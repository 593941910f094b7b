"""The transition table and step(): every step, the happy path, and inputs that change nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from bot.renderer import Renderer
from conversations import letter_language, machine, steps
from conversations.case import Case, Reason, Step
from conversations.effects import Effect, Forget, Notice, Say, SendData, SendLetter
from conversations.events import Command, Event, Media, Press, Reminder, Text
from conversations.knowledge import LANGUAGES, Knowledge, Platform
from tests.support.walks import START, Walk, said

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def run(case: Case, *events: Event, k: Knowledge) -> tuple[Case, list[Effect]]:
    effects: list[Effect] = []
    for event in events:
        case, out = machine.step(case, event, NOW, k)
        effects.extend(out)
    return case, effects


def messages(effects: list[Effect]) -> list[str]:
    return [e.message for e in effects if isinstance(e, Say)]


@pytest.fixture
def fresh() -> Case:
    return Case.new(42, NOW)


def at_letter(k: Knowledge, country: str = "DE") -> Case:
    case, _ = run(
        Case.new(42, NOW),
        Command(name="start"),
        Press(data="platforms:both"),
        Press(data="linked:yes"),
        Text(text=country),
        Text(text="person@example.org"),
        Press(data="reasons:children"),
        Press(data="reasons:done"),
        Text(text="I am a photographer."),
        k=k,
    )
    return case


def test_happy_path_reaches_the_letter_with_every_answer(knowledge: Knowledge) -> None:
    """The whole journey stores every answer and ends with the letter and the form help."""
    case, effects = run(
        Case.new(42, NOW),
        Command(name="start", client_language="de-DE"),
        Press(data="platforms:both"),
        Press(data="linked:no"),
        Text(text="Österreich"),
        Text(text=" Person@Example.org "),
        Press(data="reasons:children"),
        Press(data="reasons:creative"),
        Press(data="reasons:done"),
        Text(text="I am a photographer."),
        k=knowledge,
    )
    assert case.step is Step.LETTER
    assert case.language == "de"
    assert case.platforms == (Platform.FACEBOOK, Platform.INSTAGRAM)
    assert case.linked_accounts is False
    assert case.country == "AT"
    assert case.email == "Person@example.org"
    assert case.reasons == (Reason.CHILDREN, Reason.CREATIVE)
    assert case.own_words == "I am a photographer."
    assert case.letter_written_at == NOW
    assert any(isinstance(e, SendLetter) for e in effects)
    assert "form_help" in messages(effects)


def aftercare_inputs(base: Case) -> dict[tuple[Step, machine.Trigger], tuple[Case, Event]]:
    """One input per transition after the form was submitted."""
    t = machine.Trigger
    sent = base.model_copy(update={"form_submitted_at": NOW, "timezone": "Europe/Berlin"})
    code = sent.model_copy(
        update={
            "step": Step.CODE,
            "code_received_at": NOW,
            "code_expires_at": NOW + timedelta(hours=1),
        }
    )
    at = {s: sent.model_copy(update={"step": s}) for s in Step}
    return {
        (Step.SUBMITTED, t.CODE_RECEIVED): (at[Step.SUBMITTED], Press(data="submitted:have_code")),
        (Step.SUBMITTED, t.NO_CODE_NEEDED): (
            at[Step.SUBMITTED],
            Press(data="submitted:no_code_needed"),
        ),
        (Step.CODE, t.CODE_ENTERED): (code, Press(data="code:entered")),
        (Step.CODE, t.CODE_TROUBLE): (code, Press(data="code:missing")),
        (Step.CODE, t.CODE_EXPIRES): (code, Reminder(key="code_expired", due_at=NOW)),
        (Step.CODE_EXPIRED, t.CODE_RECEIVED): (
            at[Step.CODE_EXPIRED],
            Press(data="code_expired:have_code"),
        ),
        (Step.CODE_EXPIRED, t.CODE_ENTERED): (
            at[Step.CODE_EXPIRED],
            Press(data="code_expired:entered"),
        ),
        (Step.WAITING, t.CONFIRMED): (at[Step.WAITING], Press(data="waiting:confirmed")),
        (Step.WAITING, t.ESCALATE): (
            at[Step.WAITING].model_copy(update={"country": "FR"}),
            Press(data="waiting:refused"),
        ),
        (Step.WAITING, t.ESCALATE_ASK_REGION): (at[Step.WAITING], Press(data="waiting:refused")),
        (Step.REGION, t.REGION_CHOSEN): (at[Step.REGION], Press(data="region:DE-BY")),
        (Step.ESCALATED, t.CONFIRMED): (at[Step.ESCALATED], Press(data="escalated:confirmed")),
        (Step.ESCALATED, t.AUTHORITY_ANSWERED): (
            at[Step.ESCALATED],
            Press(data="escalated:authority_answered"),
        ),
        (Step.PROOF, t.PROOF_KEPT): (at[Step.PROOF], Text(text="Meta: we will honour it.")),
        (Step.PROOF, t.PROOF_SKIPPED): (at[Step.PROOF], Press(data="proof:skip")),
    }


def table_inputs(knowledge: Knowledge) -> dict[tuple[Step, machine.Trigger], tuple[Case, Event]]:
    """One input per (step, trigger) of TABLE."""
    base = at_letter(knowledge)
    return {
        (Step.NEW, machine.Trigger.START): (Case.new(1, NOW), Command(name="start")),
        (Step.PLATFORMS, machine.Trigger.ONE_PLATFORM): (
            base.model_copy(update={"step": Step.PLATFORMS}),
            Press(data="platforms:instagram"),
        ),
        (Step.PLATFORMS, machine.Trigger.BOTH_PLATFORMS): (
            base.model_copy(update={"step": Step.PLATFORMS}),
            Press(data="platforms:both"),
        ),
        (Step.LINKED, machine.Trigger.LINKED_ANSWERED): (
            base.model_copy(update={"step": Step.LINKED}),
            Press(data="linked:unsure"),
        ),
        (Step.COUNTRY, machine.Trigger.COUNTRY_FOUND): (
            base.model_copy(update={"step": Step.COUNTRY}),
            Text(text="france"),
        ),
        (Step.COUNTRY, machine.Trigger.COUNTRY_NEEDS_STATE): (
            base.model_copy(update={"step": Step.COUNTRY}),
            Text(text="United States"),
        ),
        (Step.STATE, machine.Trigger.STATE_CHOSEN): (
            base.model_copy(update={"step": Step.STATE, "country": "US"}),
            Press(data="state:US-CA"),
        ),
        (Step.EMAIL, machine.Trigger.EMAIL_VALID): (
            base.model_copy(update={"step": Step.EMAIL}),
            Text(text="a@b.example"),
        ),
        (Step.REASONS, machine.Trigger.REASONS_DONE): (
            base.model_copy(update={"step": Step.REASONS}),
            Press(data="reasons:done"),
        ),
        (Step.OWN_WORDS, machine.Trigger.WORDS_GIVEN): (
            base.model_copy(update={"step": Step.OWN_WORDS}),
            Text(text="my words"),
        ),
        (Step.OWN_WORDS, machine.Trigger.WORDS_SKIPPED): (
            base.model_copy(update={"step": Step.OWN_WORDS}),
            Press(data="own_words:skip"),
        ),
        (Step.LETTER, machine.Trigger.EDIT_REASON): (base, Press(data="letter:change_reasons")),
        (Step.LETTER, machine.Trigger.CHANGE_PLATFORMS): (
            base,
            Press(data="letter:change_platforms"),
        ),
        (Step.LETTER, machine.Trigger.CHANGE_COUNTRY): (base, Press(data="letter:change_country")),
        (Step.LETTER, machine.Trigger.CHANGE_EMAIL): (base, Press(data="letter:change_email")),
        (Step.LETTER, machine.Trigger.CHANGE_OWN_WORDS): (
            base,
            Press(data="letter:change_own_words"),
        ),
        (Step.LETTER, machine.Trigger.SUBMITTED): (base, Press(data="letter:submitted")),
        **aftercare_inputs(base),
    }


def global_inputs(knowledge: Knowledge) -> dict[machine.Trigger, tuple[Case, Event]]:
    """One input per trigger of GLOBAL, from the letter step (or the aside it opened)."""
    t, base = machine.Trigger, at_letter(knowledge)
    aside = {s: base.model_copy(update={"step": s, "resume_step": Step.LETTER}) for s in Step}
    return {
        t.START_OVER: (base, Press(data="letter:start_over_yes")),
        t.ANSWER_CHANGED: (
            base.model_copy(update={"step": Step.EMAIL, "changing": True}),
            Text(text="new@example.org"),
        ),
        t.LANGUAGE: (base, Command(name="language")),
        t.LANGUAGE_CHOSEN: (aside[Step.LANGUAGE], Press(data="language:de")),
        t.TIMEZONE: (base, Command(name="timezone")),
        t.TIMEZONE_CHOSEN: (aside[Step.TIMEZONE], Text(text="Europe/Vienna")),
        t.CANCEL: (base, Command(name="cancel")),
        t.RESUME: (aside[Step.PAUSED], Press(data="paused:resume")),
        t.DELETE: (base.model_copy(update={"erase_asked": True}), Press(data="delete:yes")),
    }


def test_every_table_transition_is_reachable_and_lands_where_the_table_says(
    knowledge: Knowledge,
) -> None:
    """Each (step, trigger) in TABLE is exercised by an input that produces that move."""
    inputs = table_inputs(knowledge)
    table_moves = {(s, t) for s, moves in machine.TABLE.items() for t in moves}
    assert set(inputs) == table_moves
    for (source, trigger), (case, event) in inputs.items():
        new_case, _ = machine.step(case, event, NOW, knowledge)
        assert new_case.step is machine.TABLE[source][trigger], (source, trigger)


def test_every_trigger_is_produced_and_every_move_goes_through_the_table(
    knowledge: Knowledge, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every ``Trigger`` is named by some handler or command, each input moves the case by
    exactly the trigger it stands for, through ``machine._apply`` (the one place that looks the
    target up in TABLE or GLOBAL), and lands where the table says."""
    applied: list[machine.Trigger] = []
    real_apply = machine._apply

    def spy(case: Case, trigger: machine.Trigger, ctx: object) -> object:
        applied.append(trigger)
        return real_apply(case, trigger, ctx)  # type: ignore[arg-type]

    monkeypatch.setattr(machine, "_apply", spy)
    moves = {trigger: pair for (_, trigger), pair in table_inputs(knowledge).items()}
    for trigger, (case, event) in [*moves.items(), *global_inputs(knowledge).items()]:
        applied.clear()
        new_case, _ = machine.step(case, event, NOW, knowledge)
        assert applied == [trigger], (trigger, applied)
        if trigger in machine.GLOBAL:
            assert new_case.step is (machine.GLOBAL[trigger] or case.resume_step), trigger
    assert set(moves) | set(global_inputs(knowledge)) == set(machine.Trigger)


def test_every_step_has_its_place(knowledge: Knowledge) -> None:
    """Each step has one ``StepSpec`` (question, handlers, arrival side by side); every step
    the table leads to or from asks something, except the one before everything."""
    assert set(steps.STEPS) == set(Step)
    for step_, spec in steps.STEPS.items():
        assert spec.step is step_
    base = at_letter(knowledge)
    for step_ in set(machine.TABLE) - {Step.NEW}:
        at = base.model_copy(update={"step": step_, "resume_step": Step.LETTER})
        if step_ in (Step.CODE, Step.CODE_EXPIRED):
            at = at.model_copy(update={"code_received_at": NOW, "code_expires_at": NOW})
        assert steps.ask(at, knowledge), step_


VALID_OWN_WORDS = {"<b>bold</b> {{ 7*7 }} {% raw %}", "🦄🔥"}
HOSTILE: list[Event] = [
    Text(text="x" * 10_000),
    Text(text="<b>bold</b> {{ 7*7 }} {% raw %}"),
    Text(text="\x00\x1b[31m\u202e"),
    Text(text="🦄🔥"),
    Media(),
    Command(name="definitely_not_a_command"),
    Press(data="platforms:facebook"),  # stale almost everywhere
    Press(data="nonsense"),
    Press(data="letter:delete_everything"),
    Press(data=""),
]


@pytest.mark.parametrize("current", sorted(machine.QUESTION_STEPS | {Step.PAUSED}))
def test_rejected_input_changes_nothing_and_repeats_the_question(
    knowledge: Knowledge, current: Step
) -> None:
    """At every step, inputs that step cannot take leave the case exactly as it was."""
    case = at_letter(knowledge).model_copy(update={"step": current, "resume_step": Step.EMAIL})
    for event in HOSTILE:
        new_case, effects = machine.step(case, event, NOW, knowledge)
        if current is Step.OWN_WORDS and isinstance(event, Text) and event.text in VALID_OWN_WORDS:
            if len(event.text.split()) == 1:  # one "word": kept aside until confirmed
                assert new_case.own_words_pending == event.text
                assert new_case.own_words == case.own_words
            else:
                assert new_case.own_words == event.text  # odd, but a legitimate answer there
            continue
        if current is Step.PLATFORMS and event == Press(data="platforms:facebook"):
            continue  # the one place where this old button is a valid answer
        if current is Step.PROOF and isinstance(event, Text) and event.text in VALID_OWN_WORDS:
            assert new_case.proof is not None and new_case.proof.text == event.text
            continue  # any pasted text can be Meta's confirmation
        assert new_case == case, (current, event)
        if isinstance(event, Press):  # a button of no open question: a notice on it, no more
            assert effects == [Notice(message="stale_button_notice")], (current, event)
            continue
        expected = [s.message for s in steps.ask(case, knowledge)]
        assert expected, current
        assert messages(effects)[-len(expected) :] == expected, (current, event)


def test_stale_button_from_an_earlier_question_is_explained(knowledge: Knowledge) -> None:
    """Pressing an old message's button is answered on the button (a notice), not with a new
    chat message; typing that button's label instead says so in the chat."""
    case = at_letter(knowledge).model_copy(update={"step": Step.EMAIL})
    new_case, effects = machine.step(case, Press(data="platforms:facebook"), NOW, knowledge)
    assert new_case == case
    assert effects == [Notice(message="stale_button_notice")]
    typed = Press(data="platforms:facebook", typed=True)
    new_case, effects = machine.step(case, typed, NOW, knowledge)
    assert new_case == case
    assert messages(effects) == ["stale_button", "ask_email"]


def test_unknown_country_offers_suggestions_and_keeps_the_answers(knowledge: Knowledge) -> None:
    """A typo gets close matches; the answers given before stay."""
    case, _ = run(
        Case.new(1, NOW), Command(name="start"), Press(data="platforms:facebook"), k=knowledge
    )
    new_case, effects = machine.step(case, Text(text="Germny"), NOW, knowledge)
    assert new_case == case
    say = effects[0]
    assert isinstance(say, Say) and say.message == "country_unknown"
    assert "DE" in say.context["suggestions"]


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("Deutschland", "DE"),
        ("germany", "DE"),
        ("DE", "DE"),
        ("Österreich", "AT"),
        ("UK", "GB"),
        ("united kingdom", "GB"),
        ("Brasil", "BR"),
        ("USA", "US"),
        ("schweiz", "CH"),
        # by its own name, in its own script, and the common variants (CLDR, many languages)
        ("Polska", "PL"),
        ("Italia", "IT"),
        ("Sverige", "SE"),
        ("Česko", "CZ"),
        ("Ελλάδα", "GR"),
        ("България", "BG"),
        ("Suomi", "FI"),
        ("Magyarország", "HU"),
        ("Lëtzebuerg", "LU"),
        ("Norge", "NO"),
        ("Ísland", "IS"),
        ("the Netherlands", "NL"),
        ("la France", "FR"),
        ("U.S.A.", "US"),
        ("Republic of Korea", "KR"),
        ("Suisse", "CH"),
        ("Svizzera", "CH"),
        ("日本", "JP"),
        ("Україна", "UA"),
        ("Türkiye", "TR"),
    ],
)
def test_country_in_any_supported_form(knowledge: Knowledge, typed: str, code: str) -> None:
    """Names in the bot's languages and the languages of the people it serves (each country's
    own name too), ISO codes and common aliases all find the country."""
    case = Case.new(1, NOW).model_copy(update={"step": Step.COUNTRY, "language": "en"})
    new_case, _ = machine.step(case, Text(text=typed), NOW, knowledge)
    assert new_case.country == code
    # in the USA the state decides the law: it is asked next
    assert new_case.step is (Step.STATE if code == "US" else Step.EMAIL)


@pytest.mark.parametrize(
    "bad", ["not an email", "a@", "@b.com", "a b@c.de", "x" * 300 + "@a.de", "a@b"]
)
def test_invalid_email_is_refused(knowledge: Knowledge, bad: str) -> None:
    """Anything that is not an address is refused with a clear message."""
    case = Case.new(1, NOW).model_copy(update={"step": Step.EMAIL, "language": "en"})
    new_case, effects = machine.step(case, Text(text=bad), NOW, knowledge)
    assert new_case == case
    assert messages(effects) == ["email_invalid", "ask_email"]


def test_reason_buttons_toggle_and_keep_a_stable_order(knowledge: Knowledge) -> None:
    """Tapping a situation twice removes it; the stored order follows the enum."""
    case = Case.new(1, NOW).model_copy(
        update={"step": Step.REASONS, "language": "en", "country": "DE"}
    )
    case, _ = run(case, Press(data="reasons:privacy"), Press(data="reasons:children"), k=knowledge)
    assert case.reasons == (Reason.CHILDREN, Reason.PRIVACY)
    case, effects = run(case, Press(data="reasons:privacy"), k=knowledge)
    assert case.reasons == (Reason.CHILDREN,)
    assert case.step is Step.REASONS
    assert messages(effects) == ["ask_reasons"]


def test_own_words_too_long_are_refused_without_losing_anything(knowledge: Knowledge) -> None:
    """Over-long own words get the limit explained; the earlier words stay."""
    case = at_letter(knowledge).model_copy(update={"step": Step.OWN_WORDS})
    new_case, effects = machine.step(case, Text(text="y" * 10_000), NOW, knowledge)
    assert new_case == case
    assert messages(effects)[0] == "own_words_too_long"


def test_own_words_are_stored_exactly_as_typed(knowledge: Knowledge) -> None:
    """HTML, Jinja syntax and emoji are kept verbatim (escaping is the renderer's job)."""
    typed = "<b>bold</b> {{ 7*7 }} {% if %} & 🦄"
    case = at_letter(knowledge).model_copy(update={"step": Step.OWN_WORDS})
    new_case, _ = machine.step(case, Text(text=typed), NOW, knowledge)
    assert new_case.own_words == typed


def test_cancel_pauses_and_start_resumes_at_the_same_question(knowledge: Knowledge) -> None:
    """/cancel leaves the question, keeps the answers; /start comes back to it."""
    case = at_letter(knowledge).model_copy(update={"step": Step.EMAIL})
    paused, effects = machine.step(case, Command(name="cancel"), NOW, knowledge)
    assert paused.step is Step.PAUSED and paused.resume_step is Step.EMAIL
    assert paused.answers() == case.answers()
    resumed, effects = machine.step(paused, Command(name="start"), NOW, knowledge)
    assert resumed.step is Step.EMAIL and resumed.resume_step is None
    assert messages(effects) == ["ask_email"]


def test_language_switch_returns_to_the_question(knowledge: Knowledge) -> None:
    """/language asks, the choice is stored, and the journey continues where it was."""
    case = at_letter(knowledge).model_copy(update={"step": Step.COUNTRY, "language": "en"})
    asking, _ = machine.step(case, Command(name="language"), NOW, knowledge)
    assert asking.step is Step.LANGUAGE
    done, effects = machine.step(asking, Press(data="language:de"), NOW, knowledge)
    assert done.language == "de" and done.step is Step.COUNTRY
    assert messages(effects) == ["language_set", "ask_country"]


def test_delete_asks_first_then_forgets_everything_but_the_language(knowledge: Knowledge) -> None:
    """/delete asks for confirmation; "yes" emits Forget and leaves an empty case."""
    case = at_letter(knowledge)
    asked, effects = machine.step(case, Command(name="delete"), NOW, knowledge)
    assert asked == case.model_copy(update={"erase_asked": True})
    assert messages(effects) == ["delete_confirm"]
    new_case, effects = machine.step(asked, Press(data="delete:yes"), NOW, knowledge)
    assert isinstance(effects[0], Forget)
    assert new_case.step is Step.NEW
    assert all(not v for v in new_case.answers().values())


def test_delete_declined_keeps_everything(knowledge: Knowledge) -> None:
    """ "No, keep my data" changes nothing and repeats the current question."""
    case = at_letter(knowledge).model_copy(update={"step": Step.EMAIL})
    asked, _ = machine.step(case, Command(name="delete"), NOW, knowledge)
    kept, effects = machine.step(asked, Press(data="delete:no"), NOW, knowledge)
    assert kept == case
    assert messages(effects) == ["delete_kept", "ask_email"]


def test_an_old_yes_after_no_asks_again_and_erases_nothing(knowledge: Knowledge) -> None:
    """The "Yes, erase" button of a question already answered "No" asks again first."""
    case = at_letter(knowledge)
    asked, _ = machine.step(case, Command(name="delete"), NOW, knowledge)
    kept, _ = machine.step(asked, Press(data="delete:no"), NOW, knowledge)
    again, effects = machine.step(kept, Press(data="delete:yes"), NOW, knowledge)
    assert not any(isinstance(e, Forget) for e in effects)
    assert messages(effects) == ["stale_button", "delete_confirm"]
    assert again.answers() == case.answers() and again.erase_asked
    erased, effects = machine.step(again, Press(data="delete:yes"), NOW, knowledge)
    assert isinstance(effects[0], Forget) and erased.step is Step.NEW


def test_the_erase_question_is_closed_by_any_other_answer(knowledge: Knowledge) -> None:
    """Asked to erase, the person carries on instead: a later "Yes" asks again; a reminder
    arriving in between leaves the question open."""
    case = at_letter(knowledge)
    asked, _ = machine.step(case, Command(name="delete"), NOW, knowledge)
    reminded, _ = machine.step(asked, Reminder(key="nothing", due_at=NOW), NOW, knowledge)
    assert reminded.erase_asked
    moved_on, _ = machine.step(asked, Command(name="status"), NOW, knowledge)
    assert not moved_on.erase_asked
    _, effects = machine.step(moved_on, Press(data="delete:yes"), NOW, knowledge)
    assert not any(isinstance(e, Forget) for e in effects)
    _, effects = machine.step(moved_on, Press(data="delete:no"), NOW, knowledge)
    assert effects == [Notice(message="stale_button_notice")]


def test_mydata_sends_a_summary_and_the_json(knowledge: Knowledge) -> None:
    """/mydata: a readable summary and the data document; nothing changes."""
    case = at_letter(knowledge)
    same, effects = machine.step(case, Command(name="mydata"), NOW, knowledge)
    assert same == case
    assert messages(effects) == ["mydata"]
    assert any(isinstance(e, SendData) and e.case == case for e in effects)


def test_start_over_asks_first_then_clears_answers(knowledge: Knowledge) -> None:
    """ "Start over" from the letter asks before it erases; "no" keeps everything; "yes"
    clears every answer and asks for platforms again."""
    case = at_letter(knowledge)
    same, effects = machine.step(case, Press(data="letter:start_over"), NOW, knowledge)
    assert same == case and messages(effects) == ["start_over_confirm"]
    kept, effects = machine.step(case, Press(data="letter:start_over_no"), NOW, knowledge)
    assert kept == case and messages(effects) == ["ask_letter"]
    new_case, effects = machine.step(case, Press(data="letter:start_over_yes"), NOW, knowledge)
    assert new_case.step is Step.PLATFORMS
    assert all(not v for v in new_case.answers().values())
    assert messages(effects) == ["ask_platforms"]


def test_submitted_records_the_milestone(knowledge: Knowledge) -> None:
    """ "I submitted the form" stores the date."""
    new_case, effects = machine.step(
        at_letter(knowledge), Press(data="letter:submitted"), NOW, knowledge
    )
    assert new_case.form_submitted_at == NOW
    assert messages(effects) == ["ask_code"]


def test_info_commands_change_nothing(knowledge: Knowledge) -> None:
    """/help, /privacy and /status answer without touching the case."""
    case = at_letter(knowledge)
    for name, message in [("help", "help"), ("privacy", "privacy"), ("status", "status")]:
        new_case, effects = machine.step(case, Command(name=name), NOW, knowledge)
        assert new_case == case
        assert messages(effects)[0] == message


def test_any_first_message_opens_the_conversation(fresh: Case, knowledge: Knowledge) -> None:
    """A person who says "hi" instead of /start is welcomed just the same."""
    case, effects = machine.step(fresh, Text(text="hi"), NOW, knowledge)
    assert case.step is Step.PLATFORMS
    assert messages(effects) == ["welcome", "ask_platforms"]


def test_unsupported_client_language_falls_back_to_english(
    fresh: Case, knowledge: Knowledge
) -> None:
    """A client language the bot does not speak yet gives English."""
    case, _ = machine.step(fresh, Command(name="start", client_language="ja-JP"), NOW, knowledge)
    assert case.language == "en"


def test_language_first_then_welcome(fresh: Case, knowledge: Knowledge) -> None:
    """A new person who starts with /language gets the welcome after choosing."""
    asking, _ = machine.step(fresh, Command(name="language"), NOW, knowledge)
    case, effects = machine.step(asking, Press(data="language:de"), NOW, knowledge)
    assert case.language == "de" and case.step is Step.PLATFORMS
    assert messages(effects) == ["language_set", "welcome", "ask_platforms"]


def test_language_while_paused_returns_to_the_paused_question(knowledge: Knowledge) -> None:
    """Pausing, then changing language, brings the person back to the question they left."""
    case = at_letter(knowledge).model_copy(update={"step": Step.EMAIL})
    case, _ = run(
        case,
        Command(name="cancel"),
        Command(name="language"),
        Press(data="language:en"),
        k=knowledge,
    )
    assert case.step is Step.EMAIL and case.resume_step is None


def test_emoji_sequences_are_fine_but_bidi_overrides_are_not(knowledge: Knowledge) -> None:
    """Family emoji (zero-width joiners) pass; a right-to-left override does not."""
    case = at_letter(knowledge).model_copy(update={"step": Step.OWN_WORDS})
    family = "My family 👨\u200d👩\u200d👧 appears in my photos."
    ok, _ = machine.step(case, Text(text=family), NOW, knowledge)
    assert ok.own_words == family
    bad, effects = machine.step(case, Text(text="I agree\u202e.eerga ton od I"), NOW, knowledge)
    assert bad == case and messages(effects)[0] == "own_words_control_chars"


# -- typed short answers --------------------------------------------------------------------


def _at_own_words(knowledge: Knowledge, language: str = "en") -> Walk:
    walk = Walk.begin(knowledge, START, language=language)
    walk.command("start")
    walk.press("platforms:facebook")
    walk.text("Germany")
    walk.text("a@example.org")
    walk.press("reasons:children")
    walk.press("reasons:done")
    assert walk.case.step is Step.OWN_WORDS
    return walk


@pytest.mark.parametrize(
    "typed", ["no", "No.", "nein", "skip", "Überspringen", "keine", "nothing", "NEIN!"]
)
def test_a_typed_no_or_skip_at_the_own_words_question_is_skip_never_own_words(
    knowledge: Knowledge, typed: str
) -> None:
    """ "no" typed where the bot asks for own words means "nothing to add": the letter gets
    no "In my own words: no"."""
    walk = _at_own_words(knowledge)
    effects = walk.text(typed)
    assert walk.case.step is Step.LETTER
    assert walk.case.own_words is None
    letters = [e for e in effects if isinstance(e, SendLetter)]
    assert letters and letters[0].case.own_words is None


@pytest.mark.parametrize("typed", ["Kinder", "2", "photographer", "🦄"])
def test_a_one_word_own_text_is_confirmed_before_it_goes_into_the_letter(
    knowledge: Knowledge, typed: str
) -> None:
    walk = _at_own_words(knowledge)
    effects = walk.text(typed)
    assert said(effects) == ["own_words_confirm"]
    assert walk.case.step is Step.OWN_WORDS and walk.case.own_words is None
    assert not [e for e in effects if isinstance(e, SendLetter)]
    walk.press("own_words:use")
    assert walk.current().step is Step.LETTER
    assert walk.case.own_words == typed and walk.case.own_words_pending is None


def test_a_one_word_text_can_still_be_declined_or_replaced(knowledge: Knowledge) -> None:
    walk = _at_own_words(knowledge)
    walk.text("Fotografin")
    walk.press("own_words:skip")
    assert walk.case.step is Step.LETTER and walk.case.own_words is None
    walk = _at_own_words(knowledge)
    walk.text("Fotografin")
    walk.text("Ich bin Fotografin und lebe von meinen Bildern.")
    assert walk.case.own_words == "Ich bin Fotografin und lebe von meinen Bildern."
    assert walk.case.own_words_pending is None


@pytest.mark.parametrize(("typed", "linked"), [("ja", True), ("Yes", True), ("nein", False)])
def test_typed_yes_and_no_answer_a_yes_no_question_in_any_language(
    knowledge: Knowledge, typed: str, linked: bool
) -> None:
    walk = Walk.begin(knowledge, START)
    walk.command("start")
    walk.press("platforms:both")
    assert walk.case.step is Step.LINKED
    walk.text(typed)
    assert walk.case.linked_accounts is linked and walk.current().step is Step.COUNTRY


@pytest.mark.parametrize(("typed", "erased"), [("yes", True), ("ja", True), ("nein", False)])
def test_typed_yes_or_no_answers_erase_everything(
    knowledge: Knowledge, typed: str, erased: bool
) -> None:
    walk = _at_own_words(knowledge)
    walk.command("delete")
    effects = walk.text(typed)
    assert any(isinstance(e, Forget) for e in effects) is erased
    if not erased:
        assert walk.case.step is Step.OWN_WORDS and walk.case.own_words is None
        assert walk.case.email == "a@example.org"


def test_other_text_while_erase_is_asked_asks_again_and_never_becomes_own_words(
    knowledge: Knowledge,
) -> None:
    walk = _at_own_words(knowledge)
    walk.command("delete")
    before = walk.case
    effects = walk.text("I am a photographer and my work is my living.")
    assert said(effects) == ["delete_answer_expected", "delete_confirm"]
    assert walk.case == before and walk.case.erase_asked
    assert not any(isinstance(e, Forget) for e in effects)
    walk.text("no")
    assert walk.case.own_words is None and not walk.case.erase_asked


def test_gdpr_letters_can_also_ask_for_erasure_and_access(knowledge: Knowledge) -> None:
    """Under the GDPR (and the UK GDPR) the person can tick two more requests; each tap
    rewrites the text and shows the tick; a second tap takes it out again."""
    walk = Walk.begin(knowledge, START).to_letter("DE")
    effects = walk.press("letter:erasure")
    assert walk.case.ask_erasure and not walk.case.ask_access
    (letter,) = [e for e in effects if isinstance(e, SendLetter)]
    assert letter.case.ask_erasure
    (ask,) = [e for e in effects if isinstance(e, Say) and e.message == "ask_letter"]
    ticks = {b.data: b.selected for row in ask.buttons for b in row}
    assert ticks["letter:erasure"] is True and ticks["letter:access"] is False
    walk.press("letter:access")
    walk.press("letter:erasure")
    assert walk.case.ask_access and not walk.case.ask_erasure


@pytest.mark.parametrize("country", ["US", "JP", "BR"])
def test_no_gdpr_options_where_the_gdpr_does_not_apply(knowledge: Knowledge, country: str) -> None:
    walk = Walk.begin(knowledge, START).to_letter(country)
    (ask,) = steps.ask(walk.case, knowledge)
    assert "letter:erasure" not in [b.data for row in ask.buttons for b in row]
    effects = walk.press("letter:erasure")
    assert effects == [Notice(message="stale_button_notice")] and not walk.case.ask_erasure


@pytest.mark.parametrize(("country", "gdpr"), [("DE", True), ("GB", True), ("US", False)])
def test_the_particular_situation_is_only_claimed_where_the_gdpr_asks_for_it(
    knowledge: Knowledge, renderer: Renderer, country: str, gdpr: bool
) -> None:
    walk = Walk.begin(knowledge, START)
    walk.command("start")
    walk.press("platforms:facebook")
    walk.text(country)
    walk.text("a@example.org")
    (ask,) = steps.ask(walk.case, knowledge)
    shown = renderer.message(ask, "en").plain
    assert ("particular situation" in shown) is gdpr


# -- the USA: the state decides the law ------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "region", "jurisdiction"),
    [("state:US-CA", "US-CA", "us_ca"), ("state:other", None, "us")],
)
def test_americans_are_asked_their_state_and_only_californians_get_the_ccpa(
    knowledge: Knowledge, answer: str, region: str | None, jurisdiction: str
) -> None:
    walk = Walk.begin(knowledge, START)
    walk.command("start")
    walk.press("platforms:facebook")
    walk.text("United States")
    assert walk.case.step is Step.STATE
    effects = walk.press(answer)
    assert walk.current().step is Step.EMAIL and walk.case.region == region
    (confirmed,) = [e for e in effects if isinstance(e, Say) and e.message == "country_set"]
    assert confirmed.context["jurisdiction"] == jurisdiction
    assert knowledge.jurisdiction_key("US", walk.case.region) == jurisdiction


@pytest.mark.parametrize(
    ("typed", "region"), [("California", "US-CA"), ("CA", "US-CA"), ("Texas", "US-TX")]
)
def test_a_typed_state_is_understood(knowledge: Knowledge, typed: str, region: str) -> None:
    walk = Walk.begin(knowledge, START)
    walk.command("start")
    walk.press("platforms:facebook")
    walk.text("USA")
    walk.text(typed)
    assert walk.case.step is Step.EMAIL and walk.case.region == region


def test_a_new_country_forgets_the_old_state(knowledge: Knowledge) -> None:
    walk = Walk.begin(knowledge, START).to_letter("US", region="US-CA")
    assert walk.case.region == "US-CA"
    walk.press("letter:start_over_yes")
    walk.press("platforms:facebook")
    walk.text("Germany")
    assert walk.case.region is None and walk.case.step is Step.EMAIL


# -- the protect-your-data checklist ---------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "ads"), [("DE", False), ("US", True), ("BR", True), ("KR", False)]
)
def test_protect_checklist_is_there_for_everyone_with_the_right_regional_facts(
    knowledge: Knowledge, renderer: Renderer, country: str, ads: bool
) -> None:
    walk = Walk.begin(knowledge, START).to_letter(country)
    (say, apps) = walk.command("protect")
    assert isinstance(say, Say) and isinstance(apps, Say)
    assert say.message == "protect" and say.context["ai_chat_ads"] is ads
    assert apps.message == "protect_apps"
    shown = renderer.message(say, "en").plain + renderer.message(apps, "en").plain
    assert "A private profile is not enough" in shown and "Advanced Chat Privacy" in shown
    assert ("to personalise ads and content here" in shown) is ads


def test_protect_is_offered_at_the_letter_where_no_objection_right_exists(
    knowledge: Knowledge,
) -> None:
    walk = Walk.begin(knowledge, START).to_letter("AU")
    (ask,) = steps.ask(walk.case, knowledge)
    assert "letter:protect" in [b.data for row in ask.buttons for b in row]
    assert said(walk.press("letter:protect")) == ["protect", "protect_apps"]
    walk = Walk.begin(knowledge, START).to_letter("DE")
    (ask,) = steps.ask(walk.case, knowledge)
    assert "letter:protect" not in [b.data for row in ask.buttons for b in row]


@pytest.mark.parametrize(
    ("country", "offered"), [("DE", True), ("GB", True), ("BR", True), ("CH", False), ("US", False)]
)
def test_people_who_objected_before_are_told_they_need_not_object_again(
    knowledge: Knowledge, renderer: Renderer, country: str, offered: bool
) -> None:
    """Where the sources say an earlier objection stays valid, the country message says so and
    offers "I objected in 2024 or 2025"; the answer explains and the journey goes on."""
    walk = Walk.begin(knowledge, START)
    walk.command("start")
    walk.press("platforms:facebook")
    effects = walk.text(country)
    if walk.case.step is Step.STATE:
        effects = walk.press("state:other")
    (confirmed,) = [e for e in effects if isinstance(e, Say) and e.message == "country_set"]
    buttons = [b.data for row in confirmed.buttons for b in row]
    assert ("command:objected_before" in buttons) is offered
    if offered:
        before = walk.case
        reply = walk.press("command:objected_before")
        assert said(reply) == ["objected_before", "ask_email"] and walk.case == before
        explained = reply[0]
        assert isinstance(explained, Say)
        assert "earlier objection still counts" in renderer.message(explained, "en").plain


def test_the_waiting_message_shows_how_to_recognise_metas_confirmation(
    knowledge: Knowledge, renderer: Renderer
) -> None:
    walk = Walk.begin(knowledge, START).to_letter("DE")
    walk.press("letter:submitted")
    effects = walk.press("submitted:no_code_needed")
    (waiting,) = [e for e in effects if isinstance(e, Say) and e.message == "waiting"]
    shown = renderer.message(waiting, "en").plain
    assert "We will honour your objection for your public information" in shown
    assert "facebookmail.com" in shown


def test_the_brain_reads_a_typed_label_in_any_language_as_its_button(
    knowledge: Knowledge, renderer: Renderer
) -> None:
    """Typed "Beide" by an English-speaking person, "germany" at the country buttons: the
    brain matches them against the open question, with the label texts handed in."""
    case = Case.new(1, NOW).model_copy(update={"step": Step.PLATFORMS, "language": "en"})
    new_case, _ = machine.step(case, Text(text="Beide"), NOW, knowledge, None, renderer.label_texts)
    assert new_case.step is Step.LINKED and len(new_case.platforms) == 2
    unlabelled, _ = machine.step(case, Text(text="Beide"), NOW, knowledge)
    assert unlabelled.platforms == ()  # without the label texts, nothing is guessed


def test_no_typed_short_answer_means_two_things() -> None:
    """Short answers are read in every language at once: a word that is "no" in one language
    and "skip" in another would be read one way only (whichever came last)."""
    from conversations import answers
    from conversations.countries import normalize

    meanings: dict[str, set[str]] = {}
    for meaning, languages in answers.WORDS.items():
        for words in languages.values():
            for word in words:
                meanings.setdefault(normalize(word), set()).add(meaning)
    assert {w: m for w, m in meanings.items() if len(m) > 1} == {}
    for languages in answers.WORDS.values():  # every language the bot speaks has its words
        assert set(languages) == set(LANGUAGES)


def letter_buttons(effects: Sequence[Effect]) -> dict[str, str]:
    """The letter step's buttons, data -> label key."""
    buttons = [b for e in effects if isinstance(e, Say) for row in e.buttons for b in row]
    return {str(b.data): b.label for b in buttons}


@pytest.mark.parametrize(
    ("language", "country", "usual"),
    [
        ("uk", "DE", "en"),
        ("ar", "FR", "en"),
        ("tr", "CY", "tr"),
        ("de", "DE", "de"),
        ("fr", "DE", "fr"),
    ],
)
def test_a_guest_languages_text_to_meta_is_in_english_unless_official_there(
    knowledge: Knowledge, language: str, country: str, usual: str
) -> None:
    """Ukrainian in Germany: the objection in English (Meta's European reviewers read it), one tap
    to have it in Ukrainian and back; Turkish in Cyprus (official there) and any EU language in
    its own; the complaint is left to the authority's language."""
    case = at_letter(knowledge, country).model_copy(update={"language": language})
    assert letter_language(case) == usual and letter_language(case, "followup") == usual
    assert letter_language(case, "complaint") == language
    buttons = letter_buttons(steps.ask(case, knowledge))
    if usual == "en":
        assert buttons["letter:in_own"] == "letter.in_own_first"
        own, effects = machine.step(case, Press(data="letter:in_own"), NOW, knowledge)
        assert own.letter_language == language and letter_language(own) == language
        (sent,) = [e for e in effects if isinstance(e, SendLetter)]
        assert letter_language(sent.case) == language
        assert letter_buttons(effects)["letter:in_english"] == "letter.in_english"
        back, _ = machine.step(own, Press(data="letter:in_english"), NOW, knowledge)
        assert back.letter_language is None and letter_language(back) == "en"
    else:
        assert buttons["letter:in_english"] == "letter.in_english"
        english, _ = machine.step(case, Press(data="letter:in_english"), NOW, knowledge)
        assert english.letter_language == "en"
        own, _ = machine.step(english, Press(data="letter:in_own"), NOW, knowledge)
        assert own.letter_language is None and letter_language(own) == language
