"""E-mail copies against real SMTP servers on localhost: what arrives, and what fails how."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.delivery import MAIL_FAILED, MAIL_SENT
from bot.mailer import Mailer, PermanentFailure, SmtpConfig, compose
from bot.renderer import Renderer
from bot.sender import Limits, Sender
from bot.storage import Storage
from conversations.case import Case, Reason, Step
from conversations.effects import SendEmail
from conversations.knowledge import Platform
from tests.support import Clock
from tests.support.smtp import Dropper, Hanger, Keeper, Refuser, smtp_server
from tests.support.transport import FakeTransport, drain

WORDS = "Grüße aus Köln – ich fotografiere meine Kinder 📷 (Žluťoučký kůň)."


def person(email: str = "jörg@example.org") -> Case:
    now = datetime(2026, 11, 26, 9, tzinfo=UTC)
    return Case.new(42, now).model_copy(
        update={
            "step": Step.LETTER,
            "language": "de",
            "country": "DE",
            "email": email,
            "platforms": (Platform.FACEBOOK,),
            "reasons": (Reason.CHILDREN,),
            "own_words": WORDS,
            "letter_written_at": now,
        }
    )


def config(port: int, timeout: float = 5.0) -> SmtpConfig:
    return SmtpConfig(
        host="127.0.0.1",
        port=port,
        security="none",
        sender="bot@optout.example",
        reply_to="help@optout.example",
        user=None,
        password=None,
        timeout=timeout,
    )


async def test_what_arrives_is_complete_and_correctly_encoded(renderer: Renderer) -> None:
    """Headers, UTF-8 text with the person's words, the letter attached as .txt."""
    keeper = Keeper()
    with smtp_server(keeper) as port:
        mailer = Mailer(config(port))
        await mailer.send(compose(person(), renderer, mailer.config))
    (message,) = keeper.messages
    assert keeper.envelopes[0][1] == ["jörg@example.org"]
    assert message["From"] == "bot@optout.example"
    assert message["To"] == "jörg@example.org"
    assert message["Reply-To"] == "help@optout.example"
    assert message["Date"] and message["Message-ID"].endswith("@optout.example>")
    assert "Widerspruch" in message["Subject"]
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and body.get_content_charset() == "utf-8"
    text = body.get_content()
    assert WORDS in text
    assert "/delete" in text  # why it arrived, and how to stop it
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "objection-de.txt"
    assert WORDS in attachment.get_content()


def test_header_injection_is_impossible(renderer: Renderer) -> None:
    """An address with a line break never becomes a header: composing refuses it."""
    with pytest.raises(Exception):  # noqa: B017 - email-validator's or the email package's error
        compose(person("a@example.org\r\nBcc: victim@example.com"), renderer, config(25))


async def sender_with(
    storage: Storage, renderer: Renderer, clock: Clock, port: int, smtp_timeout: float = 5.0
) -> Sender:
    sender = Sender(
        storage,
        renderer,
        FakeTransport(clock),
        clock,
        Limits(max_attempts=3),
        Mailer(config(port, smtp_timeout)),
    )
    await storage.commit(person(), [SendEmail(case=person())])
    return sender


async def reports(storage: Storage) -> list[str]:
    """What the sender left for the inbox about the e-mail: a reminder due at once."""
    return [key for key in await storage.reminders(person().chat_id) if key.startswith("mail:")]


async def test_delivery_reports_success(storage: Storage, renderer: Renderer, clock: Clock) -> None:
    """Sent: the person is told (a report goes back to the brain), the queue is empty."""
    with smtp_server(Keeper()) as port:
        sender = await sender_with(storage, renderer, clock, port)
        await drain(sender, clock)
    assert await reports(storage) == [MAIL_SENT]
    assert await storage.pending() == []


async def test_a_refusing_server_fails_at_once(
    storage: Storage, renderer: Renderer, clock: Clock
) -> None:
    """550: final. No retries, one failure report."""
    with smtp_server(Refuser()) as port:
        sender = await sender_with(storage, renderer, clock, port)
        await drain(sender, clock)
    assert await reports(storage) == [MAIL_FAILED]


@pytest.mark.parametrize("handler", [Hanger(), Dropper()], ids=["hangs", "drops the line"])
async def test_a_broken_server_is_retried_then_given_up(
    storage: Storage, renderer: Renderer, clock: Clock, handler: object
) -> None:
    """Time-outs and dropped connections are retried with backoff, then reported as failed."""
    with smtp_server(handler) as port:
        sender = await sender_with(storage, renderer, clock, port, smtp_timeout=0.5)
        await drain(sender, clock)
    assert await reports(storage) == [MAIL_FAILED]
    assert clock.now > datetime(2026, 11, 26, 9, tzinfo=UTC)  # backoff pauses happened


async def test_permanent_failure_is_the_servers_word(renderer: Renderer) -> None:
    """The mailer itself turns a 5xx into PermanentFailure."""
    with smtp_server(Refuser()) as port, pytest.raises(PermanentFailure):
        mailer = Mailer(config(port))
        await mailer.send(compose(person(), renderer, mailer.config))
