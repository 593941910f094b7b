"""What a person sees: a step's effects rendered as the chat messages they become.

A ``Screen`` is one chat message (or document) as it arrives: its template, its visible text
(the markup stripped, links as their text) and its buttons. The letter-step budget test and
``scripts/message_sizes.py`` both read the journey through this, so the figures in a closing
note and the limits a test enforces come from the same rendering.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape

from bot.renderer import Message, Renderer
from bot.sender import written_case
from conversations.effects import Effect, Say, SendCalendar, SendData, SendLetter

__all__ = ["Screen", "screens", "visible"]


@dataclass(frozen=True)
class Screen:
    #: the chat template (``letter`` for a text to copy; ``file`` for a document)
    template: str
    text: str
    buttons: tuple[str, ...] = ()
    #: whether this is the text the person copies (the budget allows it to be long)
    is_letter: bool = False
    #: the addresses its link buttons open (the form)
    links: tuple[str, ...] = ()
    #: the text its copy button copies, if it has one
    copies: str | None = None

    @property
    def chars(self) -> int:
        return len(self.text)


def visible(html: str) -> str:
    """What Telegram shows of an HTML message: tags gone, entities read, links as their text."""
    text = re.sub(r"<a href=\"[^\"]*\">([^<]*)</a>", r"\1", html)
    return unescape(re.sub(r"<[^>]+>", "", text))


def screens(effects: list[Effect], renderer: Renderer, language: str) -> list[Screen]:
    """The chat messages and documents ``effects`` become, in order."""
    shown: list[Screen] = []
    for effect in effects:
        if isinstance(effect, Say):
            message = renderer.message(effect, language)
            shown.append(_screen(effect.message, message))
        elif isinstance(effect, SendLetter):
            letter = renderer.letter(written_case(effect), effect.letter)
            message = renderer.letter_message(
                letter,
                language,
                effect.letter,
                effect.buttons,
                reader_copy=effect.reader_copy,
            )
            shown.append(_screen("letter", message, is_letter=True))
            shown.append(Screen("file", letter.filename))
        elif isinstance(effect, SendCalendar | SendData):
            shown.append(Screen("file", effect.kind))
    return shown


def _screen(template: str, message: Message, *, is_letter: bool = False) -> Screen:
    buttons = [b for row in message.buttons for b in row]
    return Screen(
        template,
        visible(message.html),
        tuple(b.text for b in buttons),
        is_letter=is_letter,
        links=tuple(b.url for b in buttons if b.url),
        copies=next((b.copy_text for b in buttons if b.copy_text), None),
    )
