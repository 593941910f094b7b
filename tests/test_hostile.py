"""Hostile input through the whole Telegram path: a corpus of 1,400+ nasty inputs, at eight steps.

The corpus (``tests/fixtures/hostile_inputs.json``, written by ``make_hostile_corpus.py``) is sent
as real ``Update`` objects through python-telegram-bot, the inbox, the brain, SQLite, the outbox,
the renderer and the Bot API request layer, to a person standing at an interesting step. After
every input:

- nothing crashed: no update reached the application's error handler, and the outbox logged no
  failed delivery;
- nothing was evaluated: a template expression never shows up computed (``{{ 7*7 }}`` -> ``49``);
- nothing was unescaped: every message is HTML that Telegram accepts (only its tags, every ``<``,
  ``>`` and ``&`` of the text escaped, at most 4,096 characters), and a person's markup never
  appears raw;
- nothing was lost: the answers stored before are still there, unless the input erased them on
  purpose (/delete, "Start over") or was a valid new answer to the question being asked;
- every input got a reply; edited messages may be ignored or answered, but change nothing.

After each input the person is put back exactly where they were (the stored case is restored), so
every input meets the same situation.
"""

from __future__ import annotations

import html
import json
import logging
import re
import runpy
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape

from conversations.case import Case, Step
from tests.support.journey import JOURNEY, TO_CODE, TO_PROOF, TO_WAITING, Script, typed
from tests.support.running import RunningBot, running_bot
from tests.support.telegram import Call, TelegramClient

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS_FILE = FIXTURES / "hostile_inputs.json"
CORPUS: list[dict[str, Any]] = json.loads(CORPUS_FILE.read_text(encoding="ascii"))["inputs"]

#: What Telegram's HTML parse mode understands (https://core.telegram.org/bots/api#html-style).
TELEGRAM_TAGS = frozenset(
    {
        *("b", "strong", "i", "em", "u", "ins", "s", "strike", "del"),
        *("code", "pre", "a", "tg-spoiler", "span", "blockquote", "tg-emoji"),
    }
)
TELEGRAM_TEXT_MAX = 4096
CALLBACK_DATA_MAX_BYTES = 64
REPLY_METHODS = ("sendMessage", "editMessageText", "sendDocument")
#: Telegram knows only these named entities.
NAMED_ENTITIES = frozenset({"lt", "gt", "amp", "quot"})

#: The answers a step asks for: a valid input there may change these (and only these).
ASKED = {
    Step.COUNTRY: {"country"},
    Step.EMAIL: {"email"},
    Step.OWN_WORDS: {"own_words"},
    Step.LETTER: set(),
    Step.CODE: set(),
    Step.WAITING: set(),
    Step.TIMEZONE: set(),
    Step.PROOF: set(),
}


# -- Telegram's HTML, checked strictly -------------------------------------------------------


