"""The command line: ``run``, ``console``, ``letter``, ``diagram``, ``rotate-key``, ``backup``,
``check-links``.

The services behind every transport are built by ``bot.assembly``; this module picks the
transport and runs it.

``optout-bot`` (or ``python -m bot``) with no subcommand runs Telegram when a token is set and
the console chat otherwise, so a fresh checkout always does something useful.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import logging
import os
import signal
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from telegram.error import InvalidToken
from telegram.ext import Application

from bot.admin import Admin, ErrorReports, admin_templates
from bot.assembly import Delivery, KnowledgeProblem, Services, assemble, effective_knowledge
from bot.console import (
    ConsoleTransport,
    ConsoleVoice,
    Unthrottled,
    run_console,
    terminal_language,
)
from bot.inbox import Inbox
from bot.ingress import Ingress, retrying
from bot.keys import KeyProblem, Sealer, new_key, write_key
from bot.links import check_all, report, urls_in
from bot.logs import configure_logging
from bot.renderer import TEMPLATES_DIR, Renderer
from bot.settings import Settings, describe_error, sealer_for
from bot.storage import NewerDatabase, Storage, backup
from bot.telegram_adapter import (
    TelegramTransport,
    build_application,
    install_handlers,
    set_command_menus,
)
from bot.web import HttpServer, Webhook, operator_app
from conversations import (
    LANGUAGES,
    Case,
    Knowledge,
    LetterKind,
    Platform,
    Reason,
    Rejected,
    Step,
    authority_report_due,
    checked_email,
    checked_own_words,
    code_validity,
    country_name,
    deadline,
    default_zone,
    is_country,
    mermaid,
    resolve_country,
    subdivision_names,
)

log = logging.getLogger("bot")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as error:
        print(f"optout-bot: invalid configuration\n{describe_error(error)}", file=sys.stderr)
        return 2
    command = args.command or ("run" if settings.telegram_token else "console")
    # In the console the log would interleave with the conversation: quiet unless asked for.
    quiet = (
        command in ("console", "letter", "diagram") and "log_level" not in settings.model_fields_set
    )
    configure_logging("WARNING" if quiet else settings.log_level)
    try:
        return _command(command, args, settings)
    except (KeyProblem, NewerDatabase, KnowledgeProblem) as problem:
        print(f"optout-bot: {problem}", file=sys.stderr)
        return 2


def _command(command: str, args: argparse.Namespace, settings: Settings) -> int:
    if command == "rotate-key":
        return asyncio.run(_rotate_key(settings))
    if command == "backup":
        return _backup(settings, args.path)
    if command == "check-links":
        return _check_links(settings, args.match)
    if command == "letter":
        return _letter(args, settings)
    if command == "diagram":
        sys.stdout.write(mermaid())
        return 0
    if command == "run":
        if settings.telegram_token is None:
            print(
                "optout-bot: OPTOUT_TELEGRAM_TOKEN is not set (try `optout-bot console`)",
                file=sys.stderr,
            )
            return 2
        return _run_telegram(settings)
    if command == "console":
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C before the console listens
            asyncio.run(_console(settings))
        return 0
    return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="optout-bot",
        description="Helps people object to Meta using their posts for AI training. "
        "Without a subcommand: Telegram if OPTOUT_TELEGRAM_TOKEN is set, else the console chat.",
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the Telegram bot (long polling)")
    sub.add_parser("console", help="the same journey in this terminal, without Telegram")
    sub.add_parser("diagram", help="print the conversation diagram (Mermaid) for the README")
    sub.add_parser("rotate-key", help="re-encrypt stored data under a new key (key file only)")
    backup_parser = sub.add_parser(
        "backup",
        help="copy the database to PATH while the bot runs (the key is not in it)",
        description="A consistent online copy of the database (SQLite's VACUUM INTO), checked "
        "before it is put at PATH; an existing file is never replaced. Cases stay encrypted: "
        "back up the key file (or OPTOUT_ENCRYPTION_KEY) separately, somewhere else.",
    )
    backup_parser.add_argument("path", type=Path, help="the new file to write")
    links = sub.add_parser(
        "check-links",
        help="request every URL in the knowledge data (with the override) and report",
        description="HEAD (or GET) every http(s) address in the effective knowledge data, "
        "following redirects: ok, moved (and where to), broken, unreachable. Exit code 1 "
        "when any is broken or unreachable.",
    )
    links.add_argument("--match", default="", help="only addresses containing this text")
    letter = sub.add_parser(
        "letter",
        help="print a text the bot writes (objection, form text, follow-up, complaint)",
        description="Print a text exactly as the chat writes it, for reviewers and translators. "
        "A follow-up or complaint comes with a sample timeline dated relative to now.",
        epilog=_letter_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    letter.add_argument(
        "--kind", choices=list(LETTER_KINDS), default="objection", help="which text (see below)"
    )
    letter.add_argument(
        "--form-text",
        dest="kind",
        action="store_const",
        const="form-text",
        help="the same as --kind form-text",
    )
    letter.add_argument("--country", required=True, help="ISO 3166-1 alpha-2 code, e.g. DE")
    where = letter.add_mutually_exclusive_group()
    where.add_argument(
        "--region",
        metavar="CODE",
        help="ISO 3166-2 region, e.g. DE-BY (a German state decides the competent authority)",
    )
    where.add_argument("--state", metavar="CODE", help="a US state: US-CA or just CA")
    letter.add_argument(
        "--platform",
        required=True,
        action="append",
        choices=[p.value for p in Platform],
        help="facebook or instagram (repeat for both)",
    )
    letter.add_argument(
        "--reason",
        action="append",
        default=[],
        choices=[r.value for r in Reason],
        metavar="ARCHETYPE",
        help="a particular situation (repeatable): %(choices)s",
    )
    letter.add_argument("--text", default=None, help="the person's own words")
    letter.add_argument("--email", required=True, help="the account e-mail address")
    letter.add_argument("--lang", default="en", choices=list(LANGUAGES))
    letter.add_argument(
        "--refused",
        action="store_true",
        help="sample timeline for a follow-up or complaint: Meta refused "
        "(default: Meta's deadline passed without an answer)",
    )
    return parser


#: What ``letter --kind`` prints, by the name a reviewer asks for: the texts the chat sends.
LETTER_KINDS: dict[str, LetterKind] = {
    "objection": "objection",  # the objection's full text (the .txt document)
    "form-text": "objection",  # ... only what goes into the form's free-text field
    "followup": "followup",
    "complaint": "complaint",
}


def _letter_epilog() -> str:
    return "\n".join(
        [
            "kinds:",
            "  objection   the full objection text (the .txt document the chat sends)",
            "  form-text   only the text for the form's free-text field",
            "  followup    the follow-up to Meta after its deadline passed (or it refused)",
            "  complaint   the complaint to the competent authority",
            "platforms: " + ", ".join(p.value for p in Platform),
            "archetypes (--reason): " + ", ".join(r.value for r in Reason),
        ]
    )


class _BadArgument(Exception):
    """A ``letter`` argument the chat would not accept either: one line on stderr, exit 2."""


def _letter(args: argparse.Namespace, settings: Settings) -> int:
    knowledge = effective_knowledge(settings)
    renderer = Renderer(knowledge)
    now = datetime.now(UTC)
    try:
        case = _letter_case(args, knowledge, renderer, now)
    except _BadArgument as bad:
        print(f"optout-bot: {bad}", file=sys.stderr)
        return 2
    letter = renderer.letter(case, LETTER_KINDS[args.kind])
    sys.stdout.write(letter.form_text if args.kind == "form-text" else letter.full_text)
    return 0


def _letter_case(
    args: argparse.Namespace, knowledge: Knowledge, renderer: Renderer, now: datetime
) -> Case:
    """The case the chat would hold, from the arguments, checked by the chat's own handlers."""
    country = args.country.strip().upper()
    if not is_country(country):
        near = resolve_country(args.country, knowledge)
        codes = (near.code,) if near.code else near.suggestions
        hint = f" (did you mean {' or '.join(codes)}?)" if codes else ""
        raise _BadArgument(f"unknown country code {args.country!r}{hint}")
    case = Case.new(0, now).model_copy(
        update={
            "country": country,
            "region": _region(args, country),
            "platforms": tuple(dict.fromkeys(Platform(p) for p in args.platform)),
            "reasons": tuple(r for r in Reason if r.value in args.reason),
            "language": args.lang,
            "timezone": default_zone(country),
            "letter_written_at": now,
        }
    )
    email = _answer(checked_email, args.email, "--email", case, renderer)
    case = case.model_copy(update={"email": email})
    if args.text is not None:
        # Where the chat would first ask "use these words?" (a one-word answer), --text is the yes.
        own_words = _answer(checked_own_words, args.text, "--text", case, renderer)
        case = case.model_copy(update={"own_words": own_words})
    if args.kind in ("followup", "complaint"):
        case = _sample_timeline(case, knowledge, now, refused=args.refused)
    return case


