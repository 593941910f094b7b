"""The only room with SQL: cases and the outbox of messages to deliver, in one SQLite file.

Rules:
- A new case state and the messages it causes are written in ONE transaction (``commit``), so a
  crash can never leave a saved answer without its reply, or a reply without its answer.
- WAL journal; schema changes are migrations counted by ``PRAGMA user_version``.
- Returns models, never rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite
from pydantic import TypeAdapter

from conversations.case import Case
from conversations.effects import Effect, Forget

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
)

_EFFECT = TypeAdapter(Effect)


@dataclass(frozen=True)
class OutboxItem:
    id: int
    chat_id: int
    language: str
    effect: Effect
    attempts: int


class Storage:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    @classmethod
    async def open(cls, path: Path) -> Storage:
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(path, isolation_level=None)
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.execute("PRAGMA foreign_keys=ON")
        storage = cls(db)
        await storage._migrate()
        return storage

    async def close(self) -> None:
        await self._db.close()

    async def _migrate(self) -> None:
        async with self._db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        version = row[0] if row else 0
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            await self._db.executescript(
                f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;"
            )

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
        return Case.model_validate_json(row[0]) if row else None

    async def commit(self, case: Case, effects: list[Effect]) -> None:
        """Save the case and queue its outgoing effects atomically (``Forget`` erases instead)."""
        now = datetime.now(UTC).isoformat()
        language = case.language or "en"
        await self._db.execute("BEGIN IMMEDIATE")
        try:
            if any(isinstance(e, Forget) for e in effects):
                await self._erase(case.chat_id)
            else:
                await self._db.execute(
                    "INSERT INTO cases (chat_id, step, data, updated_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (chat_id) DO UPDATE SET step = excluded.step, "
                    "data = excluded.data, updated_at = excluded.updated_at",
                    (case.chat_id, case.step.value, case.model_dump_json(), now),
                )
            await self._db.executemany(
                "INSERT INTO outbox (chat_id, language, effect, created_at) VALUES (?, ?, ?, ?)",
                [
                    (case.chat_id, language, _EFFECT.dump_json(e).decode(), now)
                    for e in effects
                    if not isinstance(e, Forget)
                ],
            )
            await self._db.execute("COMMIT")
        except BaseException:
            await self._db.execute("ROLLBACK")
            raise

    async def _erase(self, chat_id: int) -> None:
        await self._db.execute("DELETE FROM cases WHERE chat_id = ?", (chat_id,))
        await self._db.execute("DELETE FROM outbox WHERE chat_id = ?", (chat_id,))

    # -- outbox ----------------------------------------------------------------------------

    async def pending(self, chat_id: int | None = None, limit: int = 100) -> list[OutboxItem]:
        """Undelivered effects, oldest first (for one chat, or for all)."""
        query = "SELECT id, chat_id, language, effect, attempts FROM outbox"
        params: tuple[int, ...] = ()
        if chat_id is not None:
            query += " WHERE chat_id = ?"
            params = (chat_id,)
        async with self._db.execute(f"{query} ORDER BY id LIMIT {int(limit)}", params) as cursor:
            rows = await cursor.fetchall()
        return [
            OutboxItem(
                id=r[0],
                chat_id=r[1],
                language=r[2],
                effect=_EFFECT.validate_json(r[3]),
                attempts=r[4],
            )
            for r in rows
        ]

    async def delivered(self, item_id: int) -> None:
        await self._db.execute("DELETE FROM outbox WHERE id = ?", (item_id,))

    async def failed(self, item_id: int) -> None:
        await self._db.execute("UPDATE outbox SET attempts = attempts + 1 WHERE id = ?", (item_id,))

    async def drop_chat_outbox(self, chat_id: int) -> None:
        """A chat that blocked the bot gets nothing more."""
        await self._db.execute("DELETE FROM outbox WHERE chat_id = ?", (chat_id,))
