"""E-mail copies of a person's texts, through aiosmtplib.

Rules: an e-mail goes only to the case's own, validated address (email-validator already
refused anything with line breaks; the stdlib's SMTP policy refuses them in headers again).
Each message is UTF-8 plain text with the letter attached as .txt, proper Date and Message-ID,
From and Reply-To from settings, and a line saying why it arrived and how to stop it.
A 5xx answer is final; anything else (a server that is down, slow, or drops the line) is
temporary and retried by the outbox with backoff.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid

import aiosmtplib
from email_validator import validate_email

from bot.renderer import Renderer
from conversations import Case

#: SMTP reply codes from this one on mean "never": retrying cannot help.
PERMANENT_FROM = 500


class PermanentFailure(Exception):
    """The server refused for good (e.g. 550 no such user): do not retry."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str  # "starttls", "tls" or "none"
    sender: str
    reply_to: str | None
    user: str | None
    password: str | None
    timeout: float


def compose(case: Case, renderer: Renderer, config: SmtpConfig) -> EmailMessage:
    """The e-mail for ``case``: the objection text, the form links and help, the letter file."""
    assert case.email is not None and case.language is not None
    recipient = validate_email(case.email, check_deliverability=False).normalized
    letter = renderer.letter(case)
    subject, body = renderer.email(case, letter)
    message = EmailMessage(policy=SMTP)
    message["From"] = config.sender
    message["To"] = recipient
    if config.reply_to:
        message["Reply-To"] = config.reply_to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=config.sender.rsplit("@", 1)[1])
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body, charset="utf-8")
    message.add_attachment(
        letter.full_text, subtype="plain", charset="utf-8", filename=letter.filename
    )
    return message


class Mailer:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    async def send(self, message: EmailMessage) -> None:
        c = self.config
        try:
            await aiosmtplib.send(
                message,
                hostname=c.host,
                port=c.port,
                username=c.user,
                password=c.password,
                use_tls=c.security == "tls",
                start_tls=c.security == "starttls",
                timeout=c.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            raise PermanentFailure("recipient refused") from error
        except aiosmtplib.SMTPResponseException as error:
            if error.code >= PERMANENT_FROM:
                raise PermanentFailure(f"SMTP {error.code}") from error
            raise