def _answer(
    check: Callable[[str], str], text: str, option: str, case: Case, renderer: Renderer
) -> str:
    """What the chat makes of ``text`` typed as an answer; its refusal, in one line, if any."""
    try:
        return check(text)
    except Rejected as rejected:
        assert case.language is not None
        refusal = renderer.message(rejected.say, case.language).plain
        raise _BadArgument(f"invalid {option}: {' '.join(refusal.split())}") from None


def _region(args: argparse.Namespace, country: str) -> str | None:
    """``--region DE-BY`` / ``--state CA``: an ISO 3166-2 code of the country, or None."""
    given: str | None = args.region or args.state
    if given is None:
        return None
    option = "--region" if args.region else "--state"
    if option == "--state" and country != "US":
        raise _BadArgument(f"--state is a US state (with --country US); for {country} use --region")
    code = given.strip().upper()
    if "-" not in code:
        code = f"{country}-{code}"
    # ISO 3166-2 codes begin with their country's ISO 3166-1 code
    names = subdivision_names(code)
    if not names:
        raise _BadArgument(f"{option}: {given!r} is not an ISO 3166-2 region code (e.g. DE-BY)")
    if code.split("-", 1)[0] != country:
        where = country_name(country, "en")
        raise _BadArgument(f"{option}: {code} ({names[0]}) is not in {where} ({country})")
    return code


