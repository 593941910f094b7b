"""Real SMTP servers on 127.0.0.1 (aiosmtpd) for the e-mail tests: one that accepts and keeps
what arrives, one that refuses, one that hangs, one that drops the connection."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Keeper:
    """Accepts every message and keeps it, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append(parsed)
        return "250 Message accepted for delivery"


class Refuser:
    """Refuses every recipient, for good."""

    async def handle_RCPT(
        self,
        server: Any,
        session: Any,
        envelope: Any,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        return "550 5.1.1 No such user here"


class Hanger:
    """Takes the message and then never answers."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(30)
        return "250 too late"


class Dropper:
    """Hangs up in the middle of the conversation."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        server.transport.close()
        return "421 closing"


@contextmanager
def smtp_server(handler: object) -> Iterator[int]:
    """Run ``handler`` behind a real SMTP server on 127.0.0.1; yields the port."""
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()
        time.sleep(0.05)
