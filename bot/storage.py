"""The only room with SQL: cases and the outbox of messages to deliver, in one SQLite file.

Rules:
- A new case state and the messages it causes are written in ONE transaction (``commit``), so a
  crash can never leave a saved answer without its reply, or a reply without its answer.
- WAL journal; schema changes are migrations counted by ``PRAGMA user_version``.
- Returns models, never rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
from pydantic import TypeAdapter

from bot.keys import Sealer
from conversations.case import Case, Step
from conversations.effects import MESSAGE_KINDS, Cancel, Effect, Forget, Schedule

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
)
#: The schema version from which case and message rows are sealed.
SEALED_FROM = 3

#: Steps after which a case is closed: its personal data goes after the shorter retention.
CLOSED_STEPS = (Step.DONE,)

#: Outbox priority per urgency: lower is sent first.
PRIORITY = {"reply": 0, "countdown": 1, "checkin": 2}

_EFFECT = TypeAdapter(Effect)


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


@dataclass(frozen=True)
class DueReminder:
    id: int
    chat_id: int
    key: str
    due_at: datetime


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


def _moment(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class Storage:
    def __init__(self, db: aiosqlite.Connection, sealer: Sealer) -> None:
        self._db = db
        self._sealer = sealer

    @classmethod
    async def open(cls, path: Path, sealer: Sealer) -> Storage:
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(path, isolation_level=None)
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.execute("PRAGMA foreign_keys=ON")
        # Erased rows are overwritten on disk, not just unlinked: /delete leaves no trace.
        await db.execute("PRAGMA secure_delete=ON")
        storage = cls(db, sealer)
        await storage._migrate()
        return storage

    async def close(self) -> None:
        await self._db.close()

    async def _migrate(self) -> None:
        async with self._db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        version = row[0] if row else 0
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                for statement in filter(str.strip, script.split(";")):
                    await self._db.execute(statement)
                if number == SEALED_FROM:
                    await self._seal_plaintext()
                await self._db.execute(f"PRAGMA user_version = {number}")
                await self._db.execute("COMMIT")
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise

    async def _seal_plaintext(self) -> None:
        """Encrypt rows stored before encryption at rest existed."""
        await self._rewrite_sealed(self._sealer.seal)

    async def reseal(self) -> int:
        """Re-encrypt every sealed row with the sealer's newest key (key rotation)."""
        await self._db.execute("BEGIN IMMEDIATE")
        try:
            count = await self._rewrite_sealed(self._sealer.reseal)
            await self._db.execute("COMMIT")
        except BaseException:
            await self._db.execute("ROLLBACK")
            raise
        return count

    async def _rewrite_sealed(self, transform: Callable[[str], str]) -> int:
        """Apply ``transform`` to every sealed column (inside the caller's transaction)."""
        count = 0
        for table, column, key in (("cases", "data", "chat_id"), ("outbox", "effect", "id")):
            async with self._db.execute(f"SELECT {key}, {column} FROM {table}") as cursor:
                rows = list(await cursor.fetchall())
            await self._db.executemany(
                f"UPDATE {table} SET {column} = ? WHERE {key} = ?",
                [(transform(r[1]), r[0]) for r in rows],
            )
            count += len(rows)
        return count

    async def schema_version(self) -> int:
        async with self._db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    # -- cases -----------------------------------------------------------------------------

    async def load(self, chat_id: int) -> Case | None:
        async with self._db.execute(
            "SELECT data FROM cases WHERE chat_id = ?", (chat_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return Case.model_validate_json(self._sealer.open(row[0])) if row else None

    async def commit(
        self, case: Case, effects: list[Effect], consumed_reminder: int | None = None
    ) -> None:
        """Save the case, its reminders and its outgoing messages atomically.

        ``Forget`` erases every row about the chat instead; ``consumed_reminder`` (the reminder
        that caused this step) is deleted in the same transaction, so it fires exactly once
        unless the process dies between delivering its message and recording the delivery.
        """
        now = case.updated_at.astimezone(UTC).isoformat()  # the brain's clock, for retention
        language = case.language or "en"
        chat = case.chat_id
        await self._db.execute("BEGIN IMMEDIATE")
        try:
            if consumed_reminder is not None:
                await self._db.execute("DELETE FROM reminders WHERE id = ?", (consumed_reminder,))
            if any(isinstance(e, Forget) for e in effects):
                await self._erase(chat)
            else:
                await self._db.execute(
                    "INSERT INTO cases (chat_id, step, data, updated_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (chat_id) DO UPDATE SET step = excluded.step, "
                    "data = excluded.data, updated_at = excluded.updated_at",
                    (chat, case.step.value, self._sealer.seal(case.model_dump_json()), now),
                )
            for effect in effects:
                if isinstance(effect, Schedule):
                    await self._db.execute(
                        "INSERT INTO reminders (chat_id, key, due_at) VALUES (?, ?, ?) "
                        "ON CONFLICT (chat_id, key) DO UPDATE SET due_at = excluded.due_at, "
                        "claimed_at = NULL",
                        (chat, effect.key, _epoch(effect.due_at)),
                    )
                elif isinstance(effect, Cancel):
                    await self._db.executemany(
                        "DELETE FROM reminders WHERE chat_id = ? AND key = ?",
                        [(chat, key) for key in effect.keys],
                    )
                elif effect.kind in MESSAGE_KINDS:
                    urgency = getattr(effect, "urgency", "reply")
                    await self._db.execute(
                        "INSERT INTO outbox (chat_id, language, effect, created_at, priority, lane)"
                        " VALUES (?, ?, ?, ?, ?, ?)",
                        (
                            chat,
                            language,
                            self._sealer.seal(_EFFECT.dump_json(effect).decode()),
                            now,
                            PRIORITY[urgency],
                            "mail" if effect.kind == "email" else "chat",
                        ),
                    )
            await self._db.execute("COMMIT")
        except BaseException:
            await self._db.execute("ROLLBACK")
            raise

    async def _erase(self, chat_id: int) -> None:
        for table in ("cases", "outbox", "reminders", "slots"):
            await self._db.execute(f"DELETE FROM {table} WHERE chat_id = ?", (chat_id,))

    # -- reminders -------------------------------------------------------------------------

    async def next_due(self) -> datetime | None:
        """When the earliest unclaimed reminder falls due (None if there is none)."""
        async with self._db.execute(
            "SELECT MIN(due_at) FROM reminders WHERE claimed_at IS NULL"
        ) as cursor:
            row = await cursor.fetchone()
        return _moment(row[0]) if row and row[0] is not None else None

    async def claim_due(self, now: datetime, limit: int = 100) -> list[DueReminder]:
        """Mark up to ``limit`` due reminders as taken and return them, earliest first."""
        async with self._db.execute(
            "UPDATE reminders SET claimed_at = ? WHERE id IN ("
            " SELECT id FROM reminders WHERE claimed_at IS NULL AND due_at <= ?"
            " ORDER BY due_at LIMIT ?) RETURNING id, chat_id, key, due_at",
            (_epoch(now), _epoch(now), limit),
        ) as cursor:
            rows = await cursor.fetchall()
        return sorted(
            (DueReminder(r[0], r[1], r[2], _moment(r[3])) for r in rows), key=lambda d: d.due_at
        )

    async def release_claims(self) -> int:
        """At start-up: reminders claimed by a process that died are due again."""
        cursor = await self._db.execute(
            "UPDATE reminders SET claimed_at = NULL WHERE claimed_at IS NOT NULL"
        )
        return cursor.rowcount

    async def reminders(self, chat_id: int) -> dict[str, datetime]:
        async with self._db.execute(
            "SELECT key, due_at FROM reminders WHERE chat_id = ? ORDER BY due_at", (chat_id,)
        ) as cursor:
            return {r[0]: _moment(r[1]) async for r in cursor}

    # -- slots: messages edited in place ----------------------------------------------------

    async def slot(self, chat_id: int, slot: str) -> int | None:
        async with self._db.execute(
            "SELECT message_id FROM slots WHERE chat_id = ? AND slot = ?", (chat_id, slot)
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else None

    async def set_slot(self, chat_id: int, slot: str, message_id: int) -> None:
        await self._db.execute(
            "INSERT INTO slots (chat_id, slot, message_id) VALUES (?, ?, ?) "
            "ON CONFLICT (chat_id, slot) DO UPDATE SET message_id = excluded.message_id",
            (chat_id, slot, message_id),
        )

    # -- outbox ----------------------------------------------------------------------------

    async def pending(self, chat_id: int | None = None, limit: int = 100) -> list[OutboxItem]:
        """Undelivered messages, oldest first (for one chat, or for all)."""
        query = "SELECT id, chat_id, language, effect, attempts, priority, lane FROM outbox"
        params: tuple[int, ...] = ()
        if chat_id is not None:
            query += " WHERE chat_id = ?"
            params = (chat_id,)
        async with self._db.execute(f"{query} ORDER BY id LIMIT {int(limit)}", params) as cursor:
            rows = await cursor.fetchall()
        return [self._item(r) for r in rows]

    async def ready(self, now: datetime, limit: int = 100) -> list[OutboxItem]:
        """The next message of each chat that may go out now, most urgent first.

        Only a chat's oldest message is eligible, so a conversation is never reordered; a chat
        ranks by its most urgent waiting message, so a reply is not stuck behind its own
        chat's check-in.
        """
        async with self._db.execute(
            "SELECT o.id, o.chat_id, o.language, o.effect, o.attempts, o.priority, o.lane,"
            " firsts.urgency FROM outbox o"
            " JOIN (SELECT MIN(id) AS id, MIN(priority) AS urgency FROM outbox"
            " GROUP BY chat_id, lane) firsts ON o.id = firsts.id"
            " WHERE o.not_before <= ? ORDER BY firsts.urgency, o.id LIMIT ?",
            (_epoch(now), limit),
        ) as cursor:
            rows = await cursor.fetchall()
        return [self._item(r) for r in rows]

    async def next_retry(self, now: datetime) -> datetime | None:
        """The earliest moment a message now held back by a failed attempt may be retried."""
        async with self._db.execute(
            "SELECT MIN(not_before) FROM outbox WHERE not_before > ?", (_epoch(now),)
        ) as cursor:
            row = await cursor.fetchone()
        return _moment(row[0]) if row and row[0] is not None else None

    async def delivered(self, item_id: int) -> None:
        await self._db.execute("DELETE FROM outbox WHERE id = ?", (item_id,))

    async def failed(self, item_id: int, retry_at: datetime | None = None) -> None:
        await self._db.execute(
            "UPDATE outbox SET attempts = attempts + 1, not_before = ? WHERE id = ?",
            (_epoch(retry_at) if retry_at else 0, item_id),
        )

    async def drop_chat(self, chat_id: int) -> None:
        """A chat that blocked the bot gets nothing more: no messages, no reminders."""
        for table in ("outbox", "reminders", "slots"):
            await self._db.execute(f"DELETE FROM {table} WHERE chat_id = ?", (chat_id,))

    def _item(self, r: Any) -> OutboxItem:
        """An outbox row (id, chat, language, sealed effect, attempts, priority, lane)."""
        effect = _EFFECT.validate_json(self._sealer.open(r[3]))
        return OutboxItem(
            id=r[0],
            chat_id=r[1],
            language=r[2],
            effect=effect,
            attempts=r[4],
            priority=r[5],
            lane=r[6],
            rank=r[7] if len(r) > 7 else r[5],
        )

    async def purge(self, closed_before: datetime, inactive_before: datetime) -> int:
        """Retention: erase every row of cases closed before ``closed_before`` or untouched since
        ``inactive_before`` (with their reminders, messages and remembered message ids)."""
        closed = tuple(s.value for s in CLOSED_STEPS)
        marks = ",".join("?" * len(closed))
        await self._db.execute("BEGIN IMMEDIATE")
        try:
            async with self._db.execute(
                f"SELECT chat_id FROM cases WHERE (step IN ({marks}) AND updated_at < ?)"
                " OR updated_at < ?",
                (
                    *closed,
                    closed_before.astimezone(UTC).isoformat(),
                    inactive_before.astimezone(UTC).isoformat(),
                ),
            ) as cursor:
                chats = [row[0] async for row in cursor]
            for chat in chats:
                await self._erase(chat)
            await self._db.execute("COMMIT")
        except BaseException:
            await self._db.execute("ROLLBACK")
            raise
        return len(chats)

    async def count(self, table: str) -> int:
        if table not in ("cases", "outbox", "reminders", "slots"):
            raise ValueError(table)
        async with self._db.execute(f"SELECT COUNT(*) FROM {table}") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0
