"""The only room with SQL: cases and the outbox of messages to deliver, in one SQLite file.

Rules:
- A new case state, the messages it causes and the id of the Telegram update that caused it are
  written in ONE transaction (``commit``), so a crash can never leave a saved answer without its
  reply, a reply without its answer, or an answer that would be applied twice.
- One connection, one writer at a time: every statement runs under one lock, so any number of
  concurrent updates, reminders and deliveries never interleave inside each other's
  transactions (and never read what another has not committed yet).
- WAL journal; schema changes are migrations counted by ``PRAGMA user_version``. After an
  erasure the WAL is checkpointed and truncated, so no copy of the erased rows stays on disk.
- Returns models, never rows.
- A database written by a newer version (a higher ``user_version`` than ``MIGRATIONS`` knows)
  is never opened: ``NewerDatabase``, rather than guessing at a schema this code cannot read.
- ``backup`` copies the database while the bot runs (``VACUUM INTO``: one consistent snapshot,
  without the free pages that erased rows left), checks the copy and never replaces a file.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
from pydantic import TypeAdapter

from bot.delivery import Delivery, plan
from bot.keys import Sealer
from conversations import Cancel, Case, Effect, Forget, Schedule, Step, Tally

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE cases (
        chat_id    INTEGER PRIMARY KEY,
        step       TEXT NOT NULL,
        data       TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE outbox (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        chat_id    INTEGER NOT NULL,
        language   TEXT NOT NULL,
        effect     TEXT NOT NULL,
        created_at TEXT NOT NULL,
        attempts   INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX outbox_by_chat ON outbox (chat_id, id);
    """,
    # Keeping time: reminders (absolute UTC epoch seconds), edited-in-place messages, and an
    # outbox that knows what is urgent and when a failed delivery may be retried.
    """
    CREATE TABLE reminders (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        chat_id    INTEGER NOT NULL,
        key        TEXT NOT NULL,
        due_at     REAL NOT NULL,
        claimed_at REAL,
        UNIQUE (chat_id, key)
    );
    CREATE INDEX reminders_by_due ON reminders (due_at) WHERE claimed_at IS NULL;
    CREATE TABLE slots (
        chat_id    INTEGER NOT NULL,
        slot       TEXT NOT NULL,
        message_id INTEGER NOT NULL,
        PRIMARY KEY (chat_id, slot)
    );
    ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE outbox ADD COLUMN not_before REAL NOT NULL DEFAULT 0;
    """,
    # Encryption at rest: rows written before it are sealed by ``_seal_plaintext`` (see open).
    "SELECT 1",
    # E-mail copies queue in their own lane, so a slow mail server never holds up the chat.
    "ALTER TABLE outbox ADD COLUMN lane TEXT NOT NULL DEFAULT 'chat'",
    # Releasing claims at start-up must not scan a million unclaimed reminders.
    "CREATE INDEX reminders_claimed ON reminders (claimed_at) WHERE claimed_at IS NOT NULL",
    # Many people at once: the Telegram updates already applied (ids only, no chat), so one
    # delivered again after a crash is recognised; one outbox row per Bot API call ("part"),
    # rows queued before that send every part (-1); reminders whose step failed are retried.
    """
    CREATE TABLE updates (update_id INTEGER PRIMARY KEY);
    ALTER TABLE outbox ADD COLUMN part INTEGER NOT NULL DEFAULT 0;
    UPDATE outbox SET part = -1;
    ALTER TABLE reminders ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE reminders ADD COLUMN first_due_at REAL;
    """,
    # Change alerts: who asked to be told when Meta's forms or their country's rules change,
    # readable without opening every case (a yes/no next to the chat id, nothing more).
    "ALTER TABLE cases ADD COLUMN alerts INTEGER NOT NULL DEFAULT 0",
    # Campaign links: how many starts each payload brought (a number, no chat id beside it).
    "CREATE TABLE campaigns (name TEXT PRIMARY KEY, starts INTEGER NOT NULL)",
)
#: The schema version from which case and message rows are sealed.
SEALED_FROM = 3

