"""What the bot tells its operators in Telegram: error reports, and the admin commands.

Rules:
- Only ERROR records, after the privacy filter (``bot.logs``): the logger, our own fixed
  message and an exception's type and frames -- never its message, an update or locals.
- Rate-limited, so a failing dependency cannot flood the admins: one report per kind of
  error (logger and message template) per ``SAME_EVERY``, at most ``PER_HOUR`` in all; what
  is held back is counted in the next report.
- Sent straight through the Bot API, not the outbox (they are not a person's messages), and
  best effort: a report that cannot be sent is dropped with a warning, never an error (which
  would report itself).
- Admin commands (``/stats``, ``/broadcast``) answer only the admin chats; anyone else's goes
  the normal way and gets the normal "unknown command". ``/stats`` shows anonymous aggregates
  (``conversations.stats``): counts, small ones hidden. ``/broadcast`` shows whom a message
  would reach before anything is sent; it goes to the people who turned on change alerts, as
  the operator wrote it (escaped, no markup), in the outbox's lowest lane, with the button
  that turns the alerts off.
- The wording is ``templates/admin/`` (English: it is read by the operator, not the public).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.logs import PrivacyFilter
from bot.storage import Storage
from conversations import LANGUAGES, Button, Knowledge, Say, shown, summarize

SAME_EVERY = 600.0  # seconds between two reports of the same kind of error
PER_HOUR = 20
#: Telegram's limit for one message.
TEXT_MAX = 4096

Send = Callable[[int, str], Awaitable[object]]
log = logging.getLogger(__name__)


def admin_templates(templates_dir: Path) -> Environment:
    return Environment(
        loader=FileSystemLoader(templates_dir / "admin"),
        autoescape=False,  # plain text; what it shows is our own wording and counts
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


class ErrorReports(logging.Handler):
    """A logging handler that reports errors to the admin chats, within limits."""

    def __init__(
        self,
        send: Send,
        chats: Sequence[int],
        templates: Environment,
        loop: asyncio.AbstractEventLoop,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(logging.ERROR)
        self.addFilter(PrivacyFilter())
        self._send, self._chats, self._loop, self._clock = send, tuple(chats), loop, clock
        self._template = templates.get_template("error_report.txt.j2")
        self._last: dict[tuple[str, str], float] = {}
        self._sent: list[float] = []
        self._held = 0
        self._tasks: set[concurrent.futures.Future[None]] = set()

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == __name__:
            return  # never report on our own reporting
        now = self._clock()
        kind = (record.name, str(record.msg))
        self._sent = [t for t in self._sent if now - t < 3600]
        last = self._last.get(kind)
        if (last is not None and now - last < SAME_EVERY) or len(self._sent) >= PER_HOUR:
            self._held += 1
            return
        self._last[kind] = now
        self._sent.append(now)
        text = self._template.render(
            at=datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%d %H:%M:%S"),
            logger=record.name,
            message=record.getMessage(),
            suppressed=self._held,
        )[:TEXT_MAX]
        self._held = 0
        future = asyncio.run_coroutine_threadsafe(self._deliver(text), self._loop)
        self._tasks.add(future)
        future.add_done_callback(self._tasks.discard)

    async def _deliver(self, text: str) -> None:
        for chat in self._chats:
            try:
                await self._send(chat, text)
            except Exception as error:  # noqa: BLE001 - best effort, see the rules
                log.warning("an error report could not be sent (%s)", type(error).__name__)


@dataclass(frozen=True)
class _Draft:
    language: str  # a language code, or "all"
    text: str


class Admin:
    """The admin commands, for ``chats`` only."""

    COMMANDS = ("stats", "broadcast")

    def __init__(
        self, chats: frozenset[int], storage: Storage, knowledge: Knowledge, templates: Environment
    ) -> None:
        self._chats, self._storage, self._knowledge = chats, storage, knowledge
        self._templates = templates
        self._drafts: dict[int, _Draft] = {}  # per admin chat: the broadcast shown, not sent

    def handles(self, chat_id: int, command: str) -> bool:
        return chat_id in self._chats and command in self.COMMANDS

    async def answer(self, chat_id: int, command: str, args: str = "") -> str:
        """The command's answer, as plain text."""
        if command == "broadcast":
            return (await self._broadcast(chat_id, args.strip()))[:TEXT_MAX]
        stats = summarize(await self._storage.all_cases(), self._knowledge)
        campaigns = [(name, shown(n)) for name, n in await self._storage.campaigns()]
        return self._render("stats.txt.j2", stats=stats, campaigns=campaigns)

    async def _broadcast(self, chat_id: int, args: str) -> str:
        if args in ("send", "cancel"):
            draft = self._drafts.pop(chat_id, None)
            if draft is None or args == "cancel":
                queued = None if draft is None else 0
                return self._render("broadcast_done.txt.j2", queued=queued, cancelled=bool(draft))
            chats = await self._audience(draft.language)
            say = Say(
                message="broadcast",
                context={"text": draft.text},
                buttons=((Button(label="alerts.off", data="command:alerts_off"),),),
                urgency="broadcast",
            )
            queued = await self._storage.broadcast(chats, say)
            return self._render("broadcast_done.txt.j2", queued=queued, cancelled=False)
        language, _, text = args.partition(" ")
        if (language != "all" and language not in LANGUAGES) or not text.strip():
            return self._render("broadcast_usage.txt.j2", languages=", ".join(LANGUAGES))
        self._drafts[chat_id] = _Draft(language, text.strip())
        count = len(await self._audience(language))
        return self._render(
            "broadcast_preview.txt.j2", count=count, language=language, text=text.strip()
        )

    async def _audience(self, language: str) -> list[tuple[int, str]]:
        audience = await self._storage.alert_audience()
        return [(c, lang) for c, lang in audience if language in ("all", lang)]

    def _render(self, name: str, **context: object) -> str:
        return self._templates.get_template(name).render(**context)[:TEXT_MAX]
