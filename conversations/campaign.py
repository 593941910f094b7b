"""Campaign links: ``t.me/<bot>?start=<payload>`` from a poster, a newsletter, a partner's page.

The payload (Telegram allows 1-64 of ``A-Z a-z 0-9 _ -``) is read as tokens separated by
``-`` or ``_``: a language the bot speaks in lower case (``de``, ``pt``), a country in upper
case (``AT``), a platform (``facebook``, ``instagram``, ``fb``, ``ig``, ``both``). Whatever
else it holds only names the campaign. Upper and lower case keep "de" (German) and "DE"
(Germany) apart. The whole payload is counted, anonymously, as the campaign (``Tally``); an
invalid payload is ignored, never an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pycountry

from conversations.knowledge import LANGUAGES, supported_language

PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")
PLATFORMS = {
    "facebook": "facebook",
    "fb": "facebook",
    "instagram": "instagram",
    "ig": "instagram",
    "both": "both",
}


@dataclass(frozen=True)
class Campaign:
    name: str  # the payload as sent: what /stats counts
    language: str | None = None
    country: str | None = None
    platforms: str | None = None  # a platforms button value: facebook, instagram, both


def parse(payload: str) -> Campaign | None:
    """What a start payload says, or None if it is not one Telegram could have sent."""
    if not PAYLOAD.fullmatch(payload):
        return None
    base = country = platforms = None
    for token in re.split(r"[-_]", payload):
        if token.islower() and supported_language(token, default="") in LANGUAGES:
            base = base or token
        elif token.isupper() and len(token) == 2 and pycountry.countries.get(alpha_2=token):
            country = country or token
        elif token.lower() in PLATFORMS:
            platforms = platforms or PLATFORMS[token.lower()]
    # the language with the country as its region where the bot has that variant (pt_BR)
    language = supported_language(f"{base}-{country}" if country else base) if base else None
    return Campaign(payload, language, country, platforms)
