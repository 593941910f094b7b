"""Shared fixtures: the real knowledge file, the real templates, a real SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.keys import Sealer, load_sealer
from bot.renderer import Renderer
from bot.storage import Storage
from conversations import knowledge as knowledge_data
from conversations.case import Case, Reason
from conversations.knowledge import Knowledge, Platform

START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


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


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    return knowledge_data.load()


@pytest.fixture(scope="session")
def renderer(knowledge: Knowledge) -> Renderer:
    return Renderer(knowledge)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "optout.sqlite3"


def key_file_for(db: Path) -> Path:
    """Where tests keep the encryption key for a database: beside, never inside, its folder."""
    return db.parent.parent / "keys" / "optout.key"


def sealer_for_db(db: Path) -> Sealer:
    """The sealer the bot uses for ``db`` (the key file is created on first use)."""
    return load_sealer(None, key_file_for(db), db)


async def open_storage(db: Path) -> Storage:
    return await Storage.open(db, sealer_for_db(db))


@pytest.fixture
async def storage(db_path: Path) -> AsyncIterator[Storage]:
    store = await open_storage(db_path)
    yield store
    await store.close()
