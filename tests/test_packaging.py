"""A normal install, not the editable one the tests run in: the wheel carries the templates and
catalogs as package data, and the installed bot renders its texts from any directory."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )


def test_the_wheel_installed_outside_the_repository_writes_letters(tmp_path: Path) -> None:
    """Build the wheel, install it into a fresh virtual environment in a temporary folder
    (its dependencies taken from the test environment's site-packages, read as a plain path, so
    the editable install there is not loaded), and print letters in French and Greek from
    there: the code, the knowledge data, the templates and the catalogs all come from the
    wheel."""
    built = run(
        sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp_path, ROOT, cwd=tmp_path
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("optout_bot-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "optout_templates/chat/welcome.html.j2" in names
    assert "optout_templates/locale/fr/LC_MESSAGES/messages.po" in names
    assert "optout_templates/letters/el/objection.txt.j2" in names
    assert "conversations/knowledge.toml" in names

    venv = tmp_path / "fresh"
    made = run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    target = Path(
        run(
            python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp_path
        ).stdout.strip()
    )
    # a path line in a .pth is added to sys.path; the .pth files found there are not run
    (target / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    with zipfile.ZipFile(wheel) as archive:  # installing a wheel is unpacking it (PEP 427)
        archive.extractall(target)

    where = run(python, "-c", "import bot, optout_templates; print(bot.__file__)", cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(target)
    for language, words in (("fr", "article 21, paragraphe 1, du RGPD"), ("el", "εναντίωση")):
        letter = run(
            python,
            "-m",
            "bot",
            "letter",
            *("--country", "FR", "--platform", "instagram", "--email", "a@example.org"),
            *("--lang", language),
            cwd=tmp_path,
        )
        assert letter.returncode == 0, letter.stderr
        assert words in letter.stdout