class TelegramHTML(HTMLParser):
    """Collects what Telegram would reject in a message sent with ``parse_mode=HTML``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.problems: list[str] = []
        self.stack: list[str] = []
        self.plain: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TELEGRAM_TAGS:
            self.problems.append(f"tag <{tag}>")
        if tag == "a" and not dict(attrs).get("href"):
            self.problems.append("<a> without href")
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.problems.append(f"self-closing <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"unbalanced </{tag}>")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        for char in "<>&":
            if char in data:
                self.problems.append(f"unescaped {char!r}")
        self.plain.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in NAMED_ENTITIES:
            self.problems.append(f"entity &{name};")
        self.plain.append(html.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.plain.append(html.unescape(f"&#{name};"))

    def handle_comment(self, data: str) -> None:
        self.problems.append("comment")

    def handle_decl(self, decl: str) -> None:
        self.problems.append("declaration")

    def handle_pi(self, data: str) -> None:
        self.problems.append("processing instruction")

    def unknown_decl(self, data: str) -> None:
        self.problems.append("unknown declaration")


def telegram_html_problems(text: str) -> list[str]:
    parser = TelegramHTML()
    parser.feed(text)
    parser.close()
    problems = parser.problems + [f"unclosed <{tag}>" for tag in parser.stack]
    if parser.rawdata:
        problems.append("unparsed tail")
    plain = "".join(parser.plain)
    if not plain.strip():
        problems.append("empty text")
    if len(plain.encode("utf-16-le")) // 2 > TELEGRAM_TEXT_MAX:
        problems.append(f"{len(plain)} characters (Telegram takes {TELEGRAM_TEXT_MAX})")
    return problems


def markup_problems(params: dict[str, Any]) -> list[str]:
    markup = params.get("reply_markup")
    if isinstance(markup, str):
        markup = json.loads(markup)
    problems = []
    for row in (markup or {}).get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and len(data.encode()) > CALLBACK_DATA_MAX_BYTES:
                problems.append(f"callback data of {len(data.encode())} bytes")
    return problems


# -- driving the bot ------------------------------------------------------------------------


async def send_entry(client: TelegramClient, entry: dict[str, Any]) -> None:
    kind, value = entry["kind"], entry["value"]
    if kind in ("text", "command"):
        await client.send(value)
    elif kind in ("press", "forged_press"):
        await client.press(value)
    elif kind == "media":
        await client.send_raw(**value)
    elif kind == "edited":
        await client.send_edited(value)
    else:  # pragma: no cover - the corpus is checked below
        raise AssertionError(f"unknown kind {kind!r}")


#: How the person gets to each step the corpus is sent at: the journey script, so far.
WALKS: dict[Step, Script] = {
    Step.COUNTRY: JOURNEY.until("country"),
    Step.EMAIL: JOURNEY.until("email"),
    Step.OWN_WORDS: JOURNEY.until("own_words"),
    Step.LETTER: JOURNEY,
    Step.CODE: TO_CODE,
    Step.WAITING: TO_WAITING,
    Step.TIMEZONE: JOURNEY.then(typed("timezone", "/timezone")),
    Step.PROOF: TO_PROOF,
}


# -- judging one input ----------------------------------------------------------------------


def _command_name(text: str) -> str | None:
    if not text.startswith("/"):
        return None
    return text[1:].partition(" ")[0].split("@", 1)[0].lower()


def erases_everything(entry: dict[str, Any]) -> bool:
    """/delete (any case, with arguments), the "Erase everything" button, or "Yes, erase" on
    the confirmation: inputs that may erase the case (or ask first)."""
    kind, value = entry["kind"], entry["value"]
    if kind in ("text", "command"):
        return _command_name(value) == "delete"
    return kind in ("press", "forged_press") and value in ("command:delete", "delete:yes")


def starts_over(entry: dict[str, Any], step: Step) -> bool:
    return entry["kind"] in ("press", "forged_press") and entry["value"] == f"{step}:start_over"


BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def hidden_characters(text: str) -> bool:
    """Controls (but line breaks and tabs), surrogates, private use and bidi overrides."""
    return any(
        c in BIDI or (c not in "\n\r\t" and unicodedata.category(c) in ("Cc", "Cs", "Co"))
        for c in text
    )


def _without_echo(reply: str, value: str) -> str:
    for echo in sorted({value, value.strip()}, key=len, reverse=True):
        if echo:
            reply = reply.replace(str(escape(echo)), "").replace(echo, "")
    return reply


def evaluated_markers(entry: dict[str, Any], replies: list[str]) -> list[str]:
    """Strings that only an evaluated template (or shell, or format string) could have printed."""
    value = entry["value"] if isinstance(entry["value"], str) else ""
    found = []
    for marker in entry.get("forbid", []):
        if marker in value:
            continue
        for reply in replies:
            rest = _without_echo(reply, value)
            hit = re.search(r"(?<![\d:+])49(?!\d)", rest) if marker == "49" else marker in rest
            if hit:
                found.append(marker)
    return found


#: A value that is just one tag Telegram allows (the bot's own messages contain those too).
_ONE_ALLOWED_TAG = re.compile(rf"</?({'|'.join(sorted(TELEGRAM_TAGS))})(\s[^<>]*)?>")


def raw_markup(entry: dict[str, Any], replies: list[str]) -> list[str]:
    """A person's markup that reached a message unescaped."""
    value = entry["value"] if isinstance(entry["value"], str) else ""
    found = []
    for reply in replies:
        if "<script" in reply.lower():
            found.append("<script> in a message")
        typed = value.strip()
        if (
            "<" in typed
            and len(typed) >= 5
            and not _ONE_ALLOWED_TAG.fullmatch(typed)
            and typed in reply
        ):
            found.append(f"typed markup verbatim: {typed[:40]!r}")
    return found


