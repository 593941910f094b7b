"""The operator interface: settings errors, the letter command, the diagram command."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from babel.dates import format_date

from bot.__main__ import LETTER_KINDS, main
from bot.renderer import Letter, Renderer
from conversations import knowledge
from conversations.case import Case, Reason
from conversations.countries import country_name
from conversations.diagram import mermaid
from conversations.effects import LetterKind, Say
from conversations.knowledge import Platform

ROOT = Path(__file__).resolve().parents[2]
SCRATCH = Path(tempfile.mkdtemp(prefix="optout-cli-"))


def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPTOUT_")}
    clean["OPTOUT_DATABASE_PATH"] = str(SCRATCH / "data" / "cli.sqlite3")
    clean["OPTOUT_KEY_FILE"] = str(SCRATCH / "keys" / "cli.key")
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env={**clean, **env},
        cwd=ROOT,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("OPTOUT_TELEGRAM_API_URL", "ftp://example.org"),
        ("OPTOUT_LOG_LEVEL", "LOUD"),
        ("OPTOUT_TELEGRAM_TOKEN", "not-a-token"),
        ("OPTOUT_CONSOLE_CHAT_ID", "abc"),
    ],
)
def test_invalid_setting_names_the_variable_without_a_traceback(variable: str, value: str) -> None:
    """A bad setting ends with exit code 2 and one line naming it."""
    done = cli("console", **{variable: value})
    assert done.returncode == 2
    assert variable in done.stderr
    assert "Traceback" not in done.stderr


def test_run_without_token_explains_what_to_do() -> None:
    """`run` with no token says which setting is missing."""
    done = cli("run")
    assert done.returncode == 2 and "OPTOUT_TELEGRAM_TOKEN" in done.stderr


def test_letter_prints_the_german_objection(capsys: pytest.CaptureFixture[str]) -> None:
    """`letter` renders the same text the chat sends, here in German for Austria."""
    code = main(
        [
            "letter",
            "--country",
            "at",
            "--platform",
            "instagram",
            "--reason",
            "creative",
            "--text",
            "Ich bin Illustratorin.",
            "--email",
            "a@example.at",
            "--lang",
            "de",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert (
        "Art. 21 Abs. 1 DSGVO" in out and "Ich bin Illustratorin." in out and "a@example.at" in out
    )


def test_letter_rejects_an_unknown_country(capsys: pytest.CaptureFixture[str]) -> None:
    """A country code that does not exist is refused, not guessed."""
    assert (
        main(["letter", "--country", "XX", "--platform", "facebook", "--email", "a@b.example"]) == 2
    )
    assert "unknown country" in capsys.readouterr().err


def test_letter_help_lists_kinds_platforms_and_archetypes() -> None:
    """`letter --help` names every kind, platform and reason archetype."""
    done = cli("letter", "--help")
    assert done.returncode == 0
    for name in (*LETTER_KINDS, *(p.value for p in Platform), *(r.value for r in Reason)):
        assert name in done.stdout


# -- letter --kind: every text the bot writes ------------------------------------------------

EMAIL = "a@example.org"
#: (arguments, language, the region that must reach the renderer, the law every text cites)
PLACES: dict[str, tuple[list[str], str, str | None, str | None]] = {
    "DE-BY": (["--country", "DE", "--region", "DE-BY", "--lang", "de"], "de", "DE-BY", "DSGVO"),
    "GB": (["--country", "gb", "--lang", "en"], "en", None, "UK GDPR"),
    # which law a Californian's texts cite is being settled (see test_us_state_reaches_...)
    "US-CA": (["--country", "US", "--state", "CA", "--lang", "en"], "en", "US-CA", None),
}


@dataclass(frozen=True)
class Printed:
    out: str
    case: Case  # what the renderer was given
    kind: LetterKind


def letter(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> Printed:
    """Run `letter` in-process and catch the case it hands to the chat's renderer."""
    seen: list[tuple[Case, LetterKind]] = []
    render = Renderer.letter

    def spy(self: Renderer, case: Case, kind: LetterKind = "objection") -> Letter:
        seen.append((case, kind))
        return render(self, case, kind)

    monkeypatch.setattr(Renderer, "letter", spy)
    code = main(
        ["letter", "--platform", "instagram", "--reason", "creative", "--email", EMAIL, *args]
    )
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert printed.err == ""
    [(case, kind)] = seen
    return Printed(printed.out, case, kind)


