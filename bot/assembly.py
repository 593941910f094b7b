"""The shell, assembled once: storage, renderer, sender, inbox and scheduler from settings.

Telegram, the console, the tests and the benchmarks all get their services from ``assemble``;
only the transport (how a message reaches the person) and when replies are delivered differ.
Each part gets what it needs when it is built, and nothing is attached afterwards: the sender
and the scheduler wait on the storage's wake-ups (set by the commits that queue a message or
schedule a reminder), the sender leaves what the inbox must hear (an e-mail's outcome, a
message too late to send) as reminders in the same transaction, and the scheduler feeds every
reminder to the inbox. So the graph has no cycle: storage -> sender -> inbox -> scheduler.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from pydantic import ValidationError

from bot.inbox import FloodGuard, Inbox, utc_now
from bot.keys import Sealer
from bot.mailer import Mailer, SmtpConfig
from bot.renderer import Renderer
from bot.scheduler import Retention, Scheduler
from bot.sender import Limits, Sender, Transport
from bot.settings import Settings
from bot.storage import Storage
from conversations import Knowledge, load_knowledge

#: When a committed reply goes out: "background" -- the sender's own task, within Telegram's
#: rate limits; "inline" -- before the input returns, one after another (the console, where one
#: person types and reads; tests and benchmarks that follow a reply as it happens).
Delivery = Literal["background", "inline"]


@dataclass(frozen=True)
class Services:
    """Everything behind a transport, typed."""

    knowledge: Knowledge
    renderer: Renderer
    storage: Storage
    sender: Sender
    inbox: Inbox
    scheduler: Scheduler


async def assemble(
    settings: Settings,
    sealer: Sealer,
    transport: Transport,
    delivery: Delivery = "background",
    flood: FloodGuard | None = None,
) -> Services:
    """The services behind ``transport``. ``flood`` guards the input; by default the settings'
    limit per person (the console, one person at a terminal, admits every line instead)."""
    knowledge = effective_knowledge(settings)
    renderer = Renderer(knowledge)
    storage = await Storage.open(settings.database_path, sealer)
    limits = Limits(
        global_per_second=settings.send_per_second,
        chat_per_second=settings.send_per_chat_per_second,
    )
    sender = Sender(storage, renderer, transport, utc_now, limits, mailer_for(settings))
    inbox = Inbox(
        storage,
        renderer,
        knowledge,
        utc_now,
        settings.policy(),
        flood if flood is not None else FloodGuard(settings.input_burst, settings.input_per_second),
        deliver=sender.flush if delivery == "inline" else None,
    )
    scheduler = Scheduler(storage, inbox.handle_reminder, utc_now, retention(settings))
    return Services(knowledge, renderer, storage, sender, inbox, scheduler)


class KnowledgeProblem(Exception):
    """The operator's knowledge override cannot be read or does not validate."""


def effective_knowledge(settings: Settings) -> Knowledge:
    """The shipped knowledge with the operator's override merged over it (validated whole)."""
    path = settings.knowledge_override
    try:
        return load_knowledge(override=path)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise KnowledgeProblem(f"cannot read the knowledge override {path}: {error}") from None
    except ValidationError as error:
        if path is None:
            raise  # the shipped data is checked by the tests: a bug, not the operator's
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()[:5]
        )
        more = f" (and {error.error_count() - 5} more)" if error.error_count() > 5 else ""
        raise KnowledgeProblem(
            f"the knowledge override {path} does not fit the knowledge data: {problems}{more}"
        ) from None


def mailer_for(settings: Settings) -> Mailer | None:
    """The SMTP client for e-mail copies, or None when no server is configured."""
    if not settings.smtp_host or not settings.smtp_sender:
        return None
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return Mailer(
        SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            sender=settings.smtp_sender,
            reply_to=settings.smtp_reply_to,
            user=settings.smtp_user,
            password=password,
            timeout=settings.smtp_timeout,
        )
    )


def retention(settings: Settings) -> Retention:
    return Retention(
        closed=timedelta(days=settings.retention_closed_days),
        inactive=timedelta(days=settings.retention_inactive_days),
    )
