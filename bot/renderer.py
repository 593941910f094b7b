"""All prose comes out of here: chat messages and letters, rendered from ``templates/``.

Rules:
- One strict Jinja environment per language and kind: undefined variables are errors; chat
  messages (``*.html.j2``) are HTML-escaped for Telegram's HTML parse mode; letters are plain text.
- Chat sentences are translated with gettext from ``templates/locale/<lang>/LC_MESSAGES/
  messages.po`` (read at start-up, no compiled files); letters are written per language.
- What a person typed only ever enters as a context value: it is escaped, never compiled.
"""

from __future__ import annotations

import html as html_lib
import io
import json
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

import optout_templates
from babel import Locale
from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.support import NullTranslations, Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template

from conversations import (
    LANGUAGES,
    Button,
    Case,
    Knowledge,
    LetterKind,
    Notice,
    Say,
    babel_locale,
    catalog_file,
    country_name,
    language_name,
    letter_context,
    letter_language,
    letter_templates,
    parsed_catalog,
    subdivision_names,
)

TEMPLATES_DIR = Path(optout_templates.__file__).resolve().parent
#: Telegram's CopyTextButton takes at most 256 characters.
COPY_BUTTON_MAX = 256
#: Telegram shows at most 200 characters on a tapped button (answerCallbackQuery's text).
NOTICE_MAX = 200
#: Telegram messages hold 4096 characters; above this the text goes only into the document.
CHAT_TEXT_MAX = 3500
#: Stands in for the person's own words while a letter is tidied (they cannot type U+E000
#: into a letter: private-use characters are refused at the own-words step).
OWN_WORDS_MARK = "\ue000own-words\ue000"
#: Context keys whose values are the bot's own vocabulary (country and reason codes, flags,
#: counts and lists of them), never what a person typed or when they did something. A chat
#: message whose context holds only these reads the same for everyone who gets it, so it is
#: rendered once per language and kept (``Renderer.message``): most questions of the journey.
#: A message with any other key (an e-mail, own words, a timeline, a time zone) is rendered
#: afresh every time and kept nowhere, so ``/delete`` leaves no copy of it in memory either.
SHARED_CONTEXT = frozenset(
    {
        "closed_days",
        "country",
        "deadline_firm",
        "earlier_objections_stay",
        "every_region",
        "has_reason",
        "inactive_days",
        "jurisdiction",
        "limit",
        "linked_accounts",
        "options",
        "particular_situation",
        "platforms",
        "reason_required",
        "regions",
        "selected",
        "sender_domains",
    }
)
#: Shared renders kept at most (a journey has a few dozen per language; far below this).
SHARED_RENDERS_MAX = 4096

#: A shared render's key: language, message, the context as JSON, and the buttons.
_RenderKey = tuple[str, str, str, tuple[tuple[Button, ...], ...]]


@dataclass(frozen=True)
class RenderedButton:
    text: str
    data: str | None = None
    url: str | None = None
    copy_text: str | None = None


@dataclass(frozen=True)
class Message:
    html: str
    buttons: tuple[tuple[RenderedButton, ...], ...] = ()

    @property
    def plain(self) -> str:
        """The message without markup, for the console and for logs-free tests."""
        return html_to_text(self.html)


@dataclass(frozen=True)
class Letter:
    form_text: str  # what goes into the form's free-text field
    full_text: str  # the complete objection, for the .txt document
    filename: str
    language: str  # the language it is written in


def _shared_key(say: Say, language: str) -> _RenderKey | None:
    """The key a message's render is kept under, or None: not the same for everyone."""
    if not say.context.keys() <= SHARED_CONTEXT:
        return None
    try:
        context = json.dumps(say.context, sort_keys=True)
    except TypeError:  # a value that is not plain data: render it each time
        return None
    return (language, say.message, context, say.buttons)


def html_to_text(html: str) -> str:
    text = re.sub(r"<a href=\"([^\"]*)\">([^<]*)</a>", r"\2 (\1)", html)
    text = re.sub(r"<[^>]+>", "", text)
    return html_lib.unescape(text)


