"""Logs carry no personal data, whatever a library puts into its records."""

from __future__ import annotations

import io
import logging
from typing import Any

from telegram import Update

from bot.logs import PrivacyFilter, frames, log_failure

UPDATE: dict[str, Any] = {  # Bot API JSON, as Update.de_json takes it
    "update_id": 9,
    "message": {
        "message_id": 1,
        "date": 1_790_000_000,
        "chat": {"id": 424242, "type": "private", "first_name": "Quasimodo"},
        "from": {"id": 424242, "is_bot": False, "first_name": "Quasimodo", "username": "q_m"},
        "text": "zebra.quartz@example.org",
    },
}


def capture(name: str) -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(PrivacyFilter())
    logger = logging.getLogger(name)
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, out


def test_a_library_record_keeps_its_template_and_loses_its_arguments() -> None:
    """python-telegram-bot logging a whole update (as it does when a handler context fails):
    the chat id, name and text never reach the log."""
    logger, out = capture("telegram.ext.Application")
    update = Update.de_json(UPDATE, None)
    try:
        raise ValueError(f"bad text {UPDATE['message']['text']}")
    except ValueError as error:
        logger.critical(
            "Error while building CallbackContext for update %s.", update, exc_info=error
        )
    text = out.getvalue()
    assert "Error while building CallbackContext" in text and "ValueError" in text
    for secret in ("424242", "Quasimodo", "q_m", "zebra.quartz"):
        assert secret not in text


def test_an_object_logged_as_the_message_is_not_printed() -> None:
    """A library that logs an exception object itself: only its type is shown."""
    logger, out = capture("httpx")
    logger.warning(ValueError("token 123:secret in a URL"))
    assert "secret" not in out.getvalue() and "ValueError" in out.getvalue()


def test_our_own_records_pass_unchanged() -> None:
    """Our modules log ids and steps with %s: those arguments are kept."""
    logger, out = capture("bot.inbox")
    logger.info("step %s -> %s on %s", "email", "reasons", "text")
    assert "step email -> reasons on text" in out.getvalue()


def test_a_failure_is_logged_with_its_frames_but_without_its_message() -> None:
    """log_failure gives the operator file, line and function, never what the error quoted."""
    logger, out = capture("bot.test")
    addresses: dict[str, str] = {}
    try:
        addresses["zebra.quartz@example.org"]
    except KeyError as error:
        log_failure("update failed", error, logger)
        assert "test_logs.py" in frames(error)
    text = out.getvalue()
    assert "KeyError at" in text and "test_logs.py:" in text
    assert "zebra.quartz" not in text