def long_date(moment: datetime | None, language: str) -> str:
    assert moment is not None
    return str(format_date(moment, format="long", locale=language))


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("kind", LETTER_KINDS)
def test_every_kind_renders_for_the_case_as_given(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], kind: str, place: str
) -> None:
    """Each kind renders through the chat's renderer with the country, region and e-mail given."""
    args, language, region, law = PLACES[place]
    printed = letter(monkeypatch, capsys, "--kind", kind, *args)
    case = printed.case
    assert printed.kind == LETTER_KINDS[kind]
    assert (case.country, case.region, case.language) == (place[:2], region, language)
    if kind != "form-text":  # the form has its own fields for the account and the country
        assert EMAIL in printed.out and country_name(place[:2], language) in printed.out
    assert law is None or law in printed.out
    assert "{{" not in printed.out and "{%" not in printed.out


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("kind", ["followup", "complaint"])
def test_escalation_texts_get_a_timeline_whose_deadline_has_passed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], kind: str, place: str
) -> None:
    """A follow-up or complaint is written as on the day a person escalates after the deadline."""
    args, language, _, _ = PLACES[place]
    before = datetime.now(UTC)
    printed = letter(monkeypatch, capsys, "--kind", kind, *args)
    case = printed.case
    assert case.form_submitted_at and case.code_entered_at and case.escalated_at
    assert case.form_submitted_at <= case.code_entered_at < case.escalated_at
    assert before <= case.escalated_at <= datetime.now(UTC)
    assert case.refused_at is None
    assert long_date(case.form_submitted_at, language) in printed.out
    if case.deadline_at is not None:  # where the law sets a period, it ended before today
        assert case.code_entered_at < case.deadline_at < case.escalated_at - timedelta(hours=23)
        if kind == "complaint":  # the complaint sets out the whole timeline for the authority
            assert long_date(case.deadline_at, language) in printed.out


@pytest.mark.parametrize("kind", ["followup", "complaint"])
def test_refused_timeline_says_meta_refused_before_its_deadline(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    """--refused: Meta refused today, while its deadline (named in the text) still runs."""
    printed = letter(monkeypatch, capsys, "--kind", kind, "--refused", *PLACES["GB"][0])
    case = printed.case
    assert case.refused_at is not None and case.refused_at == case.escalated_at
    assert case.deadline_at is not None and case.deadline_at > case.refused_at
    assert long_date(case.refused_at, "en") in printed.out
    if kind == "complaint":
        assert long_date(case.deadline_at, "en") in printed.out


@pytest.mark.parametrize(
    ("region", "language", "authority"),
    [("DE-BY", "de", "regulators.de_by"), ("DE-BE", "en", "regulators.de_be")],
)
def test_complaint_is_addressed_to_the_german_states_authority(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    region: str,
    language: str,
    authority: str,
) -> None:
    """--region picks the competent authority the complaint is addressed to."""
    args = ["--kind", "complaint", "--country", "DE", "--region", region, "--lang", language]
    printed = letter(monkeypatch, capsys, *args)
    facts = knowledge.load()
    assert f"regulators.{facts.regulator_key_for('DE', region)}" == authority
    regulator = facts.regulator_for("DE", region)
    assert regulator is not None and not regulator.generic
    assert regulator.name[language] in printed.out
    if region == "DE-BY":
        assert "BayLDA" in printed.out


def test_complaint_in_the_uk_is_addressed_to_the_ico(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The UK complaint names the Information Commissioner's Office."""
    printed = letter(monkeypatch, capsys, "--kind", "complaint", *PLACES["GB"][0])
    assert "Information Commissioner" in printed.out


@pytest.mark.parametrize("state", ["CA", "us-ca", "US-CA"])
def test_us_state_reaches_the_renderer(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], state: str
) -> None:
    """--state CA (or US-CA) becomes case.region US-CA; California's texts name the CCPA."""
    args = ["--kind", "complaint", "--country", "US", "--state", state]
    printed = letter(monkeypatch, capsys, *args)
    assert printed.case.region == "US-CA"
    assert "United States" in printed.out
    # California's own jurisdiction (picked by case.region) is being added to the knowledge
    # data; until it is there, the US texts do not depend on the state and nothing more holds.
    if "us_ca" in knowledge.load().jurisdictions:
        assert "CCPA" in printed.out


@pytest.mark.parametrize("place", PLACES)
def test_form_text_is_the_objections_form_text(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], place: str
) -> None:
    """--kind form-text prints exactly the objection's form text, and --form-text is the same."""
    args = PLACES[place][0]
    printed = letter(monkeypatch, capsys, "--kind", "form-text", "--text", "I draw.", *args)
    objection = Renderer(knowledge.load()).letter(printed.case, "objection")
    assert printed.out == objection.form_text
    assert "I draw." in printed.out
    alias = letter(monkeypatch, capsys, "--form-text", "--text", "I draw.", *args)
    assert alias.out == printed.out and alias.kind == "objection"


