"""Encryption at rest: what is on disk, where the key lives, upgrades and key rotation."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.keys import KeyProblem, Sealer, load_sealer, new_key
from bot.storage import MIGRATIONS, SEALED_FROM, Storage
from conversations.case import Case, Step
from conversations.effects import Say, SendLetter
from tests.support import START, key_file_for, open_storage

SECRET_EMAIL = "unmistakable.person+secret@example.org"
SECRET_WORDS = "My very particular situation, zebra-quartz-17."


def personal_case(chat: int = 1) -> Case:
    return Case.new(chat, START).model_copy(
        update={
            "step": Step.LETTER,
            "language": "en",
            "country": "DE",
            "email": SECRET_EMAIL,
            "own_words": SECRET_WORDS,
            "letter_written_at": START,
        }
    )


def raw_bytes(db: Path) -> bytes:
    with sqlite3.connect(db) as raw:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))


async def test_personal_data_is_not_readable_on_disk(db_path: Path) -> None:
    """Neither the case nor the queued letter shows the e-mail or the reason in the file."""
    storage = await open_storage(db_path)
    case = personal_case()
    await storage.commit(case, [SendLetter(case=case), Say(message="help")])
    assert (await storage.load(1)) == case  # readable through the bot ...
    await storage.close()
    disk = raw_bytes(db_path)
    assert SECRET_EMAIL.encode() not in disk  # ... and not on disk
    assert SECRET_WORDS.encode() not in disk


def test_key_file_is_created_private_and_outside_the_database_folder(db_path: Path) -> None:
    """First start creates a 0600 key file; a key inside the database folder is refused."""
    key_file = key_file_for(db_path)
    load_sealer(None, key_file, db_path)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    with pytest.raises(KeyProblem, match="inside the database folder"):
        load_sealer(None, db_path.parent / "optout.key", db_path)


async def test_the_wrong_key_cannot_read_the_data(db_path: Path) -> None:
    """Data sealed with one key does not open with another: a clear error, not garbage."""
    storage = await open_storage(db_path)
    await storage.commit(personal_case(), [])
    await storage.close()
    other = await Storage.open(db_path, Sealer((new_key(),)))
    with pytest.raises(KeyProblem):
        await other.load(1)
    await other.close()


async def test_upgrading_an_unencrypted_database_seals_its_rows(db_path: Path) -> None:
    """A database from before encryption (schema 2) is sealed when the new version opens it."""
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as raw:
        for script in MIGRATIONS[: SEALED_FROM - 1]:
            raw.executescript(script)
        raw.execute(f"PRAGMA user_version = {SEALED_FROM - 1}")
        raw.execute(
            "INSERT INTO cases (chat_id, step, data, updated_at) VALUES (1, 'letter', ?, '')",
            (personal_case().model_dump_json(),),
        )
    storage = await open_storage(db_path)
    assert (await storage.load(1)) == personal_case()
    await storage.close()
    assert SECRET_EMAIL.encode() not in raw_bytes(db_path)


async def test_rotate_key_re_encrypts_everything(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`optout-bot rotate-key`: the new key reads everything, the old one nothing."""
    key_file = key_file_for(db_path)
    storage = await open_storage(db_path)
    await storage.commit(personal_case(), [Say(message="help")])
    await storage.close()
    old_key = key_file.read_bytes().strip()
    for name in ("OPTOUT_ENCRYPTION_KEY", "OPTOUT_TELEGRAM_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPTOUT_DATABASE_PATH", str(db_path))
    monkeypatch.setenv("OPTOUT_KEY_FILE", str(key_file))
    # main() runs its own event loop, so it is called from a worker thread here.
    assert await asyncio.to_thread(main, ["rotate-key"]) == 0
    new = key_file.read_bytes().strip()
    assert new != old_key and not key_file.with_name(key_file.name + ".new").exists()
    storage = await Storage.open(db_path, Sealer((new,)))
    assert (await storage.load(1)) == personal_case()
    assert len(await storage.pending(1)) == 1
    await storage.close()
    stale = await Storage.open(db_path, Sealer((old_key,)))
    with pytest.raises(KeyProblem):
        await stale.load(1)
    await stale.close()
