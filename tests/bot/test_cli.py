"""The operator interface: settings errors, the letter command, the diagram command."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from bot.__main__ import main
from conversations.diagram import mermaid

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


def test_letter_help_lists_the_archetypes() -> None:
    """`letter --help` names every reason archetype."""
    done = cli("letter", "--help")
    assert done.returncode == 0
    for archetype in (
        "children",
        "sensitive",
        "creative",
        "public_role",
        "harassment",
        "third_parties",
        "privacy",
    ):
        assert archetype in done.stdout


def test_diagram_command_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    """`diagram` prints exactly what the README embeds."""
    assert main(["diagram"]) == 0
    assert capsys.readouterr().out == mermaid()