def test_own_words_go_in_as_typed_and_the_email_as_the_chat_keeps_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--text reaches the letter verbatim; --email is normalised as the chat normalises it."""
    words = "Ich bin <Illustratorin>."
    printed = letter(monkeypatch, capsys, "--country", "AT", "--lang", "de", "--text", words)
    assert words in printed.out and printed.case.own_words == words
    mixed = letter(monkeypatch, capsys, "--country", "AT", "--email", "A@EXAMPLE.ORG")
    assert mixed.case.email == "A@example.org"


LETTER_ARGS = ["letter", "--platform", "facebook", "--email", EMAIL]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--country", "DE", "--email", "not-an-address"], "--email"),
        (["--country", "DE", "--email", "a b@example.org"], "--email"),
        (["--country", "XX"], "unknown country code 'XX'"),
        (["--country", "Germany"], "did you mean DE"),
        (["--country", "DE", "--region", "FR-IDF"], "FR-IDF (Île-de-France) is not in Germany"),
        (["--country", "US", "--state", "BY"], "'BY' is not an ISO 3166-2 region code"),
        (["--country", "DE", "--region", "DE-XX"], "'DE-XX' is not an ISO 3166-2 region code"),
        (["--country", "DE", "--state", "CA"], "--state is a US state"),
        (["--country", "DE", "--text", "   "], "--text"),
    ],
)
def test_letter_refuses_a_bad_argument_in_one_line(args: list[str], says: str) -> None:
    """A bad argument ends with exit code 2 and one line on stderr, no traceback, no text."""
    done = cli(*LETTER_ARGS, *args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("optout-bot: ") and says in done.stderr


def test_an_invalid_email_is_refused_with_the_chats_own_words() -> None:
    """The e-mail check is the chat's: the same refusal, in the language asked for."""
    chat = Renderer(knowledge.load()).message(Say(message="email_invalid"), "de").plain
    done = cli(*LETTER_ARGS, "--country", "DE", "--lang", "de", "--email", "nobody@")
    assert done.returncode == 2
    assert " ".join(chat.split()) in done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--country", "DE", "--kind", "summary"],
        ["--country", "DE", "--platform", "whatsapp"],
        ["--country", "DE", "--reason", "bored"],
        ["--country", "DE", "--region", "DE-BY", "--state", "CA"],
    ],
)
def test_letter_refuses_an_unknown_choice(args: list[str]) -> None:
    """An unknown kind, platform or reason is refused by name, with the usage, exit code 2."""
    done = cli(*LETTER_ARGS, *args)
    assert done.returncode == 2 and done.stdout == ""
    assert "Traceback" not in done.stderr
    assert "invalid choice" in done.stderr or "not allowed with" in done.stderr


def test_diagram_command_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    """`diagram` prints exactly what the README embeds."""
    assert main(["diagram"]) == 0
    assert capsys.readouterr().out == mermaid()
