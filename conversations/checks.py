"""Checks on what a person typed before it is stored or goes into a letter.

Each ``checked_*`` returns the value as it will be kept, or raises ``Rejected`` with the
message that says why it cannot be (the step's question is then asked again, nothing lost).
The command-line ``letter`` runs the same checks as the chat.
"""

from __future__ import annotations

import re
import unicodedata

from email_validator import EmailNotValidError, validate_email

from conversations.case import OWN_WORDS_MAX_CHARS
from conversations.contract import Rejected

#: RFC 5321 limits an address to 254 characters; anything longer is not worth parsing.
EMAIL_MAX_CHARS = 254

#: Bidirectional overrides and isolates: they make a text display in a different order than
#: it is stored (and pasted), so a letter could say something other than what the person saw.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def checked_email(text: str) -> str:
    """The account e-mail address as typed, normalised; ``Rejected`` if it is not one."""
    candidate = text.strip()
    if len(candidate) > EMAIL_MAX_CHARS or any(c.isspace() for c in candidate):
        raise Rejected("email_invalid")
    try:
        checked = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError:
        raise Rejected("email_invalid") from None
    return str(checked.normalized)


def checked_own_words(text: str) -> str:
    """The person's own words as they go into a letter; ``Rejected`` if they cannot."""
    words = text.strip()
    if not words:
        raise Rejected("own_words_empty")
    if len(words) > OWN_WORDS_MAX_CHARS:
        raise Rejected("own_words_too_long", length=len(words), limit=OWN_WORDS_MAX_CHARS)
    if has_hidden_controls(words):
        raise Rejected("own_words_control_chars")
    return words


def has_hidden_controls(text: str) -> bool:
    """Control characters (other than line breaks and tabs) and bidi overrides.

    Other invisible format characters stay allowed: the zero-width joiner holds family and flag
    emoji together, and soft hyphens come with pasted e-mails.
    """
    return any(
        c in BIDI_CONTROLS or (c not in "\n\r\t" and unicodedata.category(c) in ("Cc", "Cs", "Co"))
        for c in text
    )


#: Meta's e-mailed codes are a handful of digits; some people type them with spaces or dashes.
_CODE = re.compile(r"\d{5,8}")


def looks_like_code(text: str) -> bool:
    """Whether a typed text is, in all likelihood, a one-time code (digits only, 5 to 8)."""
    return _CODE.fullmatch(re.sub(r"[\s\-]", "", text)) is not None
