"""The shell, assembled once: storage, renderer, sender, inbox and scheduler from settings.

Telegram, the console, the tests and the benchmarks all get their services from ``assemble``;
only the transport (how a message reaches the person) and when replies are delivered differ.
The wiring between the parts that need each other (the inbox wakes the sender, the sender
reports e-mails and out-of-date messages back to the inbox, the inbox wakes the scheduler) is
done here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from bot.inbox import FloodGuard, Inbox, utc_now
from bot.keys import Sealer
from bot.mailer import Mailer, SmtpConfig
from bot.renderer import Renderer
from bot.scheduler import Retention, Scheduler
from bot.sender import Limits, Sender, Transport
from bot.settings import Settings
from bot.storage import Storage
from conversations import Knowledge, MailReport, load_knowledge

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
    settings: Settings, sealer: Sealer, transport: Transport, delivery: Delivery = "background"
) -> Services:
    knowledge = load_knowledge()
    renderer = Renderer(knowledge)
    storage = await Storage.open(settings.database_path, sealer)
    limits = Limits(
        global_per_second=settings.send_per_second,
        chat_per_second=settings.send_per_chat_per_second,
    )
    sender = Sender(storage, renderer, transport, utc_now, limits, mailer_for(settings))

    async def wake_sender(chat_id: int) -> None:  # noqa: ARG001 - the sender reads every chat's queue
        sender.wake()

    inbox = Inbox(
        storage,
        renderer,
        knowledge,
        sender.flush if delivery == "inline" else wake_sender,
        utc_now,
        settings.policy(),
        FloodGuard(settings.input_burst, settings.input_per_second),
    )
    sender.on_mail_report = report_mail_to(inbox)
    sender.on_stale = inbox.refresh
    scheduler = Scheduler(storage, inbox.handle_reminder, utc_now, retention(settings))
    inbox.on_scheduled = scheduler.wake
    return Services(knowledge, renderer, storage, sender, inbox, scheduler)


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


def report_mail_to(inbox: Inbox) -> Callable[[int, bool], Awaitable[None]]:
    """E-mail outcomes go back through the inbox, like any other input."""

    async def report(chat_id: int, ok: bool) -> None:
        await inbox.handle(chat_id, MailReport(ok=ok))

    return report


def retention(settings: Settings) -> Retention:
    return Retention(
        closed=timedelta(days=settings.retention_closed_days),
        inactive=timedelta(days=settings.retention_inactive_days),
    )
