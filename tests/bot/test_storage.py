"""Storage on a real SQLite file: migrations, atomic commits, the sender, erasure."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from bot.storage import MIGRATIONS, Storage
from conversations.case import Case, Step
from conversations.effects import Cancel, Forget, Say, Schedule
from tests.support import START, open_storage


async def test_new_database_is_migrated_to_the_latest_version(storage: Storage) -> None:
    """A fresh file gets every migration and WAL mode."""
    assert await storage.schema_version() == len(MIGRATIONS)


async def test_reopening_does_not_migrate_twice(db_path: Path) -> None:
    """Opening an existing database keeps its data and version."""
    store = await open_storage(db_path)
    await store.commit(Case.new(7, START).model_copy(update={"step": Step.EMAIL}), [])
    await store.close()
    store = await open_storage(db_path)
    try:
        case = await store.load(7)
        assert case is not None and case.step is Step.EMAIL
        assert await store.schema_version() == len(MIGRATIONS)
    finally:
        await store.close()
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_case_round_trips_as_a_model(storage: Storage) -> None:
    """What is saved is what is loaded, field for field."""
    case = Case.new(9, START).model_copy(
        update={"step": Step.REASONS, "country": "DE", "email": "a@b.example", "language": "de"}
    )
    await storage.commit(case, [])
    assert await storage.load(9) == case
    assert await storage.load(10) is None


async def test_commit_writes_case_and_outbox_together(storage: Storage) -> None:
    """The new state and its messages land in one transaction, in order."""
    case = Case.new(3, START).model_copy(update={"step": Step.COUNTRY, "language": "en"})
    await storage.commit(case, [Say(message="a"), Say(message="b")])
    pending = await storage.pending(3)
    assert [p.effect.message for p in pending if isinstance(p.effect, Say)] == ["a", "b"]
    await storage.delivered(pending[0].id)
    assert len(await storage.pending(3)) == 1


async def test_failed_commit_leaves_nothing_behind(storage: Storage) -> None:
    """If any part of a commit fails, neither the case nor its messages are saved."""

    case = Case.new(4, START)
    bad = Say(message="x", context={"not json": object()})
    with pytest.raises(Exception):  # noqa: B017 - any serialisation error will do
        await storage.commit(case, [Say(message="ok"), bad])
    assert await storage.load(4) is None
    assert await storage.pending(4) == []


async def test_forget_erases_case_and_outbox(storage: Storage) -> None:
    """Forget removes every row about the chat and keeps only the goodbye."""
    case = Case.new(5, START).model_copy(update={"email": "gone@example.org", "language": "en"})
    await storage.commit(case, [Say(message="queued")])
    await storage.commit(Case.new(5, START), [Forget(chat_id=5), Say(message="deleted")])
    assert await storage.load(5) is None
    assert [p.effect.message for p in await storage.pending(5) if isinstance(p.effect, Say)] == [
        "deleted"
    ]


async def test_reminders_are_scheduled_replaced_and_cancelled(storage: Storage) -> None:
    """Schedule upserts by key; Cancel drops by key; both in the case's transaction."""
    case = Case.new(6, START)
    soon, later = START + timedelta(minutes=5), START + timedelta(hours=1)
    await storage.commit(
        case, [Schedule(key="tick", due_at=later), Schedule(key="checkin", due_at=later)]
    )
    await storage.commit(case, [Schedule(key="tick", due_at=soon), Cancel(keys=("checkin",))])
    assert await storage.reminders(6) == {"tick": soon}
    assert await storage.next_due() == soon


async def test_due_reminders_are_claimed_once_and_released_after_a_crash(storage: Storage) -> None:
    """A claimed reminder is not handed out twice; a restart releases unfinished claims."""
    await storage.commit(Case.new(8, START), [Schedule(key="tick", due_at=START)])
    first = await storage.claim_due(START + timedelta(seconds=1))
    assert [r.key for r in first] == ["tick"]
    assert await storage.claim_due(START + timedelta(seconds=2)) == []
    assert await storage.release_claims() == 1
    again = await storage.claim_due(START + timedelta(seconds=3))
    assert [r.id for r in again] == [first[0].id]


