"""Backups and upgrades: an online copy while the bot writes, restored and read back whole and
still encrypted; a database from a newer version is refused with one clear message."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bot.storage import MIGRATIONS, NewerDatabase, backup
from conversations.case import Case, Step
from conversations.effects import Say, Schedule
from tests.support import START, key_file_for, open_storage

ROOT = Path(__file__).resolve().parents[2]
EMAIL = "backup.drill.person@example.org"


def case(chat_id: int, generation: int) -> Case:
    return Case.new(chat_id, START).model_copy(
        update={
            "step": Step.REASONS,
            "language": "de",
            "country": "DE",
            "email": EMAIL,
            "own_words": f"generation {generation}",
        }
    )


async def test_backup_under_load_restores_every_case_intact_and_encrypted(
    db_path: Path, tmp_path: Path
) -> None:
    """Three backups while 200 people's cases are being written: each copy opens as the bot's
    database (same key), holds every case committed before it began exactly as committed, is
    readable only by its owner, and has the e-mail address nowhere in clear text."""
    store = await open_storage(db_path)
    committed: dict[int, Case] = {}
    stop = asyncio.Event()

    async def write() -> None:
        generation = 0
        while not stop.is_set():
            generation += 1
            for chat_id in range(1, 201):
                new = case(chat_id, generation)
                reminder = Schedule(key="checkin", due_at=START)
                await store.commit(new, [Say(message="ask_reasons"), reminder])
                committed[chat_id] = new
            await asyncio.sleep(0)

    writer = asyncio.create_task(write())
    try:
        while len(committed) < 200:
            await asyncio.sleep(0.01)
        copies = []
        for number in range(3):
            before = dict(committed)  # every case here was committed before the backup began
            target = tmp_path / "backups" / f"optout-{number}.sqlite3"
            target.parent.mkdir(exist_ok=True)
            made = await asyncio.to_thread(backup, db_path, target)
            assert made.path == target and made.cases == 200 and made.reminders == 200
            copies.append((target, before))
    finally:
        stop.set()
        await writer
        await store.close()

    for target, before in copies:
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        assert EMAIL.encode() not in target.read_bytes()
        # restore: the copy becomes the database of a bot with the same key
        restored = tmp_path / "restored" / "data" / "optout.sqlite3"
        shutil.rmtree(restored.parent.parent, ignore_errors=True)
        restored.parent.mkdir(parents=True)
        shutil.copyfile(target, restored)
        key = key_file_for(restored)
        key.parent.mkdir(parents=True)
        shutil.copyfile(key_file_for(db_path), key)
        back = await open_storage(restored)
        try:
            for chat_id, saved in before.items():
                loaded = await back.load(chat_id)
                assert loaded is not None and loaded.email == EMAIL
                generation = int(str(loaded.own_words).split()[1])
                assert generation >= int(str(saved.own_words).split()[1])
            assert await back.schema_version() == len(MIGRATIONS)
        finally:
            await back.close()


def test_a_backup_never_replaces_a_file_and_needs_a_database(db_path: Path, tmp_path: Path) -> None:
    target = tmp_path / "kept.sqlite3"
    target.write_text("the operator's own file")
    with pytest.raises(FileNotFoundError):
        backup(db_path, tmp_path / "new.sqlite3")
    asyncio.run(_create(db_path))
    with pytest.raises(FileExistsError):
        backup(db_path, target)
    assert target.read_text() == "the operator's own file"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


async def _create(db_path: Path) -> None:
    store = await open_storage(db_path)
    await store.commit(case(1, 1), [])
    await store.close()


def test_a_database_from_a_newer_version_is_refused(db_path: Path) -> None:
    """user_version above what this code knows: not opened, not migrated, not changed."""
    asyncio.run(_create(db_path))
    with sqlite3.connect(db_path) as raw:
        raw.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    before = db_path.read_bytes()
    with pytest.raises(NewerDatabase, match=f"schema version {len(MIGRATIONS) + 1}, newer"):
        asyncio.run(open_storage(db_path))
    assert db_path.read_bytes() == before


def run_cli(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPTOUT_")}
    env["OPTOUT_DATABASE_PATH"] = str(data)
    env["OPTOUT_KEY_FILE"] = str(key_file_for(data))
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_the_backup_and_refusal_commands(db_path: Path, tmp_path: Path) -> None:
    """`optout-bot backup PATH` says what it copied and that the key is kept apart; a second
    run to the same path refuses; any command on a newer database ends with one line."""
    asyncio.run(_create(db_path))
    target = tmp_path / "copy.sqlite3"
    done = run_cli("backup", str(target), data=db_path)
    assert done.returncode == 0, done.stderr
    assert "backed up 1 cases and 0 reminders" in done.stdout
    assert str(key_file_for(db_path)) in done.stdout and "separately" in done.stdout
    again = run_cli("backup", str(target), data=db_path)
    assert again.returncode == 2 and "never replaces" in again.stderr
    with sqlite3.connect(db_path) as raw:
        raw.execute("PRAGMA user_version = 99")
    refused = run_cli("console", data=db_path)
    assert refused.returncode == 2
    assert "schema version 99, newer than this optout-bot knows" in refused.stderr
    assert "Traceback" not in refused.stderr