#: Steps after which a case is closed: its personal data goes after the shorter retention.
CLOSED_STEPS = (Step.DONE,)

#: A reminder whose step keeps failing is retried this often, then dropped (and logged).
REMINDER_ATTEMPTS = 5
#: Effects kept in memory after queuing them, at most (then forgotten, and read from disk).
OPENED_MEMORY = 10_000
#: One SQL statement and its parameters.
Statement = tuple[str, tuple[Any, ...]]
#: The tables that hold rows about a chat.
CHAT_TABLES = ("cases", "outbox", "reminders", "slots")

_EFFECT = TypeAdapter(Effect)
T = TypeVar("T")


@dataclass(frozen=True)
class OutboxItem:
    id: int
    chat_id: int
    language: str
    effect: Effect
    attempts: int
    priority: int = 0
    lane: str = "chat"  # "chat" (Telegram, rate-limited) or "mail" (SMTP)
    rank: int = 0  # the most urgent priority waiting in this chat's lane
    part: int = 0  # which Bot API call of the message (see bot.delivery)
    queued: int = 1  # rows waiting in this chat's lane, this one included


@dataclass(frozen=True)
class DueReminder:
    id: int
    chat_id: int
    key: str
    due_at: datetime  # when it was first due, even if its step failed and was retried
    attempts: int = 0


@dataclass(frozen=True)
class FollowUp:
    """A reminder a delivery leaves for the inbox, due at ``due_at``: an e-mail's outcome, or a
    message too late to send whose step is to be run again (``Storage.delivered``)."""

    chat_id: int
    key: str
    due_at: datetime


def _reminder(chat_id: int, key: str, due_at: datetime) -> Statement:
    """Schedule ``key`` for the chat at ``due_at`` (one with the same key is replaced)."""
    return (
        "INSERT INTO reminders (chat_id, key, due_at) VALUES (?, ?, ?) "
        "ON CONFLICT (chat_id, key) DO UPDATE SET due_at = excluded.due_at, "
        "claimed_at = NULL, attempts = 0, first_due_at = NULL",
        (chat_id, key, _epoch(due_at)),
    )


def _applied(update_id: int | None) -> list[Statement]:
    """Remembering the Telegram update a transaction applies (none: nothing to remember)."""
    return [] if update_id is None else [("INSERT OR IGNORE INTO updates VALUES (?)", (update_id,))]


def _alerts_only(case: Case) -> Case:
    """What an expired case keeps while its change alerts are on: language, country, yes."""
    kept = Case.new(case.chat_id, case.created_at)
    return kept.model_copy(
        update={
            "language": case.language,
            "country": case.country,
            "alerts": True,
            "updated_at": case.updated_at,
        }
    )


def _erasing(chat_id: int, tables: tuple[str, ...]) -> list[Statement]:
    return [(f"DELETE FROM {table} WHERE chat_id = ?", (chat_id,)) for table in tables]


@dataclass(frozen=True)
class _Work:
    """Something asked of the database thread, and where its outcome goes."""

    run: Callable[[sqlite3.Connection], Any]
    alone: bool
    future: asyncio.Future[Any]


@dataclass(frozen=True)
class _Failed:
    error: BaseException


def _trip(db: sqlite3.Connection, group: list[_Work]) -> list[object]:
    """On the database thread: run a group of work, each in its own savepoint, in as few
    transactions as its ``alone`` pieces allow. Returns each one's result, or ``_Failed``."""
    outcomes: list[object] = [None] * len(group)
    shared: list[int] = []  # the pieces in the open transaction

    def commit() -> None:
        if not shared:
            return
        try:
            db.execute("COMMIT")
        except Exception as error:  # noqa: BLE001 - every piece of it failed, and says so
            if db.in_transaction:
                db.execute("ROLLBACK")
            for index in shared:
                outcomes[index] = _Failed(error)
        shared.clear()

    for index, work in enumerate(group):
        if work.alone:
            commit()
            outcomes[index] = _attempt(work, db)
            continue
        if not shared:
            try:
                db.execute("BEGIN IMMEDIATE")
            except Exception as error:  # noqa: BLE001 - the database is not writable now
                outcomes[index] = _Failed(error)
                continue
        db.execute("SAVEPOINT work")
        outcome = _attempt(work, db)
        if isinstance(outcome, _Failed):
            db.execute("ROLLBACK TO work")  # undoes this piece only; the others stand
        db.execute("RELEASE work")
        outcomes[index] = outcome
        shared.append(index)
    commit()
    return outcomes


