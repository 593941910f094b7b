"""Logging that never carries personal data, from our code or from any library's error path.

Rules:
- Our own modules (``bot``, ``conversations``) log steps, kinds and ids of queued rows with
  ``%s`` arguments, never what a person typed, an e-mail address or a chat id.
- A library's record keeps only its fixed message template: its arguments (an update, a
  request's parameters, a URL with the token) are dropped, and so is the text of any exception
  attached to it. python-telegram-bot, for one, logs a whole update (chat id, username, typed
  text) when it cannot handle it.
- Failures are logged as the exception's type and the traceback's frames (file, line,
  function): enough for an operator to find the bug, never the exception's message or locals,
  which may quote what a person typed.
"""

from __future__ import annotations

import logging
import traceback

OWN_PACKAGES = ("bot", "conversations", "__main__")

#: Libraries whose DEBUG output would carry personal data or secrets: python-telegram-bot
#: logs every Bot API call with its parameters (message texts), httpx every URL (the token),
#: aiosqlite every statement's arguments, aiosmtplib the SMTP dialogue (addresses).
QUIET_LIBRARIES = {
    "telegram": logging.INFO,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "aiosqlite": logging.INFO,
    "aiosmtplib": logging.INFO,
    "hpack": logging.INFO,
}


def frames(error: BaseException) -> str:
    """Where an exception happened: its type and each frame as file:line in function."""
    where = [
        f"{frame.filename}:{frame.lineno} in {frame.name}"
        for frame in traceback.extract_tb(error.__traceback__)
    ]
    return type(error).__name__ + ("" if not where else " at " + " <- ".join(reversed(where)))


def log_failure(what: str, error: BaseException, logger: logging.Logger | None = None) -> None:
    """Log a failure with its type and frames, without its message (which may quote input)."""
    (logger or logging.getLogger("bot")).error("%s: %s", what, frames(error))


class PrivacyFilter(logging.Filter):
    """Strips arguments and exception texts from every record that is not our own."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.split(".", 1)[0] in OWN_PACKAGES:
            return True
        if not isinstance(record.msg, str):  # an object logged as such may quote anything
            record.msg = f"<{type(record.msg).__name__}>"
        if record.args:
            record.msg = f"{record.msg} [details withheld]"
            record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.msg = f"{record.msg} ({frames(record.exc_info[1])})"
            record.exc_info = None
            record.exc_text = None
        return True


def configure_logging(level: str | int) -> None:
    """Log to stderr through the privacy filter; libraries never below their floor."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, PrivacyFilter) for f in handler.filters):
            handler.addFilter(PrivacyFilter())
    for name, floor in QUIET_LIBRARIES.items():
        logging.getLogger(name).setLevel(max(floor, root.getEffectiveLevel()))
