"""Turning what a person types ("Deutschland", "germany", "DE", "Österreich", "UK") into a country.

Names come from CLDR via babel -- in every language the bot speaks and in the languages of the
people it serves (``NAME_LOCALES``: each country's own name in its own script, "Polska",
"Ελλάδα", "България", 日本) -- and from ISO 3166 via pycountry; the knowledge file adds the few
colloquial names neither knows ("UK", "Holland"). They are one index, built once per process:
an exact hit is a dictionary lookup. Matching ignores case, accents and punctuation; near misses
produce suggestions (rapidfuzz's normalised Levenshtein ratio), never a guess.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

import pycountry
from babel import Locale
from rapidfuzz import fuzz, process

from conversations.knowledge import LANGUAGES, Knowledge, babel_locale, supported_language

#: How close a typed name must be to a known one to be offered as a suggestion (0..100).
SUGGESTION_CUTOFF = 72
#: The languages whose CLDR country names are understood, beyond the bot's own: the official
#: languages of the EU/EEA, Switzerland and the UK, and the languages most spoken by people
#: who live there with another mother tongue (and a few large ones beyond).
NAME_LOCALES = (
    # the EU's official languages
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr",
    "hu", "it", "lt", "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv",
    # the rest of the EEA, Switzerland, Luxembourg and the UK
    "nb", "nn", "is", "rm", "lb", "cy",
    # people who live there with another mother tongue, and a few large languages beyond
    "uk", "tr", "ar", "ru", "sq", "sr", "bs", "mk", "hi", "ur",
    "bn", "zh", "ja", "ko", "vi", "fa", "he", "id",
)  # fmt: skip
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


def language_name(code: str, language: str | None = None, *, listed: bool = False) -> str:
    """One of the bot's languages by its name in ``language`` (CLDR), by default its own name:
    as a sentence writes it ("en allemand", "auf Deutsch"), or ``listed`` as a person looks
    for it in a list ("Français", "Português (Brasil)")."""
    locale = Locale.parse(babel_locale(code))
    name = locale.get_display_name(babel_locale(language or code)) or code
    return name[:1].upper() + name[1:] if listed else name


@cache  # CLDR lookups for a fixed set of codes: the same answer every time
def language_names(code: str) -> frozenset[str]:
    """What a person may type to mean the language: its name in every language the bot has."""
    return frozenset(
        {language_name(code, listed=True), *(language_name(code, lang) for lang in LANGUAGES)}
    )


#: Articles a country's name may be typed with ("the Netherlands", "la France", "die Schweiz").
ARTICLES = frozenset(
    (
        *("the", "la", "le", "les", "l", "el", "los", "las", "lo", "il"),
        *("die", "der", "das", "de", "het", "o", "a", "os", "as"),
    )
)


def variants(name: str) -> set[str]:
    """The normalised forms a name is typed in: as is, without a leading article, with its
    initials run together ("U.S.A." -> "usa"), and ISO's inverted "Korea, Republic of" the
    right way round."""
    forms = {normalize(name)}
    if "," in name:
        head, _, tail = name.partition(",")
        forms.add(normalize(f"{tail} {head}"))
    for form in list(forms):
        words = form.split()
        if len(words) > 1 and words[0] in ARTICLES:
            forms.add(" ".join(words[1:]))
        if len(words) > 1 and all(len(w) == 1 for w in words):
            forms.add("".join(words))
    forms.discard("")
    return forms


@cache
def official_in(language: str, country: str) -> bool:
    """Whether ``language`` ("tr", "pt-BR") is an official language of ``country`` (CLDR, de
    facto official ones included): Turkish in Cyprus, not in Germany."""
    from babel.languages import get_official_languages

    return language.split("-")[0] in get_official_languages(country, de_facto=True)


@cache
def languages_of(country: str) -> tuple[str, ...]:
    """The bot's languages, other than English, that are official in ``country`` (CLDR, de
    facto official ones included): for Belgium Dutch, French and German, for Brazil pt-BR."""
    from babel.languages import get_official_languages

    found: list[str] = []
    for code in get_official_languages(country, de_facto=True):
        language = supported_language(f"{code}-{country}", default="")
        if language and language != "en" and language not in found:
            found.append(language)
    return tuple(found)


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
    for lang in dict.fromkeys((*LANGUAGES, *NAME_LOCALES)):
        for code, name in Locale.parse(babel_locale(lang)).territories.items():
            if code in codes:
                for form in variants(name):
                    index.setdefault(form, code)
    for c in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(c, attr, None)
            if value:
                for form in variants(value):
                    index.setdefault(form, c.alpha_2)
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
    index = country_index(knowledge)
    for form in (key, *sorted(variants(text))):
        if form in index:
            return Resolution(index[form])
    close = process.extract(
        key,
        index.keys(),
        scorer=fuzz.ratio,
        limit=MAX_SUGGESTIONS * 3,
        score_cutoff=SUGGESTION_CUTOFF,
    )
    suggestions = tuple(dict.fromkeys(index[name] for name, _, _ in close))[:MAX_SUGGESTIONS]
    return Resolution(None, suggestions)


def country_index(knowledge: Knowledge) -> dict[str, str]:
    """Every known name of every country (normalised) -> its ISO code, built once."""
    return _index(tuple(sorted(knowledge.country_aliases.items())))


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
