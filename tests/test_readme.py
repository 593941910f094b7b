"""The README tells the truth: its diagram is the transition table, its test command is CI's."""

from __future__ import annotations

from pathlib import Path

from conversations.diagram import mermaid

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- diagram:begin -->", "<!-- diagram:end -->"


def test_readme_diagram_matches_the_transition_table() -> None:
    """Regenerate with: optout-bot diagram (paste between the README markers)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    embedded = readme.split(BEGIN, 1)[1].split(END, 1)[0]
    assert embedded.strip() == f"```mermaid\n{mermaid()}```".strip()


def test_ci_runs_the_readme_test_command() -> None:
    """.ci/run runs the same test command the README's Quick start gives."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = "bash scripts/test"
    assert command in readme and command in ci
