"""The journey as data: one script of moves from /start to the letter, and the branches after it.

A ``Move`` is one thing a person does, named after what it answers: a typed text (a command too)
or a press on a button by its data. ``JOURNEY`` is the path everyone takes -- /start, the
platforms, linked accounts, the country, the e-mail address, a reason, done, the person's own
words -- and ends at the letter. The end-to-end tests replay it through Telegram
(``TelegramClient.walk``), the hostile corpus stands at its steps, the brain's walks and
property tests replay its events through ``conversations.step``; a test changes a move
(``but``), stops before one (``until``) or goes on (``then``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from conversations.events import Command, Event, Press, Text


@dataclass(frozen=True)
class Move:
    """``value`` typed, or with ``press`` the data of the button pressed; ``name`` says what
    the move answers (the same in every script, so a test can change or find it)."""

    name: str
    value: str
    press: bool = False

    def event(self) -> Event:
        """The move as the brain receives it."""
        if self.press:
            return Press(data=self.value)
        if self.value.startswith("/"):
            name, _, args = self.value[1:].partition(" ")
            return Command(name=name, args=args.strip())
        return Text(text=self.value)


def typed(name: str, text: str) -> Move:
    return Move(name, text)


def pressed(name: str, data: str) -> Move:
    return Move(name, data, press=True)


@dataclass(frozen=True)
class Script:
    moves: tuple[Move, ...]

    def __iter__(self) -> Iterator[Move]:
        return iter(self.moves)

    def _index(self, name: str) -> int:
        names = [m.name for m in self.moves]
        assert name in names, f"no move {name!r} in {names}"
        return names.index(name)

    def until(self, name: str) -> Script:
        """The moves before ``name``: the person then stands at the question it answers."""
        return Script(self.moves[: self._index(name)])

    def since(self, name: str) -> Script:
        """The moves from ``name`` on."""
        return Script(self.moves[self._index(name) :])

    def but(self, **changes: str | Move | None) -> Script:
        """The named moves changed: a new value (typed or pressed as before), another move, or
        dropped (None)."""
        for name in changes:
            self._index(name)
        moves = []
        for move in self.moves:
            change = changes.get(move.name, move)
            if isinstance(change, str):
                change = replace(move, value=change)
            if change is not None:
                moves.append(change)
        return Script(tuple(moves))

    def then(self, *more: Move | Script) -> Script:
        moves = [*self.moves]
        for item in more:
            moves += item.moves if isinstance(item, Script) else [item]
        return Script(tuple(moves))

    def events(self) -> list[Event]:
        return [move.event() for move in self.moves]


#: /start to the letter, for Germany on both platforms in one Accounts Center.
JOURNEY = Script(
    (
        typed("start", "/start"),
        pressed("platforms", "platforms:both"),
        pressed("linked", "linked:yes"),
        typed("country", "Germany"),
        typed("email", "person@example.org"),
        pressed("reason", "reasons:children"),
        pressed("done", "reasons:done"),
        typed("own_words", "I photograph my kids."),
    )
)
#: Instead of the own words: no own words.
SKIP_OWN_WORDS = pressed("own_words", "own_words:skip")
#: From the letter on: the form is submitted...
SUBMITTED = pressed("submitted", "letter:submitted")
#: ... and Meta e-mailed a code (the countdown runs), or asked for none (the check-ins begin);
TO_CODE = JOURNEY.then(SUBMITTED, pressed("code", "submitted:have_code"))
TO_WAITING = JOURNEY.then(SUBMITTED, pressed("code", "submitted:no_code_needed"))
#: then Meta confirmed (its proof is asked for), or refused (the escalation).
TO_PROOF = TO_WAITING.then(pressed("answer", "waiting:confirmed"))
TO_ESCALATION = TO_WAITING.then(pressed("answer", "waiting:refused"))