async def test_consuming_a_reminder_and_scheduling_its_successor_is_atomic(
    storage: Storage,
) -> None:
    """The tick that fired is deleted and the next tick stored in the same commit."""
    case = Case.new(9, START)
    await storage.commit(case, [Schedule(key="tick", due_at=START)])
    (due,) = await storage.claim_due(START)
    nxt = START + timedelta(minutes=5)
    await storage.commit(case, [Schedule(key="tick", due_at=nxt)], consumed_reminder=due.id)
    assert await storage.reminders(9) == {"tick": nxt}
    assert [r.key for r in await storage.claim_due(nxt)] == ["tick"]


async def test_forget_erases_reminders_and_slots_too(storage: Storage) -> None:
    """/delete leaves no reminder and no remembered message behind."""
    case = Case.new(11, START)
    await storage.commit(case, [Schedule(key="checkin", due_at=START)])
    await storage.set_slot(11, "countdown", 5)
    await storage.commit(case, [Forget(chat_id=11)])
    assert await storage.reminders(11) == {}
    assert await storage.slot(11, "countdown") is None


# -- one writer: what many ask for at once is written together ------------------------------


def _count_trips(storage: Storage) -> list[int]:
    """Counts the hand-offs to the database thread (aiosqlite's queue)."""
    trips = [0]
    connection = storage._db  # the test looks at the thread's traffic, not at rows
    queue = connection._execute

    async def counted(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        trips[0] += 1
        return await queue(fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    connection._execute = counted  # type: ignore[method-assign]
    return trips


async def test_commits_asked_for_at_once_share_a_few_trips_to_the_database(
    storage: Storage,
) -> None:
    """Fifty people's steps committed at the same moment: every case and message is saved, in
    a handful of hand-offs to the database thread rather than one (or more) each."""
    trips = _count_trips(storage)
    cases = [Case.new(chat, START).model_copy(update={"language": "en"}) for chat in range(50)]
    await asyncio.gather(
        *(storage.commit(c, [Say(message="hi")], update_id=1000 + c.chat_id) for c in cases)
    )
    assert trips[0] <= 3, trips
    assert [await storage.load(c.chat_id) for c in cases] == cases
    assert await storage.count("outbox") == 50
    assert await storage.count("updates") == 50


async def test_one_failing_commit_in_a_group_is_undone_alone(db_path: Path) -> None:
    """The database refuses one person's write (a trigger standing in for a full disk or a
    bug): that commit raises and leaves nothing behind -- not its case, not its messages, not
    its update id -- while everyone committed in the same trip is saved."""
    storage = await open_storage(db_path)
    try:
        with sqlite3.connect(db_path) as raw:
            raw.execute(
                "CREATE TRIGGER refuse AFTER INSERT ON cases WHEN NEW.chat_id = 13"
                " BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        cases = [Case.new(chat, START).model_copy(update={"language": "en"}) for chat in range(20)]
        outcomes = await asyncio.gather(
            *(storage.commit(c, [Say(message="hi")], update_id=500 + c.chat_id) for c in cases),
            return_exceptions=True,
        )
        failed = [c.chat_id for c, o in zip(cases, outcomes, strict=True) if o is not None]
        assert failed == [13]
        assert isinstance(outcomes[13], sqlite3.IntegrityError)
        assert await storage.load(13) is None and await storage.pending(13) == []
        case, applied = await storage.load_for_update(13, 513)
        assert case is None and not applied  # so the update is tried again, not dropped
        for c in cases:
            if c.chat_id != 13:
                assert await storage.load(c.chat_id) == c
                assert len(await storage.pending(c.chat_id)) == 1
    finally:
        await storage.close()


async def test_an_erasure_among_other_commits_is_checkpointed_after_they_are_saved(
    db_path: Path,
) -> None:
    """/delete committed in the same trip as other people's steps: the erased rows are gone
    from the WAL too (the checkpoint runs outside the shared transaction), the others stay."""
    storage = await open_storage(db_path)
    try:
        gone = Case.new(1, START).model_copy(update={"email": "gone@example.org"})
        await storage.commit(gone, [Say(message="queued")])
        others = [Case.new(chat, START).model_copy(update={"language": "en"}) for chat in (2, 3)]
        await asyncio.gather(
            storage.commit(Case.new(1, START), [Forget(chat_id=1), Say(message="deleted")]),
            *(storage.commit(c, [Say(message="hi")]) for c in others),
        )
        assert await storage.load(1) is None
        assert [await storage.load(c.chat_id) for c in others] == others
        wal = db_path.with_name(db_path.name + "-wal")
        assert wal.stat().st_size == 0  # checkpointed and truncated after the shared commit
    finally:
        await storage.close()
