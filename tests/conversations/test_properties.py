"""Properties of the pure brain, over random conversations (hypothesis).

A conversation here is up to 40 events: presses on the buttons the person was just shown, useful
and hostile texts, known and unknown commands, forged button data, media, reminders (the ones the
brain scheduled, when they fall due, and random ones) — with a clock that only moves forward, by
seconds or by days. After every event:

- ``step`` did not raise, and the case is at a step of the transition table;
- no answer changed unless the person erased everything (/delete, "Start over") or answered that
  very question again (a rejected input, returned unchanged, passes trivially); an edited
  message changes nothing;
- every effect survives the outbox: it is JSON (``TypeAdapter(Effect)``), and read back it renders —
  each ``Say`` names a template in ``templates/chat/``, each button label exists, each button's
  data fits Telegram's 64 bytes;
- a person's input (anything but a reminder) is answered, and nothing is scheduled in the past.

The random conversations must also get somewhere: across a run they reach every part of the
journey (the letter, Meta's code, the waiting, the escalation, the end).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from bot.ics import calendar_file
from bot.renderer import NOTICE_MAX, TEMPLATES_DIR, Renderer
from conversations import answers, events, machine, steps, timekeeping
from conversations.case import Case, Reason, Step
from conversations.effects import (
    MESSAGE_KINDS,
    Cancel,
    Effect,
    Notice,
    Say,
    Schedule,
    SendCalendar,
    SendLetter,
)
from conversations.events import Command, Event, Media, Press, Reminder, Text
from conversations.knowledge import Knowledge, Platform
from conversations.table import QUESTION_STEPS, TABLE
from tests.support import START
from tests.support.journey import JOURNEY, TO_CODE, TO_ESCALATION, TO_WAITING

#: Random conversations per run (about 15 s on a 2-core machine).
EXAMPLES = 1000
EFFECT = TypeAdapter(Effect)
CHAT_TEMPLATES = TEMPLATES_DIR / "chat"
CALLBACK_DATA_MAX_BYTES = 64

KNOWN_COMMANDS = [
    "start",
    "status",
    "cancel",
    "language",
    "timezone",
    "help",
    "privacy",
    "delete",
    "mydata",
]
#: Answers that move a conversation along (and a few that look like they might).
USEFUL_TEXTS = [
    "Germany",
    "germany",
    "DE",
    "Deutschland",
    "Österreich",
    "Switzerland",
    "UK",
    "Brazil",
    "Japan",
    "South Korea",
    "USA",
    "India",
    "Atlantis",
    "Germny",
    "a@b.example",
    "person@example.org",
    "not an address",
    "a@b.com\r\nBcc: x@y.z",
    "done",
    "skip",
    "Both",
    "Facebook",
    "Yes, linked in one Accounts Center",
    "Children appear in my photos",
    "I photograph my kids and do not want them in an AI model.",
    "<b>not bold</b> {{ 7*7 }} {% if x %}&amp; ' \" ; DROP TABLE cases;--",
    "x" * 1501,
    "I \u202eobject\u202c",
    "Bayern",
    "BY",
    "Berlin",
    "Europe/Berlin",
    "UTC",
    "America/New_York",
    "Meta confirmed my objection on 1 December.",
    "",
    "   ",
]
#: Good (and nearly good) answers to the question being asked.
STEP_TEXTS = {
    Step.COUNTRY: ["Germany", "DE", "Österreich", "Brazil", "UK", "Japan", "USA", "Atlantis"],
    Step.EMAIL: ["person@example.org", "a@b.example", "ü@ä.de", "not an address"],
    Step.OWN_WORDS: [
        "I photograph my kids and do not want them in an AI model.",
        "<b>not bold</b> {{ 7*7 }} {% if x %}&amp; ' \" ; DROP TABLE cases;--",
        "x" * 1501,
    ],
    Step.REGION: ["Bayern", "BY", "Berlin", "Narnia"],
    Step.TIMEZONE: ["Europe/Berlin", "UTC", "America/New_York", "Mars/Olympus"],
    Step.PROOF: ["Meta confirmed my objection on 1 December.", "I \u202eobject"],
}
ANSWER_PROMPTS = {
    Step.PLATFORMS: ("press", {"platforms", "linked_accounts"}),
    Step.LINKED: ("press", {"linked_accounts"}),
    Step.COUNTRY: ("both", {"country"}),
    Step.EMAIL: ("text", {"email"}),
    Step.REASONS: ("press", {"reasons"}),
    Step.OWN_WORDS: ("both", {"own_words"}),
}
REMINDER_KEYS = [
    timekeeping.TICK,
    timekeeping.CODE_EXPIRED,
    f"{timekeeping.CODE_LEFT}:30",
    f"{timekeeping.CODE_LEFT}:10",
    f"{timekeeping.CODE_LEFT}:5",
    timekeeping.CHECKIN,
    timekeeping.AUTHORITY,
]
OWNERS = [s.value for s in Step] + ["command", "delete"]

#: How often each kind of event is drawn: mostly what a person would do, then the odd things.
KINDS = [
    *["button"] * 10,
    *["useful_text"] * 4,
    *["due_reminder"] * 3,
    *["command"] * 2,
    "unknown_command",
    "random_text",
    "random_press",
    "forged_press",
    "media",
    "random_reminder",
    "edited",
]
#: An edited message (newer brains have it as an event of its own; it is never an answer).
EDITED = getattr(events, "Edited", None)

any_text = st.one_of(
    st.text(max_size=60),
    st.text(st.characters(exclude_categories=()), max_size=300),  # surrogates too
    st.sampled_from(["\x00", "\x1b[2J", "\u202e", "\u200b", "\r\n", "{{ 7*7 }}", "<b>"]),
)
languages = st.sampled_from([None, "en", "de", "de-AT", "EN-gb", "fr", "", "xx-YY"])
pauses = st.one_of(
    st.integers(0, 90),  # seconds
    st.integers(0, 3600),  # minutes
    st.integers(0, 5 * 86_400),  # days
    st.just(40 * 86_400),  # past the legal deadline
)


#: How far a random conversation may begin into the journey: the journey script, so far.
HEAD_STARTS = {
    "letter": JOURNEY,
    "code": TO_CODE,
    "waiting": TO_WAITING,
    "escalated": TO_ESCALATION,
}
DEPTHS = ["new", "new", "new", *HEAD_STARTS]


def head_start(country: str, depth: str) -> list[Event]:
    """A valid start (the journey script, in ``country``), so that random conversations also
    begin deep in the journey."""
    return HEAD_STARTS[depth].but(country=country).events() if depth in HEAD_STARTS else []


COUNTRIES = ["DE", "AT", "FR", "GB", "CH", "BR", "JP", "KR", "US", "IN", "AU", "NO"]


def shown_buttons(says: list[Any]) -> list[str]:
    return [
        b.data
        for say in says
        if isinstance(say, Say)
        for row in say.buttons
        for b in row
        if b.data is not None
    ]


def draw_event(
    data: st.DataObject,
    case: Case,
    k: Knowledge,
    last_effects: list[Any],
    scheduled: dict[str, datetime],
    now: datetime,
) -> tuple[Event, datetime]:
    """One event for the case as it is, and the clock when it happens."""
    kind = data.draw(st.sampled_from(KINDS), label="kind")
    language = data.draw(languages, label="client_language")
    now = now + timedelta(seconds=data.draw(pauses, label="pause"))
    if kind == "button":
        buttons = shown_buttons([*steps.ask(case, k), *last_effects])
        if buttons:
            return Press(data=data.draw(st.sampled_from(buttons)), client_language=language), now
        kind = "useful_text"
    if kind == "due_reminder" and scheduled:
        key = data.draw(st.sampled_from(sorted(scheduled)), label="reminder")
        due = scheduled.pop(key)
        return Reminder(key=key, due_at=due), max(now, due)
    if kind in ("due_reminder", "random_reminder"):
        key = data.draw(st.one_of(st.sampled_from(REMINDER_KEYS), st.text(max_size=20)))
        late = timedelta(seconds=data.draw(st.integers(0, 10 * 86_400), label="late"))
        return Reminder(key=key, due_at=now - late), now
    if kind == "useful_text":
        texts = STEP_TEXTS.get(case.step, USEFUL_TEXTS)
        texts = data.draw(st.sampled_from([texts, texts, USEFUL_TEXTS]), label="texts")
        return Text(text=data.draw(st.sampled_from(texts)), client_language=language), now
    if kind == "random_text":
        return Text(text=data.draw(any_text, label="text"), client_language=language), now
    if kind == "command":
        name = data.draw(st.sampled_from(KNOWN_COMMANDS), label="command")
        name = data.draw(st.sampled_from([name, name.upper(), name.title()]))
        args = data.draw(st.one_of(st.just(""), any_text), label="args")
        return Command(name=name, args=args, client_language=language), now
    if kind == "unknown_command":
        return Command(name=data.draw(any_text, label="command"), client_language=language), now
    if kind == "forged_press":
        owner = data.draw(st.sampled_from(OWNERS), label="owner")
        value = data.draw(
            st.one_of(
                st.sampled_from(
                    ["yes", "no", "done", "skip", "start_over", "start_over_yes", "delete", "DE"]
                ),
                st.sampled_from(["de", "De", "fr", "us", "XK", "ZZ", "DE-BY", "UTC", "Europe"]),
                st.sampled_from([r.value for r in Reason]),
                any_text,
            ),
            label="value",
        )
        return Press(data=f"{owner}:{value}", client_language=language), now
    if kind == "edited" and EDITED is not None:
        return EDITED(client_language=language), now
    if kind == "random_press":
        return Press(data=data.draw(any_text, label="data"), client_language=language), now
    file_id = data.draw(st.one_of(st.none(), st.just(""), st.text(max_size=40)), label="file")
    return Media(file_id=file_id, client_language=language), now


# -- what must hold after every event -------------------------------------------------------


def erases(case: Case, event: Event) -> bool:
    """Inputs that may erase every answer: /delete and its buttons, "Start over"."""
    if isinstance(event, Command):
        return event.name.lower() == "delete"
    if isinstance(event, Press):
        return event.data in ("command:delete", "delete:yes", f"{case.step}:start_over_yes")
    # a typed "yes" answers an open "Erase everything?"
    return case.erase_asked and isinstance(event, Text) and answers.meaning(event.text) == "yes"


def answers_this_question(case: Case, event: Event) -> set[str]:
    """The answers this event may change: those of the question being asked, if it answers it."""
    if case.step not in ANSWER_PROMPTS:
        return set()
    how, fields = ANSWER_PROMPTS[case.step]
    if isinstance(event, Text) and how in ("text", "both"):
        return fields
    if isinstance(event, Text):
        return fields  # a typed label or short answer ("Both", "nein") is the button it names
    if isinstance(event, Press) and how in ("press", "both"):
        return fields if event.data.startswith(f"{case.step}:") else set()
    return set()


def check_answers_kept(before: Case, after: Case, event: Event) -> None:
    old, new = before.answers(), after.answers()
    changed = {name for name in old if old[name] != new[name]}
    if not changed:
        return
    if erases(before, event):
        assert not any(new.values()), f"erasing kept {new}"
        return
    allowed = answers_this_question(before, event)
    assert changed <= allowed, (
        f"{sorted(changed - allowed)} changed at {before.step} on {event!r}: {old} -> {new}"
    )


def check_effect(effect: Any, language: str, renderer: Renderer) -> None:
    """What the outbox does with an effect: store it as JSON, read it back, render it."""
    stored = EFFECT.dump_json(effect)
    again = EFFECT.validate_json(stored)
    assert EFFECT.dump_json(again) == stored
    if isinstance(again, Say):
        template = CHAT_TEMPLATES / f"{again.message}.html.j2"
        assert template.is_file(), f"no template {template.name}"
        renderer.message(again, language)  # raises on a missing label or variable
        for row in again.buttons:
            for button in row:
                size = len((button.data or "").encode())
                assert size <= CALLBACK_DATA_MAX_BYTES, f"{button.data!r}: {size} bytes"
    elif isinstance(again, SendLetter):
        renderer.letter(again.case, again.letter)
        renderer.letter_message(renderer.letter(again.case), language, again.letter, again.buttons)
    elif isinstance(again, Notice):
        assert 0 < len(renderer.notice(again, language)) <= NOTICE_MAX
    elif isinstance(again, SendCalendar):
        calendar_file(again.case, renderer)


#: Fixtures are passed around, not given to hypothesis: a failing example then prints only what
#: was drawn (the knowledge data's repr alone is 90 kB).
SETTINGS = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def test_random_conversations_keep_every_promise(knowledge: Knowledge, renderer: Renderer) -> None:
    @settings(SETTINGS, max_examples=EXAMPLES)
    @given(
        data=st.data(),
        length=st.integers(1, 40),
        chat_id=st.integers(1, 2**40),
        start=st.builds(head_start, st.sampled_from(COUNTRIES), st.sampled_from(DEPTHS)),
    )
    def conversation(data: st.DataObject, length: int, chat_id: int, start: list[Event]) -> None:
        visited.update(converse(knowledge, renderer, data, length, chat_id, start))

    visited: Counter[Step] = Counter()
    conversation()
    print("conversations that visited each step:", {str(s): n for s, n in visited.most_common()})
    deep = {Step.LETTER, Step.CODE, Step.WAITING, Step.ESCALATED, Step.PROOF, Step.DONE}
    assert deep <= set(visited), f"never reached {deep - set(visited)}"


def converse(
    knowledge: Knowledge,
    renderer: Renderer,
    data: st.DataObject,
    length: int,
    chat_id: int,
    start: list[Event],
) -> set[Step]:
    """``start`` (a valid head start, maybe empty), then ``length`` random events. Returns the
    steps the conversation visited."""
    case = Case.new(chat_id, START)
    visited = {case.step}
    now = START
    last_effects: list[Any] = []
    scheduled: dict[str, datetime] = {}
    script = list(start)
    for _ in range(len(start) + length):
        if script:
            event, now = script.pop(0), now + timedelta(seconds=30)
        else:
            event, now = draw_event(data, case, knowledge, last_effects, scheduled, now)
        after, effects = machine.step(case, event, now, knowledge)
        assert after.step in TABLE
        assert after.chat_id == case.chat_id
        assert after.resume_step is None or after.resume_step in QUESTION_STEPS
        check_answers_kept(case, after, event)
        for effect in effects:
            check_effect(effect, after.language or "en", renderer)
            if isinstance(effect, Schedule):
                assert effect.due_at >= now, f"{effect!r} is in the past ({now})"
                scheduled[effect.key] = effect.due_at
            elif isinstance(effect, Cancel):
                for key in effect.keys:
                    scheduled.pop(key, None)
        if event.kind == "edited":
            # (only the language may be set: the first event of all sets it)
            unchanged = after.model_copy(update={"language": case.language or None})
            assert unchanged == case, "an edited message changed the case"
        elif not isinstance(event, Reminder):
            answered = [e for e in effects if e.kind in (*MESSAGE_KINDS, "notice")]
            assert answered, f"{event!r} got no answer"
        if after.step is Step.NEW and case.step is not Step.NEW:
            scheduled.clear()  # erased: the storage drops the reminders with the case
        case, last_effects = after, effects
        visited.add(case.step)
    return visited


def test_any_text_or_junk_data_at_any_step_is_answered_and_changes_no_other_answer(
    knowledge: Knowledge, renderer: Renderer
) -> None:
    """A person who has answered everything, put at each step, sends junk."""

    @settings(SETTINGS, max_examples=300)
    @given(
        step=st.sampled_from(sorted(QUESTION_STEPS | {Step.NEW})),
        text=any_text,
        data=st.sampled_from(["", ":", "x" * 65, "command:", "delete:", "\ud800:yes"]),
    )
    def junk(step: Step, text: str, data: str) -> None:
        send_junk(knowledge, renderer, step, text, data)

    junk()


def send_junk(knowledge: Knowledge, renderer: Renderer, step: Step, text: str, data: str) -> None:
    full = Case.new(1, START).model_copy(
        update={
            "step": step,
            "language": "en",
            "platforms": (Platform.FACEBOOK, Platform.INSTAGRAM),
            "linked_accounts": True,
            "country": "DE",
            "email": "person@example.org",
            "reasons": (Reason.CHILDREN,),
            "own_words": "My words.",
            "reasons_done": True,
            "letter_written_at": START,
            "form_submitted_at": START,
            "timezone": "Europe/Berlin",
        }
    )
    for event in (Text(text=text), Press(data=data), Press(data=text), Media()):
        after, effects = machine.step(full, event, START, knowledge)
        check_answers_kept(full, after, event)
        assert any(e.kind in (*MESSAGE_KINDS, "notice") for e in effects)
        for effect in effects:
            check_effect(effect, "en", renderer)


# -- bugs these properties found, now fixed; kept as regression tests -------------


def _at(step: Step, **answers: Any) -> Case:
    return Case.new(1, START).model_copy(update={"step": step, "language": "en", **answers})


@pytest.mark.parametrize("typed", ["Canada", "US", "Europe", "America/Indiana"])
def test_a_zone_directory_typed_at_the_time_zone_question_is_rejected(
    knowledge: Knowledge, typed: str
) -> None:
    case = _at(Step.TIMEZONE, country="CA", resume_step=Step.LETTER)
    after, effects = machine.step(case, Text(text=typed), START, knowledge)
    assert after == case
    assert next(e.message for e in effects if isinstance(e, Say)) == "timezone_unknown"


def test_forged_lower_case_country_data_is_rejected_or_normalised(knowledge: Knowledge) -> None:
    after, _ = machine.step(_at(Step.COUNTRY), Press(data="country:de"), START, knowledge)
    assert after.country in (None, "DE")


def test_the_template_directory_is_where_the_renderer_reads(renderer: Renderer) -> None:
    assert Path(renderer.templates_dir) / "chat" == CHAT_TEMPLATES
    assert (CHAT_TEMPLATES / "ask_country.html.j2").is_file()