def _sample_timeline(case: Case, knowledge: Knowledge, now: datetime, *, refused: bool) -> Case:
    """The milestones of a person who escalates now, as the chat would have recorded them.

    The form was submitted and Meta's code entered, then either Meta's deadline passed
    unanswered at least a day ago (without a legal period: the check-ins ran out), or Meta
    refused at a check-in halfway through. Periods come from the knowledge data.
    """
    ladder = [timedelta(hours=h) for h in knowledge.schedule.checkin_after_hours] or [timedelta(0)]
    if refused:
        entered = now - ladder[len(ladder) // 2]
    else:
        probe = deadline(case, knowledge, now)
        entered = now - (probe - now if probe else ladder[-1])
        while (due := deadline(case, knowledge, entered)) and due > now - timedelta(days=1):
            entered -= timedelta(days=1)  # calendar months differ in length
    validity = code_validity(case, knowledge)
    submitted = entered - validity / 2 if validity else entered  # entered while it was valid
    return case.model_copy(
        update={
            "step": Step.ESCALATED,
            "letter_written_at": submitted,
            "form_submitted_at": submitted,
            "code_received_at": submitted,
            "code_expires_at": submitted + validity if validity else None,
            "code_entered_at": entered,
            "deadline_at": deadline(case, knowledge, entered),
            "refused_at": now if refused else None,
            "escalated_at": now,
            "authority_report_due_at": authority_report_due(case, knowledge, now),
        }
    )


def _check_links(settings: Settings, match: str) -> int:
    urls = [url for url in urls_in(effective_knowledge(settings)) if match in url]
    results = asyncio.run(check_all(urls))
    sys.stdout.write(report(results))
    return 1 if any(r.verdict in ("broken", "unreachable") for r in results) else 0


def _backup(settings: Settings, path: Path) -> int:
    try:
        made = backup(settings.database_path, path)
    except (FileNotFoundError, FileExistsError, sqlite3.Error) as problem:
        print(f"optout-bot: no backup: {problem}", file=sys.stderr)
        return 2
    key = "OPTOUT_ENCRYPTION_KEY" if settings.encryption_key else str(settings.key_file)
    print(
        f"optout-bot: backed up {made.cases} cases and {made.reminders} reminders to "
        f"{made.path} ({made.size / 1024:.0f} KiB). They are encrypted: keep the key "
        f"({key}) backed up separately, not beside this file."
    )
    return 0


async def _rotate_key(settings: Settings) -> int:
    """New key in ``<key file>.new`` first; re-encrypt everything; then it becomes the key.

    A crash at any point leaves a readable database: until the rename, both keys are loaded.
    """
    if settings.encryption_key is not None:
        print(
            "optout-bot: the key comes from OPTOUT_ENCRYPTION_KEY; rotate it there "
            "(put the new key first, keep the old one after a comma, restart, then remove it)",
            file=sys.stderr,
        )
        return 2
    old = sealer_for(settings)
    pending = settings.key_file.with_name(settings.key_file.name + ".new")
    write_key(pending, new_key())
    storage = await Storage.open(settings.database_path, sealer_for(settings))
    try:
        count = await storage.reseal()
    finally:
        await storage.close()
    pending.replace(settings.key_file)
    print(
        f"optout-bot: re-encrypted {count} rows; the new key is in {settings.key_file} "
        f"(the previous key had {len(old.keys)} part(s) and is no longer needed)"
    )
    return 0


async def _console(settings: Settings) -> None:
    """The console until /quit, end of input, Ctrl-C or SIGTERM; then storage is closed.

    The first signal ends it once the input being handled is done (a step is never cut in
    half); a second one does not wait for that.
    """
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="replace")  # a stray byte is a typo, not the end
    client_language = terminal_language(os.environ)
    transport = ConsoleTransport(documents=settings.database_path.parent / "documents")
    services = await assemble(
        settings, sealer_for(settings), transport, delivery="inline", flood=Unthrottled()
    )
    voice = ConsoleVoice(
        services.renderer, services.storage, settings.console_chat_id, client_language
    )
    # The transport is part of the services, so it learns to speak only once they exist.
    transport.voice = voice
    reminders = asyncio.create_task(services.scheduler.run())
    stop = asyncio.Event()
    session = asyncio.create_task(
        run_console(
            services.inbox.handle,
            services.sender,
            transport,
            settings.console_chat_id,
            sys.stdin,
            voice,
            client_language=client_language,
            stop=stop,
        )
    )

    def interrupted() -> None:
        if stop.is_set():
            session.cancel()
        stop.set()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, interrupted)
    try:
        await asyncio.wait({session})
        if not session.cancelled():
            session.result()
    finally:
        reminders.cancel()
        await asyncio.gather(reminders, return_exceptions=True)
        await services.storage.close()
        for signum in (signal.SIGINT, signal.SIGTERM):  # leaving: nothing left to interrupt
            loop.remove_signal_handler(signum)
            signal.signal(signum, signal.SIG_IGN)


