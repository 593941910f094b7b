"""The same journey in a terminal: the same brain, storage and templates, no Telegram needed.

Buttons are shown as numbered choices; typing a number presses that button, typing its label or
any answer works as in Telegram. Commands are typed as in Telegram (/status, /delete, …).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TextIO

from bot.renderer import Message, RenderedButton
from bot.sender import Sender
from conversations import Command, Event, Press, Text


class ConsoleTransport:
    """Prints messages; remembers the last buttons so that a typed number can press one."""

    def __init__(self, out: TextIO = sys.stdout) -> None:
        self._out = out
        self._next_id = 0
        self.choices: list[RenderedButton] = []

    async def send_message(self, chat_id: int, message: Message) -> int:
        self._print(message)
        self._next_id += 1
        return self._next_id

    async def edit_message(self, chat_id: int, message_id: int, message: Message) -> None:
        self._print(message)  # a terminal cannot edit what it printed: print the update

    def _print(self, message: Message) -> None:
        self._out.write("\n" + message.plain.strip() + "\n")
        numbered = [b for row in message.buttons for b in row]
        if any(b.data for b in numbered):
            self.choices = numbered
        for number, button in enumerate(numbered, start=1):
            target = f"  → {button.url}" if button.url else ""
            self._out.write(f"  [{number}] {button.text}{target}\n")
        self._out.flush()

    async def send_document(self, chat_id: int, filename: str, content: bytes) -> None:
        self._out.write(
            f"\n----- {filename} -----\n{content.decode('utf-8')}----- end of {filename} -----\n"
        )
        self._out.flush()

    def event_for(self, line: str) -> Event:
        text = line.strip()
        if text.startswith("/"):
            name, _, args = text[1:].partition(" ")
            return Command(name=name, args=args.strip())
        if text.isdigit() and 1 <= int(text) <= len(self.choices):
            chosen = self.choices[int(text) - 1]
            if chosen.data:
                return Press(data=chosen.data)
        return Text(text=line.rstrip("\n"))


async def run_console(
    handle: Callable[[int, Event], Awaitable[None]],
    sender: Sender,
    transport: ConsoleTransport,
    chat_id: int,
    lines: TextIO,
) -> None:
    """Read lines until end of input or /quit; every line goes through the inbox."""
    await sender.flush(chat_id)
    await handle(chat_id, Command(name="start"))
    while True:
        line = await asyncio.to_thread(_prompt, lines)
        if line is None or line.strip() in ("/quit", "/exit"):
            break
        if not line.strip():
            continue
        await handle(chat_id, transport.event_for(line))


def _prompt(lines: TextIO) -> str | None:
    if lines.isatty():
        sys.stdout.write("> ")
        sys.stdout.flush()
    line = lines.readline()
    return line if line else None
