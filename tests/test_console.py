"""The console chat as a person uses it: a real process, stdin in, stdout out; kill -9 included."""

from __future__ import annotations

import asyncio
import contextlib
import io
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.assembly import assemble
from bot.console import (
    LOCALE_VARIABLES,
    ConsoleTransport,
    ConsoleVoice,
    terminal_language,
)
from bot.console import (
    run_console as console_session,
)
from bot.settings import Settings
from conversations import Event, Press
from conversations.case import Step
from tests.support import key_file_for, open_storage, sealer_for_db
from tests.support.processes import ROOT, optout_env


def console_env(db: Path, **variables: str) -> dict[str, str]:
    """The console's environment, in an English-speaking terminal unless ``variables`` say
    otherwise (the console follows the locale)."""
    env = optout_env(db, PYTHONUNBUFFERED="1")
    for name in (*LOCALE_VARIABLES, "LANGUAGE"):
        env.pop(name, None)
    return {**env, "LANG": "C.UTF-8", **variables}


def console(db: Path, lines: list[str], **variables: str) -> subprocess.CompletedProcess[str]:
    """``python -m bot console`` with ``lines`` piped in, to the end of its input."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=console_env(db, **variables),
        cwd=ROOT,
        timeout=120,
        check=True,
    )


def run_console(db: Path, lines: list[str], **variables: str) -> str:
    return console(db, lines, **variables).stdout


def test_console_journey_with_numbers_and_typed_answers(tmp_path: Path) -> None:
    """Numbered choices and typed answers lead to the letter and the form help."""
    out = run_console(
        tmp_path / "data" / "c.sqlite3",
        [
            "3",  # Both
            "1",  # linked
            "Deutschland",
            "person@example.de",
            "Children appear in my photos",
            "done",
            "I photograph my children.",
        ],
    )
    assert "[1] Facebook" in out
    assert "Which country do you live in?" in out
    assert "Art. 21(1) GDPR" in out
    assert "I photograph my children." in out
    assert "----- objection-en.txt -----" in out
    assert "https://www.facebook.com/help/contact/712876720715583" in out


def test_console_resumes_after_a_restart(tmp_path: Path) -> None:
    """A second run on the same database continues at the same question."""
    db = tmp_path / "data" / "c.sqlite3"
    run_console(db, ["1", "Italy"])
    out = run_console(db, [])
    assert "Welcome back" in out
    assert "Which e-mail address" in out.split("Welcome back", 1)[1]


#: The answer a person gives at each step (the console reads them like Telegram messages).
ANSWERS = {
    Step.PLATFORMS: "Both",
    Step.LINKED: "No, separate accounts",
    Step.COUNTRY: "France",
    Step.EMAIL: "kill@example.fr",
    Step.REASONS: "done",
    Step.OWN_WORDS: "Still here after kill -9.",
}
ORDER = [
    Step.NEW,
    Step.PLATFORMS,
    Step.LINKED,
    Step.COUNTRY,
    Step.EMAIL,
    Step.REASONS,
    Step.OWN_WORDS,
    Step.LETTER,
]


async def stored(db: Path) -> tuple[Step, dict[str, object]]:
    store = await open_storage(db)
    try:
        case = await store.load(1)
    finally:
        await store.close()
    return (case.step, case.answers()) if case else (Step.NEW, {})


async def test_kill_9_at_random_points_loses_no_answer(tmp_path: Path) -> None:
    """SIGKILL at random moments: every stored answer survives and the journey goes on."""
    db = tmp_path / "data" / "k.sqlite3"
    rng = random.Random(20261126)
    step = Step.NEW
    answers: dict[str, object] = {}
    kills = 0
    # The kills fall around the moment this machine's console has started and reads the answer
    # (some before, most after): how long a start takes is measured first, not assumed.
    started = time.perf_counter()
    first = await start_console(tmp_path / "warm" / "w.sqlite3", output=asyncio.subprocess.DEVNULL)
    assert first.stdin is not None
    first.stdin.write(b"/quit\n")
    await first.stdin.drain()
    await first.wait()
    startup = time.perf_counter() - started
    for _ in range(40):
        if step is Step.LETTER:
            break
        proc = await start_console(db, output=asyncio.subprocess.DEVNULL)
        assert proc.stdin is not None
        if step in ANSWERS:
            proc.stdin.write((ANSWERS[step] + "\n").encode())
            await proc.stdin.drain()
        await asyncio.sleep(max(0.0, startup + rng.uniform(-0.5, 1.0)))
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        kills += 1
        new_step, new_answers = await stored(db)
        assert ORDER.index(new_step) >= ORDER.index(step), "went backwards"
        for field, value in answers.items():
            if value not in (None, ()):
                assert new_answers[field] == value, f"lost {field}"
        step, answers = new_step, new_answers
    assert step is Step.LETTER, f"stuck at {step} after {kills} kills"
    assert answers["own_words"] == "Still here after kill -9."
    assert answers["country"] == "FR"


# -- leaving: /quit, end of input, Ctrl-C -----------------------------------------------------

GOODBYE = "Bye! Your answers are kept"


def closed_cleanly(db: Path) -> bool:
    """The database was closed, not abandoned: SQLite removes the WAL at the last close."""
    return db.exists() and not db.with_name(db.name + "-wal").exists()


def test_end_of_input_ends_the_console_with_a_goodbye(tmp_path: Path) -> None:
    """Piped input that simply ends (no /quit): exit 0, a goodbye, no traceback, storage closed."""
    db = tmp_path / "data" / "c.sqlite3"
    done = console(db, ["3"])
    assert done.returncode == 0 and "Traceback" not in done.stderr
    assert done.stdout.rstrip().endswith(
        GOODBYE + ": start the console again to continue where you left off."
    )
    assert closed_cleanly(db)


async def start_console(
    db: Path, output: int = asyncio.subprocess.PIPE, **variables: str
) -> asyncio.subprocess.Process:
    """``optout-bot console`` as a person starts it, on ``db``; ``output``: where its stdout and
    stderr go (piped to be read, or DEVNULL); ``variables``: more environment."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "console",
        stdin=asyncio.subprocess.PIPE,
        stdout=output,
        stderr=output,
        env=console_env(db, **variables),
        cwd=ROOT,
    )