@dataclass
class TelegramBot:
    """Everything ``optout-bot run`` runs: the application, the services behind it, and the
    ingress that feeds them."""

    app: Application[Any, Any, Any, Any, Any, Any]
    services: Services
    ingress: Ingress
    http: HttpServer | None = None  # the operator's endpoints, where OPTOUT_HTTP_LISTEN is set
    webhook: tuple[str, str] | None = None  # (url, secret): Telegram posts there, no polling
    admins: frozenset[int] = frozenset()  # error reports go there
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    reports: ErrorReports | None = None
    admin: Admin | None = None  # the admin commands, where admin chats are set

    @property
    def inbox(self) -> Inbox:  # what the handlers hand their work to (telegram_adapter.Shell)
        return self.services.inbox

    @property
    def storage(self) -> Storage:
        return self.services.storage

    async def initialize(self) -> None:
        """Reach Telegram (getMe), retrying with backoff while it fails: a Bot API that is
        down at start-up delays the bot, it does not end it."""
        async for attempt in retrying(wait_max=60.0):
            with attempt:
                await self.app.initialize()

    async def start(self) -> None:
        """The background work: sending, reminders, the command menus, and the long poll;
        the operator's endpoints first (a port that cannot be had stops the start)."""
        if self.admins:
            self.reports = ErrorReports(
                self.app.bot.send_message,
                sorted(self.admins),
                admin_templates(TEMPLATES_DIR),
                asyncio.get_running_loop(),
            )
            logging.getLogger().addHandler(self.reports)
        if self.http is not None:
            await self.http.start()
        if self.webhook is not None:  # listening first: Telegram may post at once
            await self.ingress.set_webhook(*self.webhook)
        else:
            await self.ingress.clear_webhook()
        ingress = self.ingress.poll() if self.webhook is None else self.ingress.watch_webhook()
        self.tasks = [
            asyncio.create_task(self.services.sender.run(), name="sender"),
            asyncio.create_task(self.services.scheduler.run(), name="scheduler"),
            asyncio.create_task(set_command_menus(self.app, self.services.renderer), name="menus"),
            asyncio.create_task(ingress, name="ingress"),
        ]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks = []
        if self.http is not None:
            await self.http.stop()
        if self.reports is not None:
            logging.getLogger().removeHandler(self.reports)
            self.reports = None
        await self.app.shutdown()
        await self.storage.close()


