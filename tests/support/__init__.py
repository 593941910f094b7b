"""What the tests share: the moment they start at, a hand-moved clock, the one case factory, and
the database a test bot keeps with its key. The modules next to this one hold the rest:

- ``journey``: the journey script (``JOURNEY``: /start to the letter) and its aftercare branches,
  data that every end-to-end, hostile and property test replays;
- ``running``: ``running_bot``, the real Telegram application started and stopped, with typed
  access to its services and the chat template behind every message it sends;
- ``telegram``: the local Bot API request layer that records every call, and
  ``TelegramClient``, one person in a chat;
- ``walks``: ``Walk``, the same scripts through the pure brain with a hand-moved clock;
- ``transport``: a recording outbox transport and ``drain``, for the sender's unit tests;
- ``botapi_server``, ``smtp``, ``processes``: a Bot API server and SMTP servers on 127.0.0.1, and
  the real bot process started as an operator starts it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.keys import Sealer, load_sealer
from bot.storage import Storage
from conversations.case import Case, Reason
from conversations.knowledge import Platform

START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # 10:00 in Berlin

#: One (country, region) per jurisdiction, including those only a region selects (a test
#: checks that every jurisdiction of the knowledge data is here).
PLACES: dict[str, tuple[str, str | None]] = {
    "eea": ("DE", "DE-BY"),
    "ch": ("CH", None),
    "uk": ("GB", None),
    "br": ("BR", None),
    "jp": ("JP", None),
    "kr": ("KR", None),
    "us": ("US", "US-TX"),
    "us_ca": ("US", "US-CA"),
    "ca": ("CA", "CA-QC"),
    "au": ("AU", None),
    "in": ("IN", None),
    "rest": ("NZ", None),
}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def letter_case(country: str, language: str, **fields: object) -> Case:
    """A case that has its letter (written and submitted at START, escalated 40 days later):
    the one factory the template and fact tests build their cases with; ``fields`` override."""
    return Case.new(1, START).model_copy(
        update={
            "country": country,
            "language": language,
            "email": "holder@example.org",
            "platforms": (Platform.FACEBOOK, Platform.INSTAGRAM),
            "linked_accounts": True,
            "reasons": (Reason.CHILDREN,),
            "reasons_done": True,
            "letter_written_at": START,
            "form_submitted_at": START,
            "deadline_at": START + timedelta(days=30),
            "escalated_at": START + timedelta(days=40),
            **fields,
        }
    )


def key_file_for(db: Path) -> Path:
    """Where tests keep the encryption key for a database: beside, never inside, its folder."""
    return db.parent.parent / "keys" / "optout.key"


def sealer_for_db(db: Path) -> Sealer:
    """The sealer the bot uses for ``db`` (the key file is created on first use)."""
    return load_sealer(None, key_file_for(db), db)


async def open_storage(db: Path) -> Storage:
    return await Storage.open(db, sealer_for_db(db))