async def read_until(proc: asyncio.subprocess.Process, text: str) -> str:
    """Stdout up to and including the line that holds ``text``."""
    assert proc.stdout is not None
    seen = ""
    async with asyncio.timeout(60):
        while text not in seen:
            line = await proc.stdout.readline()
            assert line, f"the console ended before saying {text!r}: {seen[-500:]}"
            seen += line.decode()
    return seen


async def test_ctrl_c_while_waiting_for_input_ends_the_console_cleanly(tmp_path: Path) -> None:
    """SIGINT while the console waits for a line (stdin open, nothing typed): it says goodbye,
    closes the storage and exits 0 without a traceback."""
    db = tmp_path / "data" / "c.sqlite3"
    proc = await start_console(db)
    await read_until(proc, "[3] Both")
    proc.send_signal(signal.SIGINT)
    async with asyncio.timeout(30):
        out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    assert "Traceback" not in err.decode()
    assert GOODBYE in out.decode()
    assert closed_cleanly(db)


async def test_ctrl_c_at_random_moments_never_ends_in_a_traceback(tmp_path: Path) -> None:
    """SIGINT right after an answer (while its step may be running), once or twice: always
    exit 0, no traceback, the storage closed, and the answers kept."""
    db = tmp_path / "data" / "c.sqlite3"
    rng = random.Random(20261127)
    for attempt, answer in enumerate(["3", "1", "France", "ctrl-c@example.fr"]):
        proc = await start_console(db)
        assert proc.stdin is not None
        await read_until(proc, "Welcome back" if attempt else "[3] Both")
        proc.stdin.write(f"{answer}\n".encode())
        await proc.stdin.drain()
        await asyncio.sleep(rng.uniform(0.0, 0.2))
        proc.send_signal(signal.SIGINT)
        if attempt % 2:  # impatient: a second Ctrl-C does not wait for the step
            await asyncio.sleep(rng.uniform(0.0, 0.05))
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)
        async with asyncio.timeout(30):
            _, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        assert "Traceback" not in err.decode(), err.decode()
        assert closed_cleanly(db)
    new_step, _ = await stored(db)
    assert ORDER.index(new_step) >= ORDER.index(Step.PLATFORMS)


# -- /help, language, flood ------------------------------------------------------------------


def test_help_in_the_console_lists_quit(tmp_path: Path) -> None:
    """/help in the console ends with the /quit line (Telegram's /help has no /quit)."""
    out = run_console(tmp_path / "data" / "c.sqlite3", ["/help"])
    overview = out.split("What I can do", 1)[1]
    assert "/help – this overview\n/quit – leave the console" in overview
    assert out.count("/quit –") == 1


