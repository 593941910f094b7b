"""The console chat as a person uses it: a real process, stdin in, stdout out; kill -9 included."""

from __future__ import annotations

import asyncio
import random
import signal
import subprocess
import sys
from pathlib import Path

from conversations.case import Step
from tests.support import open_storage
from tests.support.processes import ROOT, optout_env


def console_env(db: Path) -> dict[str, str]:
    return optout_env(db, PYTHONUNBUFFERED="1")


def run_console(db: Path, lines: list[str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=console_env(db),
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    return done.stdout


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
    for _ in range(40):
        if step is Step.LETTER:
            break
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "console",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            env=console_env(db),
            cwd=ROOT,
        )
        assert proc.stdin is not None
        if step in ANSWERS:
            proc.stdin.write((ANSWERS[step] + "\n").encode())
            await proc.stdin.drain()
        await asyncio.sleep(rng.uniform(0.0, 1.5))
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
