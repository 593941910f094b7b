"""Scripted walks through the brain, shared by the brain tests and the template tests.

``Walk`` drives ``machine.step`` with a hand-moved clock and fires due reminders the way the
scheduler would, collecting every effect, so tests can ask "what did the person see?". It
replays the journey scripts of ``tests.support.journey`` as the Telegram tests do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from conversations import Policy, machine
from conversations.case import Case, Step
from conversations.effects import Cancel, Effect, Say, Schedule
from conversations.events import Command, Event, Press, Reminder, Text
from conversations.knowledge import Knowledge
from tests.support import START
from tests.support.journey import JOURNEY, Script

__all__ = ["START", "Walk", "said"]


@dataclass
class Walk:
    k: Knowledge
    now: datetime
    case: Case
    reminders: dict[str, datetime] = field(default_factory=dict)
    effects: list[Effect] = field(default_factory=list)
    policy: Policy = field(default_factory=Policy)
    #: every effect with the clock time it was produced at
    log: list[tuple[datetime, Effect]] = field(default_factory=list)

    @classmethod
    def begin(cls, k: Knowledge, now: datetime, chat_id: int = 1, language: str = "en") -> Walk:
        case = Case.new(chat_id, now).model_copy(update={"language": language})
        return cls(k=k, now=now, case=case)

    def send(self, event: Event) -> list[Effect]:
        self.case, out = machine.step(self.case, event, self.now, self.k, self.policy)
        for effect in out:
            if isinstance(effect, Schedule):
                self.reminders[effect.key] = effect.due_at
            elif isinstance(effect, Cancel):
                for key in effect.keys:
                    self.reminders.pop(key, None)
        self.effects.extend(out)
        self.log.extend((self.now, e) for e in out)
        return out

    def current(self) -> Case:
        """The case as it is now. Read it after a move instead of ``self.case``: mypy keeps what an
        earlier ``assert walk.case.step is ...`` narrowed across the move (it cannot see that
        ``send`` rebinds ``case``), but it never narrows a call's result."""
        return self.case

    def text(self, text: str) -> list[Effect]:
        return self.send(Text(text=text))

    def press(self, data: str) -> list[Effect]:
        return self.send(Press(data=data))

    def command(self, name: str) -> list[Effect]:
        return self.send(Command(name=name))

    def advance(self, delta: timedelta) -> list[Effect]:
        """Move the clock, firing every reminder that falls due on the way, in order."""
        end = self.now + delta
        fired: list[Effect] = []
        while self.reminders:
            key, due = min(self.reminders.items(), key=lambda kv: kv[1])
            if due > end:
                break
            self.now = max(self.now, due)
            del self.reminders[key]
            fired += self.send(Reminder(key=key, due_at=due))
        self.now = end
        return fired

    def jump(self, delta: timedelta) -> list[Effect]:
        """The bot was down: the clock moves, then every overdue reminder fires at once (late)."""
        self.now += delta
        fired: list[Effect] = []
        for key, due in sorted(self.reminders.items(), key=lambda kv: kv[1]):
            if due <= self.now and key in self.reminders:
                del self.reminders[key]
                fired += self.send(Reminder(key=key, due_at=due))
        return fired

    def replay(self, script: Script) -> Walk:
        """Every move of a journey script, one after another, on the clock as it stands."""
        for move in script:
            self.send(move.event())
        return self

    def to_letter(self, country: str = "DE", both: bool = False, region: str | None = None) -> Walk:
        """``JOURNEY`` from /start to the letter, on Facebook alone (``both``: both platforms,
        linked) in ``country``; where the law depends on the state (the USA), in ``region``
        ("US-CA") or, without it, in another state."""
        script = JOURNEY.but(country=country)
        if not both:
            script = script.but(platforms="platforms:facebook", linked=None)
        self.replay(script.until("email"))
        if self.case.step is Step.STATE:
            self.press(f"state:{region or 'other'}")
        return self.replay(script.since("email"))


def said(effects: list[Effect]) -> list[str]:
    return [e.message for e in effects if isinstance(e, Say)]