def lost_answers(step: Step, entry: dict[str, Any], before: Case, after: Case | None) -> list[str]:
    if after is None:
        return [] if erases_everything(entry) else ["the case vanished"]
    old, new = before.answers(), after.answers()
    if erases_everything(entry) and new != old:
        return ["/delete left answers behind"] if any(new.values()) else []
    if starts_over(entry, step) and new != old:
        return [] if not any(new.values()) else [f"start over kept {_changed(old, new)}"]
    changed = _changed(old, new) - ASKED[step]
    return [f"{name} changed at {step}" for name in sorted(changed)]


def _changed(old: dict[str, object], new: dict[str, object]) -> set[str]:
    return {name for name in old if old[name] != new[name]}


def bad_new_answer(entry: dict[str, Any], before: Case, after: Case) -> list[str]:
    """A changed answer must be a clean value: an ISO code, a safe address, the words as typed."""
    problems = []
    country, email = after.country, after.email
    if country not in (before.country, None) and not re.fullmatch(r"[A-Z]{2}", country):
        problems.append(f"country stored as {country!r}")
    if email not in (before.email, None) and (
        hidden_characters(email) or any(c.isspace() for c in email)
    ):
        problems.append(f"e-mail stored as {email!r}")
    if after.own_words != before.own_words and after.own_words is not None:
        if entry["kind"] in ("text", "command") and after.own_words != entry["value"].strip():
            problems.append("own words not stored as typed")
        if hidden_characters(after.own_words):
            problems.append("own words kept hidden characters")
    return problems


def letter_shows_words(words: str, calls: list[Call]) -> list[str]:
    """The new own words, escaped in the chat message and verbatim in the .txt document."""
    problems = []
    documents = [c.content for c in calls if c.method == "sendDocument"]
    if not any(words in d for d in documents):
        problems.append("own words not verbatim in the document")
    letters = [c.text for c in calls if c.method == "sendMessage" and c.template == "letter"]
    fits = [t for t in letters if "too long for one chat message" not in t]
    if not letters or (fits and not any(str(escape(words)) in t for t in fits)):
        problems.append("own words not escaped in the letter message")
    return problems


# -- the run --------------------------------------------------------------------------------


@dataclass
class Tally:
    step: Step
    tried: int = 0
    replies: int = 0
    ignored: int = 0  # edited messages deliberately left unanswered
    edited_answered: int = 0  # edited messages answered ("edits are not read"), case unchanged
    accepted: int = 0  # valid answers, moves, erasures: the person was put back afterwards
    crashes: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    losses: list[str] = field(default_factory=list)
    silent: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def figures(self) -> str:
        return (
            f"{self.step}: {self.tried} inputs, {self.replies} answered, edited messages: "
            f"{self.edited_answered} answered, {self.ignored} ignored; "
            f"{self.accepted} accepted, {len(self.crashes)} crashes, {len(self.leaks)} leaks, "
            f"{len(self.losses)} losses, {len(self.silent)} unanswered, {self.seconds:.1f}s"
        )


def _label(i: int, entry: dict[str, Any]) -> str:
    value = entry["value"]
    shown = repr(value if isinstance(value, str) else json.dumps(value))
    return f"#{i} {entry['kind']} ({entry['why']}) {shown[:70]}"