@pytest.mark.parametrize(
    ("variables", "greeting"),
    [
        ({"LANG": "de_DE.UTF-8"}, "Hallo!"),
        ({"LANG": "en_GB.UTF-8", "LC_ALL": "de_AT.UTF-8"}, "Hallo!"),  # LC_ALL rules
        ({"LANG": "de_DE.UTF-8", "LC_MESSAGES": "C"}, "Hello!"),  # C is English
        ({"LANG": "C.UTF-8"}, "Hello!"),
    ],
)
def test_the_console_greets_in_the_terminals_language(
    tmp_path: Path, variables: dict[str, str], greeting: str
) -> None:
    """The locale (LC_ALL, then LC_MESSAGES, then LANG) is the language a new chat starts in."""
    out = run_console(tmp_path / "data" / "c.sqlite3", [], **variables)
    assert out.lstrip().startswith(greeting)


@pytest.mark.parametrize(
    ("environ", "language"),
    [
        ({"LANG": "de_DE.UTF-8"}, "de-DE"),
        ({"LANG": "de_AT@euro"}, "de-AT"),
        ({"LANG": "fr"}, "fr"),
        ({"LANG": "de_DE.UTF-8", "LC_MESSAGES": "en_US.UTF-8"}, "en-US"),
        ({"LC_MESSAGES": "de_DE.UTF-8", "LC_ALL": "POSIX"}, None),
        ({"LC_ALL": "", "LANG": "de_CH.UTF-8"}, "de-CH"),  # empty is unset
        ({"LANG": "C"}, None),
        ({}, None),
    ],
)
def test_terminal_language_follows_posix_precedence(
    environ: dict[str, str], language: str | None
) -> None:
    """A locale name becomes a client language tag; C, POSIX or none mean no preference."""
    assert terminal_language(environ) == language


def test_a_burst_of_piped_lines_is_answered_line_by_line(tmp_path: Path) -> None:
    """A terminal is one person: lines piped in faster than the flood guard allows in Telegram
    (here one message at once) are all read and answered, none dropped, no slow-down notice."""
    lines = ["/help"] * 8
    done = console(
        tmp_path / "data" / "c.sqlite3",
        lines,
        OPTOUT_INPUT_BURST="1",
        OPTOUT_INPUT_PER_SECOND="0.01",
    )
    assert done.stdout.count("What I can do") == len(lines)
    assert "a lot of messages" not in done.stdout


# -- what only the console does -----------------------------------------------------------------


PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n"


async def test_a_binary_document_is_saved_and_where_is_said(tmp_path: Path) -> None:
    """A PDF is saved under the data directory (for this user only) and one line says where,
    in the person's language; a text document is printed as before; nothing is deleted."""
    db = tmp_path / "data" / "c.sqlite3"
    settings = Settings(database_path=db, key_file=key_file_for(db), _env_file=None)
    out = io.StringIO()
    transport = ConsoleTransport(out, documents=tmp_path / "data" / "documents")
    services = await assemble(settings, sealer_for_db(db), transport, "inline")
    transport.voice = ConsoleVoice(services.renderer, services.storage, 1, "de-DE")
    try:
        await transport.send_document(1, "evidence-pack-de.pdf", PDF)
        await transport.send_document(1, "objection-en.txt", "Grüße\n".encode())
        await transport.delete_message(1, 1)
    finally:
        await services.storage.close()
    saved = tmp_path / "data" / "documents" / "evidence-pack-de.pdf"
    assert saved.read_bytes() == PDF
    assert saved.stat().st_mode & 0o077 == 0
    printed = out.getvalue()
    assert str(saved.resolve()) in printed and "%PDF" not in printed
    assert "----- objection-en.txt -----\nGrüße\n----- end of objection-en.txt -----" in printed


async def test_a_notice_from_the_inbox_is_its_own_line(tmp_path: Path) -> None:
    """What the inbox returns for an input (Telegram shows it on the tapped button) is printed
    by the console as a line of its own."""
    db = tmp_path / "data" / "c.sqlite3"
    settings = Settings(database_path=db, key_file=key_file_for(db), _env_file=None)
    out = io.StringIO()
    transport = ConsoleTransport(out)
    services = await assemble(settings, sealer_for_db(db), transport, "inline")
    voice = ConsoleVoice(services.renderer, services.storage, 1, None)

    async def handle(chat_id: int, event: Event) -> str | None:
        await services.inbox.handle(chat_id, event)
        return "This button is from an earlier question" if isinstance(event, Press) else None

    try:
        async with asyncio.timeout(30):
            await console_session(handle, services.sender, transport, 1, io.StringIO("3\n"), voice)
    finally:
        await services.storage.close()
    printed = out.getvalue()
    assert "\nThis button is from an earlier question\n" in printed
    assert printed.count("This button is from an earlier question") == 1
    assert printed.rstrip().endswith("continue where you left off.")
