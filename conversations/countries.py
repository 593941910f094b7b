"""Turning what a person types ("Deutschland", "germany", "DE", "Österreich", "UK") into a country.

Names come from CLDR via babel (every supported language, plus English) and from ISO 3166 via
pycountry; the knowledge file adds the few colloquial names neither knows ("UK", "Holland").
Matching ignores case, accents and punctuation; near misses produce suggestions, never a guess.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

import pycountry
from babel import Locale

from conversations.knowledge import LANGUAGES, Knowledge, babel_locale

#: How close a typed name must be to a known one to be offered as a suggestion (0..1).
SUGGESTION_CUTOFF = 0.72
MAX_SUGGESTIONS = 3
#: Longer input cannot be a country name; it is not worth matching.
MAX_COUNTRY_INPUT = 80


@dataclass(frozen=True)
class Resolution:
    code: str | None
    suggestions: tuple[str, ...] = field(default=())


def normalize(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    no_marks = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[\W_]+", " ", no_marks).strip()


def language_name(code: str, language: str | None = None) -> str:
    """One of the bot's languages by its name in ``language`` (CLDR), by default its own name,
    as a person looks for it in a list: "Deutsch", "Português (Brasil)"."""
    locale = Locale.parse(babel_locale(code))
    name = locale.get_display_name(babel_locale(language or code)) or code
    return name[:1].upper() + name[1:]


def language_names(code: str) -> frozenset[str]:
    """What a person may type to mean the language: its name in every language the bot has."""
    return frozenset({language_name(code), *(language_name(code, lang) for lang in LANGUAGES)})


def country_name(code: str, language: str) -> str:
    """The country's name in the given language (CLDR), falling back to ISO's English name."""
    name = Locale.parse(babel_locale(language)).territories.get(code)
    if name:
        return str(name)
    country = pycountry.countries.get(alpha_2=code)
    return str(country.name) if country else code


@cache
def _index(aliases: tuple[tuple[str, str], ...]) -> dict[str, str]:
    index: dict[str, str] = {}
    codes = {c.alpha_2 for c in pycountry.countries}
    for lang in {*LANGUAGES, "en"}:
        for code, name in Locale.parse(babel_locale(lang)).territories.items():
            if code in codes:
                index.setdefault(normalize(name), code)
    for c in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(c, attr, None)
            if value:
                index.setdefault(normalize(value), c.alpha_2)
        index.setdefault(normalize(c.alpha_3), c.alpha_2)
        index[normalize(c.alpha_2)] = c.alpha_2
    for alias, code in aliases:
        index[normalize(alias)] = code
    return index


def resolve(text: str, knowledge: Knowledge) -> Resolution:
    """Find the one country meant by ``text``, or up to three suggestions for a near miss."""
    if len(text) > MAX_COUNTRY_INPUT:
        return Resolution(None)
    key = normalize(text)
    if not key:
        return Resolution(None)
    index = _index(tuple(sorted(knowledge.country_aliases.items())))
    if key in index:
        return Resolution(index[key])
    close = difflib.get_close_matches(
        key, index.keys(), n=MAX_SUGGESTIONS * 3, cutoff=SUGGESTION_CUTOFF
    )
    suggestions = tuple(dict.fromkeys(index[name] for name in close))[:MAX_SUGGESTIONS]
    return Resolution(None, suggestions)


def is_country(code: str) -> bool:
    return pycountry.countries.get(alpha_2=code) is not None


def subdivision_names(code: str) -> list[str]:
    """ISO 3166-2 names of a region (e.g. "Bayern" for DE-BY), for matching typed answers."""
    sub = pycountry.subdivisions.get(code=code)  # type: ignore[no-untyped-call]
    return [str(sub.name)] if sub is not None else []


def resolve_subdivision(country: str, text: str, among: Iterable[str] | None = None) -> str | None:
    """The ISO 3166-2 region meant by ``text`` ("Bayern", "BY", "DE-BY"; "California", "CA"),
    among ``among`` or all of the country's top-level regions; None if none is meant."""
    wanted = normalize(text)
    if not wanted:
        return None
    if among is None:
        regions = pycountry.subdivisions.get(country_code=country) or []  # type: ignore[no-untyped-call]
        among = [str(r.code) for r in regions if getattr(r, "parent_code", None) is None]
    for code in among:
        names = {normalize(code), normalize(code.split("-", 1)[1])}
        names |= {normalize(n) for n in subdivision_names(code)}
        if wanted in names:
            return code
    return None
