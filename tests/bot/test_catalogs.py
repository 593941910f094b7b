"""The translation catalogs: one per language, holding every chat sentence and every text of the
knowledge data, complete, current, and faithful to the source's placeholders and markup.

``templates/locale/messages.pot`` is what ``pybabel extract -F babel.cfg`` writes (the chat's
templates and ``conversations/knowledge.toml``); each ``<lang>/LC_MESSAGES/messages.po`` must
translate all of it, with nothing fuzzy or left over.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from bot.renderer import TEMPLATES_DIR, Renderer
from conversations import LANGUAGES, Say, language_name

ROOT = TEMPLATES_DIR.parent
LOCALE = TEMPLATES_DIR / "locale"
TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]
#: What a button label may hold: Telegram shows about this much on a phone before it cuts.
LABEL_MAX = 64
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
TAG = re.compile(r"</?\w+[^>]*>")


def _read(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f)


def _catalog(language: str) -> Catalog:
    return _read(LOCALE / language.replace("-", "_") / "LC_MESSAGES" / "messages.po")


def _ids(catalog: Catalog) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


def test_the_template_holds_exactly_what_the_sources_say() -> None:
    """messages.pot is current: re-extracting the chat and the knowledge data gives its ids."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options = parse_mapping_cfg(f)  # type: ignore[no-untyped-call]
    extracted = {
        message if isinstance(message, str) else message[0]
        for _, _, message, *_ in extract_from_dir(str(ROOT), method_map, options)
    }
    assert extracted == _ids(_read(LOCALE / "messages.pot")), "run pybabel extract (README)"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_catalog_translates_everything_and_nothing_else(language: str) -> None:
    source = _ids(_read(LOCALE / "messages.pot"))
    catalog = _catalog(language)
    untranslated = [
        m.id
        for m in catalog
        if m.id and not all(m.string if isinstance(m.string, tuple) else [m.string])
    ]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert source - _ids(catalog) == set(), f"{language}: missing"
    assert _ids(catalog) - source == set(), f"{language}: obsolete entries"
    assert untranslated == [] and fuzzy == [], language
    assert not list(catalog.check()), f"{language}: placeholder or plural problems"


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_the_placeholders_and_the_markup(language: str) -> None:
    """A translation has the source's %(name)s placeholders and its HTML tags, no more, no
    fewer (a lost <b> or a new <a> would change what Telegram shows, or break it)."""
    problems = []
    for m in _catalog(language):
        if not m.id:
            continue
        pairs: list[tuple[str, str]]
        if isinstance(m.id, tuple) and isinstance(m.string, tuple):
            # plural forms: the first is the singular's, the others the plural's
            sources = (m.id[0], *[m.id[1]] * (len(m.string) - 1))
            pairs = list(zip(sources, m.string, strict=True))
        else:
            pairs = [(str(m.id), str(m.string))]
        for source, text in pairs:
            if Counter(PLACEHOLDER.findall(source)) != Counter(PLACEHOLDER.findall(text)):
                problems.append(("placeholders", source[:60]))
            if Counter(TAG.findall(source)) != Counter(TAG.findall(text)):
                problems.append(("markup", source[:60]))
    assert problems == [], f"{language}: {problems[:5]}"


def test_button_labels_fit_a_phone(renderer: Renderer) -> None:
    """Every fixed button label, in every language (``label_texts`` holds them all)."""
    long = [
        t
        for key, texts in renderer.label_texts.items()
        if not key.startswith("bot.")  # the bot's descriptions: Telegram's own limits, below
        for t in texts
        if len(t) > LABEL_MAX
    ]
    assert long == []


def test_the_bots_descriptions_fit_telegrams_limits(renderer: Renderer) -> None:
    for key, limit in (("bot.description", 512), ("bot.short_description", 120)):
        assert all(0 < len(t) <= limit for t in renderer.label_texts[key]), key


@pytest.mark.parametrize("language", TRANSLATED)
def test_each_language_names_itself_where_the_source_says_english(
    renderer: Renderer, language: str
) -> None:
    """ "I will write in English from now on" is said in the language just chosen and means
    that language (as "ab jetzt auf Deutsch"), not English: a catalog that kept "English"
    there (six did) would tell a Dane the bot now writes English."""
    said = renderer.message(Say(message="language_set"), language).plain.lower()
    english = language_name("en", language).lower()
    assert english[: max(len(english) - 2, 4)] not in said  # a stem: "angleščina", "angleščini"