class Renderer:
    def __init__(self, knowledge: Knowledge, templates_dir: Path = TEMPLATES_DIR) -> None:
        self.knowledge = knowledge
        self.templates_dir = templates_dir
        translations = {lang: self._translations(lang) for lang in LANGUAGES}
        self._chat = {
            lang: self._environment(lang, translations[lang], html=True) for lang in LANGUAGES
        }
        self._letters = {
            lang: self._environment(lang, translations[lang], html=False) for lang in LANGUAGES
        }
        self._templates: dict[tuple[str, str], Template] = {}
        #: messages with a shared context (``SHARED_CONTEXT``), rendered once
        self._shared: dict[_RenderKey, Message] = {}
        #: rendered button labels by (label key, argument, selected, language): fixed text
        self._labels: dict[tuple[str, str | None, bool, str], str] = {}

    def _environment(
        self, language: str, translations: NullTranslations, *, html: bool
    ) -> Environment:
        env = Environment(
            loader=FileSystemLoader(self.templates_dir),
            undefined=StrictUndefined,
            autoescape=html,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            auto_reload=False,  # templates do not change while the bot runs: no stat per render
            extensions=["jinja2.ext.i18n"],
        )
        cldr = babel_locale(language)
        env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
        env.globals.update(
            knowledge=self.knowledge,
            language=language,
            country_name=lambda code: country_name(code, language),
            format_date=lambda d, fmt="long": format_date(d, format=fmt, locale=cldr),
            t=lambda translated: translated[language],
        )
        names = Locale.parse(cldr).languages
        # an ISO 639-1 code (a complaint language) or one of the bot's own ("pt-BR")
        env.filters["language_name"] = lambda code: (
            language_name(code, language) if code in LANGUAGES else str(names.get(code, code))
        )
        env.filters["region_name"] = lambda code: ", ".join(subdivision_names(code)) or code
        env.filters["localtime"] = lambda iso, tz: _local(iso, tz, cldr, with_date=True)
        env.filters["clock"] = lambda iso, tz: _local(iso, tz, cldr, with_date=False)
        env.filters["localdate"] = lambda iso, tz: format_date(
            datetime.fromisoformat(iso).astimezone(ZoneInfo(tz)).date(),
            format="long",
            locale=cldr,
        )
        return env

    def _translations(self, language: str) -> NullTranslations:
        po = catalog_file(self.templates_dir / "locale", language)
        if not po.exists():
            return NullTranslations()
        buffer = io.BytesIO()
        write_mo(buffer, parsed_catalog(po))
        buffer.seek(0)
        return Translations(fp=buffer)

    # -- chat ------------------------------------------------------------------------------

    def message(self, say: Say, language: str) -> Message:
        key = _shared_key(say, language)
        if key is not None and key in self._shared:
            return self._shared[key]
        html = self._template(language, say.message).render(**say.context).strip()
        message = Message(html=html, buttons=self.buttons(say.buttons, language))
        if key is not None and len(self._shared) < SHARED_RENDERS_MAX:
            self._shared[key] = message
        return message

    def notice(self, notice: Notice, language: str) -> str:
        """A notice on a tapped button: plain text, within Telegram's 200 characters."""
        text = self.message(Say(message=notice.message), language).plain.strip()
        return text[:NOTICE_MAX]

    def _template(self, language: str, message: str) -> Template:
        """A chat message's compiled template (looked up once, then by a plain dict)."""
        key = (language, message)
        if key not in self._templates:
            self._templates[key] = self._chat[language].get_template(f"chat/{message}.html.j2")
        return self._templates[key]

    def buttons(
        self, rows: tuple[tuple[Button, ...], ...], language: str
    ) -> tuple[tuple[RenderedButton, ...], ...]:
        return tuple(
            tuple(RenderedButton(text=self.label(b, language), data=b.data, url=b.url) for b in row)
            for row in rows
        )

    def label(self, button: Button, language: str) -> str:
        key = (button.label, button.arg, button.selected, language)
        if key not in self._labels:  # labels are fixed text: render each once
            self._labels[key] = self._label(button, language)
        return self._labels[key]

    def _label(self, button: Button, language: str) -> str:
        if button.label == "country":
            text = country_name(button.arg or "", language)
        elif button.label == "region":
            text = ", ".join(subdivision_names(button.arg or "")) or (button.arg or "")
        elif button.label == "timezone":
            text = (button.arg or "").replace("_", " ")
        elif button.label == "language":  # every language by its own name
            text = language_name(button.arg or "", listed=True)
        else:
            key = f"{button.label}.{button.arg}" if button.arg else button.label
            text = self._label_tables[language][key]
        return f"✅ {text}" if button.selected else text

    @cached_property
    def _label_tables(self) -> dict[str, dict[str, str]]:
        tables = {}
        for lang, env in self._chat.items():
            module = env.get_template("chat/_labels.j2").make_module()
            tables[lang] = {key: str(value) for key, value in module.labels.items()}  # type: ignore[attr-defined]
        return tables

    @cached_property
    def label_texts(self) -> dict[str, frozenset[str]]:
        """Every fixed button label in every language, by label key: the brain reads a typed
        label as the button it names (``conversations.step``'s ``labels``)."""
        keys = {key for table in self._label_tables.values() for key in table}
        return {
            key: frozenset(table[key] for table in self._label_tables.values() if key in table)
            for key in keys
        }

    # -- letters ---------------------------------------------------------------------------

    def letter(self, case: Case, kind: LetterKind = "objection") -> Letter:
        language = letter_language(case, kind)
        form_name, full_name = letter_templates(case, self.knowledge, kind)
        context = letter_context(case, self.knowledge)
        # The person's own words go in exactly as typed: the tidying of template blank lines
        # runs around a placeholder, which is replaced by their text afterwards.
        own_words = context.get("own_words")
        if own_words:
            context["own_words"] = OWN_WORDS_MARK
        env = self._letters[language]
        form_text = _tidy(env.get_template(form_name).render(**context))
        full_text = _tidy(env.get_template(full_name).render(form_text=form_text, **context))
        if own_words:
            form_text = form_text.replace(OWN_WORDS_MARK, own_words)
            full_text = full_text.replace(OWN_WORDS_MARK, own_words)
        if kind != "objection":  # the follow-up and complaint are the texts to copy
            form_text = full_text
        filename = f"{kind}-{language}.txt"
        return Letter(form_text, full_text, filename, language)

    def email(self, case: Case, letter: Letter) -> tuple[str, str]:
        """Subject and plain-text body of the e-mail copy (``templates/email/<lang>/``)."""
        assert case.language is not None
        env = self._letters[case.language]
        context = {**letter_context(case, self.knowledge), "form_text": letter.form_text}
        subject = env.get_template(f"email/{case.language}/subject.txt.j2").render(**context)
        body = env.get_template(f"email/{case.language}/body.txt.j2").render(**context)
        return " ".join(subject.split()), _tidy(body)

    def document_labels(self, name: str, language: str, **context: object) -> dict[str, str]:
        """The wording of a document the shell lays out itself (the evidence pack's PDF): the
        ``labels`` that ``templates/letters/<lang>/<name>.j2`` sets, rendered with ``context``
        (the bot's own values: flags, keys, formatted dates; never what a person typed)."""
        template = self._letters[language].get_template(f"letters/{language}/{name}.j2")
        module = template.make_module(vars=dict(context))
        return {key: str(value) for key, value in module.labels.items()}  # type: ignore[attr-defined]

    def letter_message(
        self,
        letter: Letter,
        language: str,
        kind: LetterKind = "objection",
        buttons: tuple[tuple[Button, ...], ...] = (),
        *,
        reader_copy: bool = False,
    ) -> Message:
        """A text as a chat message (in the chat's ``language``): tap-to-copy text, a copy button
        where it fits, then ``buttons`` (the form to paste it into); named with the language it
        is written in where that is not the chat's. ``reader_copy``: it is the person's copy of a
        text sent in another language."""
        text = letter.form_text
        env = self._chat[language]
        template = env.get_template("chat/letter.html.j2")
        html = template.render(
            form_text=text,
            fits_chat=len(text) <= CHAT_TEXT_MAX,
            kind=kind,
            form=bool(buttons),
            written_in=letter.language,
            reader_copy=reader_copy,
        )
        html = html.strip()
        copy_button: tuple[tuple[RenderedButton, ...], ...] = ()
        if len(text) <= COPY_BUTTON_MAX:
            label = self._label_tables[language]["letter.copy"]
            copy_button = ((RenderedButton(text=label, copy_text=text),),)
        return Message(html=html, buttons=(*copy_button, *self.buttons(buttons, language)))


def _local(iso: str, tz: str, language: str, *, with_date: bool) -> str:
    """A moment in the person's time zone: "Nov 26, 2026, 11:00 AM" / "26.11.2026, 11:00"."""
    moment = datetime.fromisoformat(iso).astimezone(ZoneInfo(tz))
    clock = format_time(moment, format="short", locale=language)
    if not with_date:
        return str(clock)
    return f"{format_date(moment.date(), format='medium', locale=language)}, {clock}"


def _tidy(text: str) -> str:
    """Collapse the blank lines that template conditionals leave behind."""
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
