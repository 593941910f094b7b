"""The same journey in a terminal: the same brain, storage and templates, no Telegram needed.

Buttons are shown as numbered choices; typing a number presses that button, typing its label or
any answer works as in Telegram. Commands are typed as in Telegram (/status, /delete, …), and
/quit (or end of input, or Ctrl-C) leaves.

Rules:
- A terminal is one person: every line typed or piped in is read (``Unthrottled``); what the
  bot sends keeps the sending limits.
- The few lines only the console says (leaving, where a document was saved, /quit in /help)
  are templates too (``templates/chat/console_*.html.j2``), in the person's language; what
  a person typed only ever reaches the brain as an event, never a template.
- Lines are read by a daemon thread: a read blocked on the terminal must not hold up the exit
  (a thread pool's worker would be joined at exit, so Ctrl-C would wait for Enter).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

from bot.inbox import FloodGuard
from bot.renderer import Message, RenderedButton, Renderer
from bot.sender import Sender
from bot.storage import Storage
from conversations import Command, Event, Press, Say, Text, supported_language

#: Where a locale's language is read from, most binding first (POSIX).
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")


def terminal_language(environ: Mapping[str, str]) -> str | None:
    """The terminal's language as a client language tag: ``de_DE.UTF-8`` -> ``de-DE``;
    ``C``, ``POSIX`` or nothing set -> None (the brain's default)."""
    value = next((environ[name] for name in LOCALE_VARIABLES if environ.get(name)), "")
    tag = value.split(".", 1)[0].split("@", 1)[0].strip()  # no codeset, no modifier
    if tag in ("", "C", "POSIX"):
        return None
    return tag.replace("_", "-")


class Unthrottled(FloodGuard):
    """The console's input guard: admits every line (one person at one keyboard, or a file
    they pipe in, is no flood to defend against)."""

    def admit(self, chat_id: int, now: datetime) -> bool:
        return True


@dataclass(frozen=True)
class ConsoleVoice:
    """The console's own lines, rendered from ``console_*`` templates in the language of the
    conversation (the terminal's until the person has one)."""

    renderer: Renderer
    storage: Storage
    chat_id: int
    client_language: str | None = None

    async def line(self, name: str, **context: object) -> str:
        case = await self.storage.load(self.chat_id)
        language = case.language if case and case.language else None
        language = language or supported_language(self.client_language)
        say = Say(message=f"console_{name}", context={"kept": case is not None, **context})
        return self.renderer.message(say, language).plain.strip()


class ConsoleTransport:
    """Prints messages; remembers the last buttons so that a typed number can press one.

    Text documents are printed; other documents (a PDF) are saved under ``documents`` and
    where is said in one line.
    """

    def __init__(self, out: TextIO = sys.stdout, documents: Path = Path("documents")) -> None:
        self._out = out
        self._documents = documents
        self._next_id = 0
        self.choices: list[RenderedButton] = []
        #: says where a saved document went; given by the composition root once the
        #: services this transport is part of exist (without it: the path alone)
        self.voice: ConsoleVoice | None = None

    async def send_message(self, chat_id: int, message: Message) -> int:
        self._print(message)
        self._next_id += 1
        return self._next_id

    async def edit_message(self, chat_id: int, message_id: int, message: Message) -> None:
        self._print(message)  # a terminal cannot edit what it printed: print the update

    async def delete_message(self, chat_id: int, message_id: int) -> None:
        """A terminal cannot take back what it printed: nothing to do."""

    def _print(self, message: Message) -> None:
        self._out.write("\n" + message.plain.strip() + "\n")
        numbered = [b for row in message.buttons for b in row]
        if any(b.data for b in numbered):
            self.choices = numbered
        for number, button in enumerate(numbered, start=1):
            target = f"  → {button.url}" if button.url else ""
            self._out.write(f"  [{number}] {button.text}{target}\n")
        self._out.flush()

    def say(self, line: str, *, continuing: bool = False) -> None:
        """One line of the console's own (already rendered); ``continuing`` the message
        printed last, so with no blank line before it."""
        self._out.write(("" if continuing else "\n") + line + "\n")
        self._out.flush()

    def prompt(self) -> None:
        self._out.write("> ")
        self._out.flush()

    async def send_document(self, chat_id: int, filename: str, content: bytes) -> None:
        text = _as_text(content)
        if text is not None:
            self._out.write(f"\n----- {filename} -----\n{text}----- end of {filename} -----\n")
            self._out.flush()
            return
        path = await asyncio.to_thread(self._save, filename, content)
        self.say(await self.voice.line("saved", path=str(path)) if self.voice else str(path))

    def _save(self, filename: str, content: bytes) -> Path:
        """The document under its own name (a later one of the same name replaces it), for
        this user only: it holds what the person told the bot."""
        self._documents.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = (self._documents / Path(filename).name).resolve()
        path.touch(mode=0o600)
        path.write_bytes(content)
        return path

    def event_for(self, line: str, client_language: str | None = None) -> Event:
        text = line.strip()
        if text.startswith("/"):
            name, _, args = text[1:].partition(" ")
            return Command(name=name, args=args.strip(), client_language=client_language)
        if text.isdigit() and 1 <= int(text) <= len(self.choices):
            chosen = self.choices[int(text) - 1]
            if chosen.data:
                return Press(data=chosen.data, client_language=client_language)
        return Text(text=line.rstrip("\n"), client_language=client_language)


def _as_text(content: bytes) -> str | None:
    """The document as text, if it is text a terminal can show (UTF-8, no control bytes)."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(ord(c) < 32 and c not in "\n\r\t" for c in text):
        return None
    return text


#: The console's input: an answer for the inbox, or a short notice to show (``str``) or none.
Handle = Callable[[int, Event], Awaitable[str | None]]
QUIT = ("/quit", "/exit")


async def run_console(
    handle: Handle,
    sender: Sender,
    transport: ConsoleTransport,
    chat_id: int,
    lines: TextIO,
    voice: ConsoleVoice | None = None,
    *,
    client_language: str | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Read lines until end of input, /quit or ``stop``; every line goes through the inbox.

    ``stop`` (set on Ctrl-C) ends the console between two inputs: an input being handled is
    handled to the end first. Then ``voice`` says goodbye.
    """
    stop = stop or asyncio.Event()
    reader = _LineReader(lines)
    await sender.flush(chat_id)
    await _input(handle, transport, chat_id, Command(name="start", client_language=client_language))
    while not stop.is_set():
        if lines.isatty():
            transport.prompt()
        line = await reader.next_line(stop)
        if line is None or line.strip() in QUIT:
            break
        if not line.strip():
            continue
        event = transport.event_for(line, client_language)
        await _input(handle, transport, chat_id, event)
        if voice and isinstance(event, Command) and event.name.lower() == "help":
            # /help is the brain's, for every chat; /quit is the console's
            transport.say(await voice.line("quit"), continuing=True)
    if voice:
        transport.say(await voice.line("goodbye"))


async def _input(handle: Handle, transport: ConsoleTransport, chat_id: int, event: Event) -> None:
    notice = await handle(chat_id, event)
    if notice is not None:
        transport.say(notice)


class _LineReader:
    """``source``'s lines, read ahead by a daemon thread; None at its end."""

    def __init__(self, source: TextIO) -> None:
        self._loop = asyncio.get_running_loop()
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        thread = threading.Thread(target=self._read, args=(source,), daemon=True)
        thread.start()

    def _read(self, source: TextIO) -> None:
        try:
            for line in iter(source.readline, ""):
                self._put(line)
        except (OSError, ValueError):  # stdin closed or unreadable: that is its end too
            pass
        self._put(None)

    def _put(self, line: str | None) -> None:
        # The loop may be gone (the console ended while input kept coming): drop the line.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._lines.put_nowait, line)

    async def next_line(self, stop: asyncio.Event) -> str | None:
        """The next line, or None at the end of input or when ``stop`` is set first."""
        reading = asyncio.ensure_future(self._lines.get())
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not reading.done():
                reading.cancel()  # the queue keeps the line it did not hand out
        if stop.is_set() or not reading.done() or reading.cancelled():
            return None
        return reading.result()
