"""Shared fixtures: the real knowledge file, the real templates, a real SQLite file, and the
real Telegram bot running on it (``tests.support`` holds the helpers behind them)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.renderer import Renderer
from bot.storage import Storage
from conversations import knowledge as knowledge_data
from conversations.knowledge import Knowledge
from tests.support import START, Clock, key_file_for, letter_case, open_storage, sealer_for_db

if TYPE_CHECKING:
    from tests.support.running import RunningBot

#: Kept importable from here for the tests that still do (``tests.support`` is their home).
__all__ = ["START", "Clock", "key_file_for", "letter_case", "open_storage", "sealer_for_db"]


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    return knowledge_data.load()


@pytest.fixture(scope="session")
def renderer(knowledge: Knowledge) -> Renderer:
    return Renderer(knowledge)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "optout.sqlite3"


@pytest.fixture
async def storage(db_path: Path) -> AsyncIterator[Storage]:
    store = await open_storage(db_path)
    yield store
    await store.close()


@pytest.fixture
async def bot(db_path: Path) -> AsyncIterator[RunningBot]:
    """The Telegram bot with the default test settings, started on ``db_path`` and stopped
    after the test (``running_bot`` for other settings)."""
    # imported here: the benchmarks import this module for its case factory, not for Telegram
    from tests.support.running import running_bot

    async with running_bot(db_path) as running:
        yield running