def _attempt(work: _Work, db: sqlite3.Connection) -> object:
    try:
        return work.run(db)
    except Exception as error:  # noqa: BLE001 - handed to whoever asked for the work
        return _Failed(error)


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    """One transaction of its own (for ``alone`` work)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _rewrite_sealed(db: sqlite3.Connection, transform: Callable[[str], str]) -> int:
    """Apply ``transform`` to every sealed column (inside the caller's transaction)."""
    count = 0
    for table, column, key in (("cases", "data", "chat_id"), ("outbox", "effect", "id")):
        rows = db.execute(f"SELECT {key}, {column} FROM {table}").fetchall()
        db.executemany(
            f"UPDATE {table} SET {column} = ? WHERE {key} = ?",
            [(transform(r[1]), r[0]) for r in rows],
        )
        count += len(rows)
    return count


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


def _moment(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class NewerDatabase(Exception):
    """The database was written by a newer optout-bot: this one does not know its schema."""

    def __init__(self, path: Path, version: int) -> None:
        super().__init__(
            f"the database {path} has schema version {version}, newer than this optout-bot "
            f"knows ({len(MIGRATIONS)}): run the version that wrote it, or restore a backup "
            "made with this one"
        )


@dataclass(frozen=True)
class Backup:
    path: Path
    cases: int
    reminders: int
    size: int  # bytes


def backup(database: Path, target: Path) -> Backup:
    """A consistent copy of ``database`` at ``target`` (which must not exist), made while the
    bot may be writing: ``VACUUM INTO`` from a read-only connection reads one snapshot. The
    copy is written beside the target and renamed into place only once it passes SQLite's
    integrity check, readable only by the bot's user. Sealed rows stay sealed: the key is
    not in it."""
    if not database.is_file():
        raise FileNotFoundError(f"no database at {database}")
    if target.exists():
        raise FileExistsError(f"{target} exists; a backup never replaces a file")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
    try:
        source.execute("VACUUM INTO ?", (str(partial),))
    finally:
        source.close()
    try:
        os.chmod(partial, 0o600)
        copy = sqlite3.connect(partial)
        try:
            (check,) = copy.execute("PRAGMA integrity_check").fetchone()
            if check != "ok":
                raise sqlite3.DatabaseError(f"the copy failed SQLite's integrity check: {check}")
            cases = int(copy.execute("SELECT count(*) FROM cases").fetchone()[0])
            reminders = int(copy.execute("SELECT count(*) FROM reminders").fetchone()[0])
        finally:
            copy.close()
        partial.rename(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Backup(target, cases, reminders, target.stat().st_size)


class Storage:
    """Cases, reminders, the outbox and the applied update ids, written by one writer."""

    def __init__(self, db: aiosqlite.Connection, sealer: Sealer) -> None:
        self._db = db
        self._sealer = sealer
        #: work waiting for the database thread, in the order it was asked for
        self._waiting: list[_Work] = []
        self._writer: asyncio.Task[None] | None = None
        #: effects queued by this process, by outbox row id, with their chat (see _remember)
        self._opened: dict[int, tuple[int, Effect]] = {}
        #: set when messages were queued: the sender waits on it (and clears it)
        self.queued = asyncio.Event()
        #: set when reminders were scheduled: the scheduler waits on it (and clears it)
        self.scheduled = asyncio.Event()

    @classmethod
    async def open(cls, path: Path, sealer: Sealer) -> Storage:
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(path, isolation_level=None)
        db.row_factory = aiosqlite.Row
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.execute("PRAGMA foreign_keys=ON")
        # Erased rows are overwritten on disk, not just unlinked: /delete leaves no trace.
        await db.execute("PRAGMA secure_delete=ON")
        storage = cls(db, sealer)
        try:
            await storage._migrate(path)
        except BaseException:
            await db.close()
            raise
        return storage

    async def close(self) -> None:
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)  # what was asked for is written first
        await self._db.close()

    # -- the one writer ------------------------------------------------------------------------

    async def _do(self, work: Callable[[sqlite3.Connection], T], alone: bool = False) -> T:
        """Run ``work`` on the database thread, atomically, and return what it returns.

        Group commit: whatever is asked for while the thread is busy goes there together, in
        one trip and one transaction, each piece of work in a savepoint of its own (one that
        fails is rolled back alone, and raises here). Nothing returns before its transaction
        is committed. With fifty people writing at once, that is a few trips instead of two
        hundred hand-offs between threads, each of which cost more than the statements.
        ``alone`` work runs outside the shared transaction (it opens its own, or must run
        outside any: a WAL checkpoint), after what was asked for before it is committed.
        """
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Work(work, alone, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_waiting(), name="storage-writer")
        result: T = await future
        return result

    async def _write_waiting(self) -> None:
        while self._waiting:
            group = [w for w in self._waiting if not w.future.done()]  # skip the cancelled
            self._waiting = []
            try:
                # aiosqlite runs every call on its connection's own thread, one hand-off per
                # call; ``Connection._execute`` is its own way of queuing a function there
                # (private, so aiosqlite is pinned below the next minor release).
                outcomes = await self._db._execute(_trip, self._db._conn, group)  # type: ignore[no-untyped-call]
            except Exception as error:  # noqa: BLE001 - the thread failed: nothing was written
                outcomes = [_Failed(error)] * len(group)
            except BaseException:  # cancelled (shutting down): so is what waited for it
                for work in group:
                    work.future.cancel()
                raise
            for work, outcome in zip(group, outcomes, strict=True):
                if work.future.done():
                    continue
                if isinstance(outcome, _Failed):
                    work.future.set_exception(outcome.error)
                else:
                    work.future.set_result(outcome)

    async def _run(self, statements: list[Statement]) -> list[int]:
        """Run ``statements`` as one atomic unit; returns each one's last inserted row id."""

        def run(db: sqlite3.Connection) -> list[int]:
            return [db.execute(sql, params).lastrowid or 0 for sql, params in statements]

        return await self._do(run)

    async def _write(self, sql: str, params: Iterable[Any] = ()) -> int:
        """One statement on its own. Returns the rows it changed."""
        return await self._do(lambda db: db.execute(sql, tuple(params)).rowcount)

    async def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        return await self._do(lambda db: db.execute(sql, tuple(params)).fetchall())

    async def _value(self, sql: str, params: Iterable[Any] = ()) -> Any:
        rows = await self._rows(sql, params)
        return rows[0][0] if rows else None

    async def _migrate(self, path: Path) -> None:
        def migrate(db: sqlite3.Connection) -> None:
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            if version > len(MIGRATIONS):
                raise NewerDatabase(path, version)
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                with _transaction(db):
                    for statement in filter(str.strip, script.split(";")):
                        db.execute(statement)
                    if number == SEALED_FROM:
                        _rewrite_sealed(db, self._sealer.seal)  # rows from before encryption
                    db.execute(f"PRAGMA user_version = {number}")

        await self._do(migrate, alone=True)

    async def reseal(self) -> int:
        """Re-encrypt every sealed row with the sealer's newest key (key rotation)."""

        def reseal(db: sqlite3.Connection) -> int:
            with _transaction(db):
                return _rewrite_sealed(db, self._sealer.reseal)

        count = await self._do(reseal, alone=True)
        await self._checkpoint()  # rows under the old key must not linger in the WAL
        return count

    async def _checkpoint(self) -> None:
        """Copy the WAL into the database file and empty it: old page images (which may hold
        erased or re-keyed rows) leave the disk."""
        await self._do(
            lambda db: db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall(), alone=True
        )

    async def schema_version(self) -> int:
        return int(await self._value("PRAGMA user_version") or 0)

    async def all_cases(self) -> list[Case]:
        """Every stored case (for the operator's anonymous aggregates): read in one query,
        unsealed off the database's thread, so writers wait only for the read."""
        rows = await self._rows("SELECT data FROM cases")

        def unseal() -> list[Case]:
            return [case for row in rows if (case := self._case(row[0])) is not None]

        return await asyncio.to_thread(unseal)

    async def campaigns(self) -> list[tuple[str, int]]:
        """Starts per campaign link, most first."""
        rows = await self._rows("SELECT name, starts FROM campaigns ORDER BY starts DESC, name")
        return [(str(name), int(starts)) for name, starts in rows]

    async def outbox_depths(self) -> dict[str, int]:
        """Rows waiting to be delivered, by lane (for the operator's metrics)."""
        rows = await self._rows("SELECT lane, count(*) FROM outbox GROUP BY lane")
        return {str(lane): int(count) for lane, count in rows}

    # -- cases -----------------------------------------------------------------------------

    async def load(self, chat_id: int) -> Case | None:
        data = await self._value("SELECT data FROM cases WHERE chat_id = ?", (chat_id,))
        return self._case(data)

    async def alert_audience(self) -> list[tuple[int, str]]:
        """(chat, language) of everyone who asked to be told when something changes."""
        rows = await self._rows("SELECT chat_id, data FROM cases WHERE alerts = 1 ORDER BY chat_id")

        def unseal() -> list[tuple[int, str]]:
            out = []
            for chat, data in rows:
                case = self._case(data)
                out.append((int(chat), (case.language if case else None) or "en"))
            return out

        return await asyncio.to_thread(unseal)

    async def broadcast(self, chats: list[tuple[int, str]], effect: Effect) -> int:
        """Queue one message for many chats in one transaction (the operator's broadcast)."""
        now, rows = datetime.now(UTC).isoformat(), plan([effect])
        statements = [
            st for chat, language in chats for st in self._queue(chat, language, rows, now)
        ]
        await self._run(statements)
        if statements:
            self.queued.set()
        return len(chats)

    async def alert_chats(self) -> list[int]:
        """The chats that asked to be told when something changes (the operator's broadcast)."""
        rows = await self._rows("SELECT chat_id FROM cases WHERE alerts = 1 ORDER BY chat_id", ())
        return [int(row[0]) for row in rows]

    async def load_for_update(
        self, chat_id: int, update_id: int | None
    ) -> tuple[Case | None, bool]:
        """The chat's case, and whether ``update_id`` was applied already (one query)."""
        rows = await self._rows(
            "SELECT (SELECT data FROM cases WHERE chat_id = ?),"
            " EXISTS (SELECT 1 FROM updates WHERE update_id = ?)",
            (chat_id, update_id),
        )
        return self._case(rows[0][0]), bool(rows[0][1])

    def _case(self, data: str | None) -> Case | None:
        return Case.model_validate_json(self._sealer.open(data)) if data is not None else None

    async def commit(
        self,
        case: Case,
        effects: list[Effect],
        consumed_reminder: int | None = None,
        update_id: int | None = None,
    ) -> None:
        """Save the case, its reminders and its outgoing messages atomically.

        ``Forget`` erases every row about the chat instead; ``consumed_reminder`` (the reminder
        that caused this step) is deleted in the same transaction, so it fires exactly once
        unless the process dies between delivering its message and recording the delivery;
        ``update_id`` (the Telegram update that caused it) is remembered in the same
        transaction, so the update is never applied twice.
        """
        now = case.updated_at.astimezone(UTC).isoformat()  # the brain's clock, for retention
        chat = case.chat_id
        erase = any(isinstance(e, Forget) for e in effects)
        batch = _applied(update_id)
        if consumed_reminder is not None:
            batch.append(("DELETE FROM reminders WHERE id = ?", (consumed_reminder,)))
        if erase:
            batch += _erasing(chat, CHAT_TABLES)
        else:
            sealed = self._sealer.seal(case.model_dump_json())
            batch.append(
                (
                    "INSERT INTO cases (chat_id, step, data, updated_at, alerts) "
                    "VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (chat_id) DO UPDATE SET step = excluded.step, "
                    "data = excluded.data, updated_at = excluded.updated_at, "
                    "alerts = excluded.alerts",
                    (chat, case.step.value, sealed, now, int(case.alerts)),
                )
            )
        for effect in effects:
            if isinstance(effect, Schedule):
                batch.append(_reminder(chat, effect.key, effect.due_at))
            elif isinstance(effect, Cancel):
                batch += [
                    ("DELETE FROM reminders WHERE chat_id = ? AND key = ?", (chat, key))
                    for key in effect.keys
                ]
            elif isinstance(effect, Tally):
                batch.append(
                    (
                        "INSERT INTO campaigns (name, starts) VALUES (?, 1) "
                        "ON CONFLICT (name) DO UPDATE SET starts = starts + 1",
                        (effect.campaign,),
                    )
                )
        rows = plan(effects)
        batch += self._queue(chat, case.language or "en", rows, now)
        ids = await self._run(batch)
        if erase:
            self._forget_opened(chat)
        self._remember(chat, rows, ids)
        if rows:
            self.queued.set()
        if any(isinstance(e, Schedule) for e in effects):
            self.scheduled.set()
        if erase:
            await self._checkpoint()

    async def enqueue(
        self, chat_id: int, language: str, effects: list[Effect], update_id: int | None = None
    ) -> None:
        """Queue messages for a chat without a case of its own (a group chat, an error notice
        after a failed step): they go through the same sender, limits and retries."""
        now, rows = datetime.now(UTC).isoformat(), plan(effects)
        ids = await self._run([*_applied(update_id), *self._queue(chat_id, language, rows, now)])
        self._remember(chat_id, rows, ids)
        if rows:
            self.queued.set()

    def _remember(self, chat: int, rows: list[Delivery], ids: list[int]) -> None:
        """Keep the effects just queued, by outbox row id, so the sender need not decrypt and
        validate what was built a moment ago (rows never change; a restart just reads them)."""
        if len(self._opened) > OPENED_MEMORY:
            self._opened.clear()
        for row, row_id in zip(rows, ids[len(ids) - len(rows) :], strict=True):
            self._opened[row_id] = (chat, row.effect)

    def _queue(self, chat: int, language: str, rows: list[Delivery], now: str) -> list[Statement]:
        """The statements that insert outbox rows."""
        return [
            (
                "INSERT INTO outbox (chat_id, language, effect, created_at, priority, lane, part)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (chat, language, sealed, now, row.priority, row.lane, row.part),
            )
            for row, sealed in zip(rows, self._seal_effects(rows), strict=True)
        ]

    def _seal_effects(self, rows: list[Delivery]) -> list[str]:
        sealed: dict[int, str] = {}  # the parts of one message share one sealed copy
        for row in rows:
            if id(row.effect) not in sealed:
                sealed[id(row.effect)] = self._sealer.seal(_EFFECT.dump_json(row.effect).decode())
        return [sealed[id(row.effect)] for row in rows]

    # -- Telegram updates already applied -----------------------------------------------------

    async def forget_updates_before(self, offset: int) -> int:
        """Telegram confirmed every update below ``offset``: it will not send them again."""
        return await self._write("DELETE FROM updates WHERE update_id < ?", (offset,))

    # -- reminders -------------------------------------------------------------------------

    async def next_due(self) -> datetime | None:
        """When the earliest unclaimed reminder falls due (None if there is none)."""
        due = await self._value("SELECT MIN(due_at) FROM reminders WHERE claimed_at IS NULL")
        return _moment(due) if due is not None else None

    async def claim_due(self, now: datetime, limit: int = 100) -> list[DueReminder]:
        """Mark up to ``limit`` due reminders as taken and return them, earliest first."""
        rows = await self._rows(
            "UPDATE reminders SET claimed_at = ? WHERE id IN ("
            " SELECT id FROM reminders WHERE claimed_at IS NULL AND due_at <= ?"
            " ORDER BY due_at LIMIT ?)"
            " RETURNING id, chat_id, key, COALESCE(first_due_at, due_at) AS due, attempts",
            (_epoch(now), _epoch(now), limit),
        )
        return sorted(
            (
                DueReminder(r["id"], r["chat_id"], r["key"], _moment(r["due"]), r["attempts"])
                for r in rows
            ),
            key=lambda d: d.due_at,
        )

    async def retry_reminder(self, reminder: DueReminder, at: datetime) -> bool:
        """Its step failed: release the claim and try again at ``at`` (keeping when it was first
        due). After ``REMINDER_ATTEMPTS`` it is dropped; returns False then."""
        if reminder.attempts + 1 >= REMINDER_ATTEMPTS:
            await self._write("DELETE FROM reminders WHERE id = ?", (reminder.id,))
            return False
        await self._write(
            "UPDATE reminders SET claimed_at = NULL, attempts = attempts + 1,"
            " first_due_at = COALESCE(first_due_at, due_at), due_at = ? WHERE id = ?",
            (_epoch(at), reminder.id),
        )
        return True

    async def release_claims(self) -> int:
        """At start-up: reminders claimed by a process that died are due again."""
        return await self._write(
            "UPDATE reminders SET claimed_at = NULL WHERE claimed_at IS NOT NULL"
        )

    async def reminders(self, chat_id: int) -> dict[str, datetime]:
        rows = await self._rows(
            "SELECT key, due_at FROM reminders WHERE chat_id = ? ORDER BY due_at", (chat_id,)
        )
        return {r["key"]: _moment(r["due_at"]) for r in rows}

    # -- slots: messages edited in place ----------------------------------------------------

    async def slot(self, chat_id: int, slot: str) -> int | None:
        found = await self._value(
            "SELECT message_id FROM slots WHERE chat_id = ? AND slot = ?", (chat_id, slot)
        )
        return int(found) if found is not None else None

    async def set_slot(self, chat_id: int, slot: str, message_id: int) -> None:
        await self._write(
            "INSERT INTO slots (chat_id, slot, message_id) VALUES (?, ?, ?) "
            "ON CONFLICT (chat_id, slot) DO UPDATE SET message_id = excluded.message_id",
            (chat_id, slot, message_id),
        )

    # -- outbox ----------------------------------------------------------------------------

    async def pending(self, chat_id: int | None = None, limit: int = 100) -> list[OutboxItem]:
        """Undelivered messages, oldest first (for one chat, or for all)."""
        where, params = ("WHERE chat_id = ?", (chat_id,)) if chat_id is not None else ("", ())
        rows = await self._rows(
            f"SELECT *, priority AS rank, 1 AS queued FROM outbox {where}"
            f" ORDER BY id LIMIT {int(limit)}",
            params,
        )
        return [self._item(r) for r in rows]

    async def ready(self, now: datetime, limit: int = 100) -> list[OutboxItem]:
        """The next message of each chat that may go out now, most urgent first.

        Only a chat's oldest message is eligible, so a conversation is never reordered; a chat
        ranks by its most urgent waiting message, so a reply is not stuck behind its own
        chat's check-in.
        """
        rows = await self._rows(
            "SELECT o.*, firsts.urgency AS rank, firsts.queued FROM outbox o"
            " JOIN (SELECT MIN(id) AS id, MIN(priority) AS urgency, COUNT(*) AS queued FROM outbox"
            " GROUP BY chat_id, lane) firsts ON o.id = firsts.id"
            " WHERE o.not_before <= ? ORDER BY firsts.urgency, o.id LIMIT ?",
            (_epoch(now), limit),
        )
        return [self._item(r) for r in rows]

    async def next_retry(self, now: datetime) -> datetime | None:
        """The earliest moment a message now held back by a failed attempt may be retried."""
        due = await self._value(
            "SELECT MIN(not_before) FROM outbox WHERE not_before > ?", (_epoch(now),)
        )
        return _moment(due) if due is not None else None

    async def delivered(self, item_id: int, then: FollowUp | None = None) -> None:
        """The row is off the queue; with ``then``, in the same transaction, a reminder for
        the inbox is due (what the delivery's outcome means for the person's case)."""
        self._opened.pop(item_id, None)
        statements: list[Statement] = [("DELETE FROM outbox WHERE id = ?", (item_id,))]
        if then is not None:
            statements.append(_reminder(then.chat_id, then.key, then.due_at))
        await self._run(statements)
        if then is not None:
            self.scheduled.set()

    async def failed(self, item_id: int, retry_at: datetime | None = None) -> None:
        await self._write(
            "UPDATE outbox SET attempts = attempts + 1, not_before = ? WHERE id = ?",
            (_epoch(retry_at) if retry_at else 0, item_id),
        )

    async def drop_chat(self, chat_id: int) -> None:
        """A chat that blocked the bot gets nothing more: no messages, no reminders."""
        await self._run(_erasing(chat_id, ("outbox", "reminders", "slots")))
        self._forget_opened(chat_id)

    def _forget_opened(self, chat_id: int) -> None:
        """Nothing of an erased or unreachable chat stays in memory either."""
        for row_id in [i for i, (chat, _) in self._opened.items() if chat == chat_id]:
            del self._opened[row_id]

    def _item(self, r: sqlite3.Row) -> OutboxItem:
        opened = self._opened.get(r["id"])
        return OutboxItem(
            id=r["id"],
            chat_id=r["chat_id"],
            language=r["language"],
            effect=opened[1] if opened else _EFFECT.validate_json(self._sealer.open(r["effect"])),
            attempts=r["attempts"],
            priority=r["priority"],
            lane=r["lane"],
            rank=r["rank"],
            part=r["part"],
            queued=r["queued"],
        )

    async def purge(self, closed_before: datetime, inactive_before: datetime) -> int:
        """Retention: erase every row of cases closed before ``closed_before`` or untouched since
        ``inactive_before`` (with their reminders, messages and remembered message ids).

        Someone who asked for change alerts keeps only what the alerts need -- the language,
        the country and the yes -- until they turn them off or erase everything (/delete)."""
        closed = tuple(s.value for s in CLOSED_STEPS)
        marks = ",".join("?" * len(closed))

        def purge(db: sqlite3.Connection) -> list[int]:
            rows = db.execute(
                f"SELECT chat_id, alerts, data FROM cases WHERE (step IN ({marks}) AND "
                "updated_at < ?) OR updated_at < ?",
                (
                    *closed,
                    closed_before.astimezone(UTC).isoformat(),
                    inactive_before.astimezone(UTC).isoformat(),
                ),
            ).fetchall()
            chats = []
            for chat, alerts, data in rows:
                case = self._case(data) if alerts else None
                if case is not None and case == _alerts_only(case):
                    continue  # already no more than the alerts need
                for sql, params in _erasing(chat, CHAT_TABLES):
                    db.execute(sql, params)
                if case is not None:
                    kept = _alerts_only(case)
                    db.execute(
                        "INSERT INTO cases (chat_id, step, data, updated_at, alerts) "
                        "VALUES (?, ?, ?, ?, 1)",
                        (
                            chat,
                            kept.step.value,
                            self._sealer.seal(kept.model_dump_json()),
                            kept.updated_at.astimezone(UTC).isoformat(),
                        ),
                    )
                chats.append(chat)
            return chats

        chats = await self._do(purge)
        for chat in chats:
            self._forget_opened(chat)
        if chats:
            await self._checkpoint()
        return len(chats)

    async def count(self, table: str) -> int:
        if table not in (*CHAT_TABLES, "updates"):
            raise ValueError(table)
        return int(await self._value(f"SELECT COUNT(*) FROM {table}") or 0)