def _run_telegram(settings: Settings) -> int:
    return asyncio.run(_serve_telegram(settings))


async def _serve_telegram(settings: Settings) -> int:
    """Run until SIGTERM or SIGINT, then stop cleanly (a SIGKILL loses nothing either)."""
    bot = await build_telegram(settings, sealer_for(settings))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    # Reaching Telegram may take retries; a stop signal meanwhile still stops the bot.
    reaching = asyncio.create_task(bot.initialize())
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({reaching, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not reaching.done():
        reaching.cancel()
        await asyncio.gather(reaching, return_exceptions=True)
        await bot.stop()
        return 0
    try:
        reaching.result()
    except InvalidToken:
        print("optout-bot: Telegram rejected OPTOUT_TELEGRAM_TOKEN", file=sys.stderr)
        await bot.stop()
        return 2
    log.info("starting: %s", "webhook" if settings.webhook_url else "long polling")
    try:
        await bot.start()
    except OSError as error:  # the operator's port is taken or not allowed
        where = ":".join(map(str, settings.http_address or ()))
        print(f"optout-bot: cannot listen on {where}: {error}", file=sys.stderr)
        await bot.stop()
        return 2
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        await bot.stop()
    return 0


async def build_telegram(
    settings: Settings, sealer: Sealer, request: Any = None, delivery: Delivery = "background"
) -> TelegramBot:
    """The Telegram bot: the application, the services (``bot.assembly``) and the ingress.

    ``request`` replaces PTB's HTTP layer (tests answer Bot API calls locally with it).
    """
    assert settings.telegram_token is not None
    app = build_application(
        settings.telegram_token.get_secret_value(), settings.telegram_api_url, request
    )
    services = await assemble(settings, sealer, TelegramTransport(app), delivery)
    ingress = Ingress(app, services.storage, services.inbox.notify_failure)
    http, webhook, hook = None, None, None
    if settings.webhook_url and settings.webhook_secret and settings.webhook_path:
        secret = settings.webhook_secret.get_secret_value()
        webhook = (settings.webhook_url, secret)
        hook = Webhook(settings.webhook_path, secret, ingress.accept, ingress.seen)
    if settings.http_address is not None:
        host, port = settings.http_address
        web = operator_app(services.storage, lambda: ingress.reached, hook)
        http = HttpServer(web, host, port)
    admin = None
    if settings.admins:
        templates = admin_templates(TEMPLATES_DIR)
        admin = Admin(settings.admins, services.storage, services.knowledge, templates)
    bot = TelegramBot(app, services, ingress, http, webhook, settings.admins, admin=admin)
    install_handlers(app, bot)
    return bot


if __name__ == "__main__":
    raise SystemExit(main())
