"""The cases the benchmarks store: a new person, and people with their letter at the step
where reminders and check-ins come, built on the tests' one case factory."""

from __future__ import annotations

from datetime import datetime, timedelta

from conversations import Case, Platform, Step
from tests.conftest import letter_case


def new_case(chat_id: int, now: datetime) -> Case:
    """A person who has just started, in English (``Case.new``, as the inbox makes one)."""
    return Case.new(chat_id, now).model_copy(update={"language": "en"})


def _in_germany(chat_id: int, now: datetime, **fields: object) -> Case:
    """``tests.conftest.letter_case`` for a person in Berlin whose case began ``now`` and is
    not escalated; ``fields`` say how far they are."""
    return letter_case(
        "DE",
        "en",
        chat_id=chat_id,
        created_at=now,
        updated_at=now,
        timezone="Europe/Berlin",
        escalated_at=None,
        **fields,
    )


def code_case(chat_id: int, now: datetime, expires: datetime) -> Case:
    """A person who has Meta's code (step CODE): a ``code_left:30`` reminder says "30 minutes"."""
    return _in_germany(
        chat_id,
        now,
        step=Step.CODE,
        platforms=(Platform.INSTAGRAM,),
        letter_written_at=now - timedelta(minutes=20),
        form_submitted_at=now - timedelta(minutes=5),
        deadline_at=None,
        code_received_at=now,
        code_expires_at=expires,
    )


def waiting_case(chat_id: int, now: datetime) -> Case:
    """A person waiting for Meta's answer (step WAITING): the one who gets check-ins."""
    return _in_germany(
        chat_id,
        now,
        step=Step.WAITING,
        platforms=(Platform.FACEBOOK,),
        letter_written_at=now - timedelta(days=1),
        form_submitted_at=now - timedelta(days=1),
        code_entered_at=now - timedelta(days=1),
        deadline_at=now + timedelta(days=29),
        next_checkin_at=now + timedelta(days=2),
    )