def _message_texts(calls: list[Call], chat_id: int) -> list[str]:
    return [
        c.text
        for c in calls
        if c.method in ("sendMessage", "editMessageText") and c.chat_id == chat_id
    ]


def _check_messages(calls: list[Call], where: str) -> list[str]:
    problems = []
    for call in calls:
        if call.method in ("sendMessage", "editMessageText"):
            problems += telegram_html_problems(call.params["text"])
            problems += markup_problems(call.params)
    return [f"{where}: {p}" for p in dict.fromkeys(problems)]


async def run_corpus(step: Step, db_path: Path, caplog: pytest.LogCaptureFixture) -> Tally:  # noqa: C901 - one pass: each input, then every check on what it did
    tally = Tally(step)
    started = time.perf_counter()
    # no flood guard: it would (rightly) drop a person's 1,400 inputs in a second
    async with running_bot(db_path, input_burst=10**9) as bot:
        storage, api, errors = bot.storage, bot.api, bot.errors
        client = bot.client(chat_id=6_100_000 + list(WALKS).index(step))
        chat = client.chat_id
        await client.walk(WALKS[step])
        snapshot = await storage.load(chat)
        assert snapshot is not None and snapshot.step is step, "the walk did not get there"
        assert not errors, f"the walk itself failed: {errors!r}"
        tally.leaks += _check_messages(api.calls, "the walk")
        for i, entry in enumerate(CORPUS):
            where = _label(i, entry)
            calls_before, errors_before = len(api.calls), len(errors)
            records_before = len(caplog.records)
            await send_entry(client, entry)
            calls = api.calls[calls_before:]
            texts = _message_texts(calls, chat)
            tally.tried += 1

            new_errors = errors[errors_before:]
            for error in new_errors:
                tally.crashes.append(f"{where}: {type(error).__name__}: {error}")
            for record in caplog.records[records_before:]:
                if record.levelno < logging.WARNING:
                    continue
                message = record.getMessage()
                explained = message.startswith("update failed") and new_errors
                if not explained:
                    tally.crashes.append(f"{where}: logged {record.name}: {message}")

            tally.leaks += _check_messages(calls, where)
            tally.leaks += [
                f"{where}: evaluated, shows {m!r}" for m in evaluated_markers(entry, texts)
            ]
            tally.leaks += [f"{where}: {m}" for m in raw_markup(entry, texts)]

            after = await storage.load(chat)
            # a tap on a button of no open question is answered on the button itself
            answered = any(c.method in REPLY_METHODS for c in calls) or any(
                c.method == "answerCallbackQuery" and c.text for c in calls
            )
            if entry["kind"] == "edited":  # may be ignored, or answered; never an answer
                if after != snapshot:
                    tally.losses.append(f"{where}: an edited message changed the case")
                tally.edited_answered += answered
                tally.ignored += not answered
            elif answered:
                tally.replies += 1
            else:
                tally.silent.append(where)
            tally.losses += [f"{where}: {m}" for m in lost_answers(step, entry, snapshot, after)]
            if after is not None:
                tally.losses += [f"{where}: {m}" for m in bad_new_answer(entry, snapshot, after)]
                if after.own_words != snapshot.own_words and after.own_words:
                    tally.leaks += [
                        f"{where}: {m}" for m in letter_shows_words(after.own_words, calls)
                    ]
            if after != snapshot:
                tally.accepted += 1
                await storage.commit(snapshot, [])  # put the person back where they were
        if await storage.pending(chat):
            tally.crashes.append("messages left undelivered in the outbox")
    tally.seconds = time.perf_counter() - started
    return tally


