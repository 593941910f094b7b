"""Every step of the journey in one place: its question, its handlers, and what arriving at it
and leaving it do (``StepSpec``), one module per part of the journey:

- ``journey``: the questions up to the letter (platforms … own words, the letter);
- ``code``: the form was sent, Meta's code and its countdown;
- ``waiting``: check-ins until the deadline, the proof, the escalation;
- ``side``: the language, the time zone, a pause, and the step before everything.

Where the case goes next is the transition table's business (``conversations.table``); the
machine (``conversations.machine``) moves it and calls these.
"""

from __future__ import annotations

from conversations.case import Case, Step
from conversations.contract import StepSpec
from conversations.effects import Say
from conversations.knowledge import Knowledge
from conversations.steps import code, journey, side, waiting

STEPS: dict[Step, StepSpec] = {
    spec.step: spec for spec in (*journey.SPECS, *code.SPECS, *waiting.SPECS, *side.SPECS)
}
_missing = set(Step) - set(STEPS)
assert not _missing, f"steps without a StepSpec: {sorted(_missing)}"


def ask(case: Case, knowledge: Knowledge) -> list[Say]:
    """The question for the case's current step, with its buttons (nothing for a new case)."""
    return STEPS[case.step].question(case, knowledge)


__all__ = ["STEPS", "StepSpec", "ask"]