@pytest.mark.parametrize("step", list(WALKS), ids=str)
async def test_the_hostile_corpus_changes_nothing_it_should_not(
    step: Step,
    db_path: Path,
    caplog: pytest.LogCaptureFixture,
    record_property: Callable[[str, object], None],
) -> None:
    caplog.set_level(logging.WARNING)
    tally = await run_corpus(step, db_path, caplog)
    print(tally.figures())
    for name in ("tried", "replies", "edited_answered", "ignored", "accepted", "seconds"):
        record_property(name, getattr(tally, name))
    for name in ("crashes", "leaks", "losses", "silent"):
        record_property(name, len(getattr(tally, name)))
    assert tally.tried == len(CORPUS)
    assert not tally.crashes, "\n".join(tally.crashes[:20])
    assert not tally.leaks, "\n".join(tally.leaks[:20])
    assert not tally.losses, "\n".join(tally.losses[:20])
    assert not tally.silent, "\n".join(tally.silent[:20])


# -- the corpus itself ----------------------------------------------------------------------


def test_the_corpus_is_big_varied_and_exactly_what_the_generator_writes() -> None:
    generator = runpy.run_path(str(FIXTURES / "make_hostile_corpus.py"))
    expected = generator["dump"](generator["build"]())
    assert CORPUS_FILE.read_text(encoding="ascii") == expected, "run make_hostile_corpus.py"
    assert len(CORPUS) >= 1000
    assert CORPUS_FILE.stat().st_size < 2_000_000
    kinds = {e["kind"] for e in CORPUS}
    assert kinds == {"text", "command", "press", "forged_press", "edited", "media"}
    lengths = [len(e["value"]) for e in CORPUS if isinstance(e["value"], str)]
    assert max(lengths) > 10_000 and 4096 in lengths


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        ('<b>Fine</b> &amp; &lt;escaped&gt; <a href="https://x.example">link</a>', None),
        ("<script>alert(1)</script>", "tag <script>"),
        ("Terms & conditions", "unescaped '&'"),
        ("1 < 2", "unescaped '<'"),
        ("<b>open", "unclosed <b>"),
        ("<i><b>x</i></b>", "unbalanced </i>"),
        ("&nbsp;x", "entity &nbsp;"),
        ("<a>no link</a>", "<a> without href"),
        ("x" * 4097, "4097 characters (Telegram takes 4096)"),
    ],
)
def test_the_html_check_rejects_what_telegram_rejects(message: str, problem: str | None) -> None:
    problems = telegram_html_problems(message)
    assert (problem in problems) if problem else not problems


def test_the_evaluation_check_tells_an_echo_from_a_result() -> None:
    entry = {"kind": "text", "value": "I object {{ 7*7 }}", "why": "", "forbid": ["49"]}
    assert evaluated_markers(entry, ["Your words: I object 49"]) == ["49"]
    assert not evaluated_markers(entry, ["Your words: <code>I object {{ 7*7 }}</code>"])
    assert not evaluated_markers(entry, ["Next check-in: 10:49 (Europe/Berlin)"])


# -- bugs this corpus found, now fixed; kept as regression tests --------------------


@pytest.mark.parametrize("zone", ["Canada", "Europe"])
async def test_a_time_zone_directory_name_is_rejected_kindly(
    zone: str, bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    """Asked for a time zone, people type their country; several are zone *directories*."""
    caplog.set_level(logging.WARNING)
    client = bot.client()
    await client.walk(WALKS[Step.TIMEZONE])
    assert await client.send(zone) == ["timezone_unknown", "ask_timezone"]
    assert not bot.errors, f"update failed: {bot.errors!r}"
    case = await bot.case(client.chat_id)
    assert case is not None and case.step is Step.TIMEZONE


async def test_forged_lower_case_country_data_is_not_stored_as_is(bot: RunningBot) -> None:
    """Button data "country:de" (forged: the buttons say "DE") must not make a German a person
    from nowhere: stored as "de", no jurisdiction matches and the "rest of the world" applies."""
    client = bot.client()
    await client.walk(WALKS[Step.COUNTRY])
    await client.press("country:de")
    case = await bot.case(client.chat_id)
    assert case is not None
    assert case.country in (None, "DE")
