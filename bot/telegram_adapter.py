"""Telegram, through python-telegram-bot: updates become events, rendered messages become calls.

Thin on purpose: no decisions here. Handler order matters: group chats are answered first (and
nothing else happens there), then private messages and button presses go to the one inbox.
Calls that only polish the experience (answering a tap, the command menu) are best-effort:
logged when they fail, never in front of a person's input, never fatal.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from telegram import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InputFile,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot import botapi
from bot.admin import Admin
from bot.inbox import Inbox
from bot.ingress import Ingress, retrying
from bot.logs import log_failure
from bot.renderer import Message, RenderedButton, Renderer
from bot.sender import ChatUnreachable, MessageGone, RetryLater
from conversations import (
    LANGUAGES,
    Button,
    Command,
    Edited,
    Event,
    Media,
    Press,
    Text,
    supported_language,
)

log = logging.getLogger(__name__)

#: Telegram's limits for the bot's description (shown in an empty chat) and its short
#: description (on the profile and in shared links).
DESCRIPTION_MAX, SHORT_DESCRIPTION_MAX = 512, 120
#: Tries of each command-menu call before it is left for the next start.
MENU_ATTEMPTS = 4

#: The command menu, in this order. Descriptions come from templates/chat/_labels.j2.
COMMANDS = (
    "start",
    "status",
    "cancel",
    "language",
    "timezone",
    "settings",
    "protect",
    "mydata",
    "privacy",
    "delete",
    "help",
)


class TelegramTransport:
    """The sender's way out to Telegram: Bot API errors become the sender's outcomes. Calls
    are raw (``bot.botapi``): the messages are rendered already, and only ids come back."""

    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        self._bot = application.bot

    async def send_message(self, chat_id: int, message: Message) -> int:
        sent = await self._call(
            "sendMessage", chat_id=chat_id, text=message.html, **_markup(message), **MESSAGE_OPTIONS
        )
        return int(sent["message_id"])

    async def edit_message(self, chat_id: int, message_id: int, message: Message) -> None:
        try:
            await self._call(
                "editMessageText",
                chat_id=chat_id,
                message_id=message_id,
                text=message.html,
                **_markup(message),
                **MESSAGE_OPTIONS,
            )
        except BadRequest as error:
            text = str(error).lower()
            if "not modified" in text:
                return  # the same text again is a success
            if "not found" in text or "can't be edited" in text:
                raise MessageGone from error
            raise

    async def delete_message(self, chat_id: int, message_id: int) -> None:
        try:
            await self._call("deleteMessage", chat_id=chat_id, message_id=message_id)
        except BadRequest as error:
            text = str(error).lower()
            if "not found" in text or "can't be deleted" in text:
                return  # already gone (the person deleted it), or too old: nothing left to do
            raise

    async def send_document(self, chat_id: int, filename: str, content: bytes) -> None:
        await self._call(
            "sendDocument", chat_id=chat_id, document=InputFile(content, filename=filename)
        )

    async def _call(self, method: str, **parameters: object) -> Any:
        with _outcomes():
            return await botapi.call(self._bot, method, parameters)


#: How every chat message is sent: HTML parse mode (templates escape what people typed), and no
#: link previews (a preview of Meta's form would push the text off the screen).
MESSAGE_OPTIONS: dict[str, object] = {
    "parse_mode": ParseMode.HTML.value,
    "link_preview_options": {"is_disabled": True},
}


@contextmanager
def _outcomes() -> Iterator[None]:
    try:
        yield
    except Forbidden as error:
        raise ChatUnreachable from error
    except RetryAfter as error:
        delay = error.retry_after
        seconds = delay.total_seconds() if hasattr(delay, "total_seconds") else float(delay)
        raise RetryLater(seconds) from error


def _markup(message: Message) -> dict[str, object]:
    """The message's buttons as the Bot API's ``reply_markup`` (none: no parameter at all)."""
    if not message.buttons:
        return {}
    rows = [[_button(b) for b in row] for row in message.buttons]
    return {"reply_markup": {"inline_keyboard": rows}}


def _button(b: RenderedButton) -> dict[str, object]:
    if b.url:
        return {"text": b.text, "url": b.url}
    if b.copy_text:
        return {"text": b.text, "copy_text": {"text": b.copy_text}}
    return {"text": b.text, "callback_data": b.data}


def event_from(update: Update) -> Event | None:
    """The brain's view of an update; None for updates that are not for the journey."""
    language = update.effective_user.language_code if update.effective_user else None
    if update.callback_query is not None:
        return Press(data=update.callback_query.data or "", client_language=language)
    if update.edited_message is not None:
        return Edited(client_language=language)
    message = update.message
    if message is None:
        return None
    if message.text is None:
        # A screenshot or forwarded file can be proof of Meta's confirmation: keep its reference.
        file_id = message.photo[-1].file_id if message.photo else None
        file_id = file_id or (message.document.file_id if message.document else None)
        return Media(client_language=language, file_id=file_id)
    text = message.text
    if text.startswith("/"):
        head, _, args = text[1:].partition(" ")
        name = head.split("@", 1)[0]
        return Command(name=name, args=args.strip(), client_language=language)
    return Text(text=text, client_language=language, message_id=message.message_id)


class Shell(Protocol):
    """What the handlers hand their work to (built by the composition root)."""

    @property
    def inbox(self) -> Inbox: ...

    @property
    def ingress(self) -> Ingress: ...

    @property
    def admin(self) -> Admin | None: ...


def build_application(
    token: str, base_url: str, request: BaseRequest | None = None
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The application without PTB's Updater: updates come in through ``bot.ingress``, which
    confirms them to Telegram only after their steps are committed. ``request`` replaces PTB's
    HTTP layer (tests answer Bot API calls locally with it). No PTB ``Defaults``: messages are
    sent raw with ``MESSAGE_OPTIONS``, and defaults would only be looked through on every call."""
    builder = ApplicationBuilder().token(token).base_url(base_url).updater(None)
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    return builder.build()


def install_handlers(application: Application[Any, Any, Any, Any, Any, Any], shell: Shell) -> None:
    """Wire the handlers. Order matters: group chats are answered first (and nothing else
    happens there), then private messages and button presses go to the one inbox."""

    async def on_group(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:  # noqa: ARG001 - PTB callback
        """A message in a group or channel: the bot works in private chats only, and says so
        (through the sender, like every message)."""
        chat = update.effective_chat
        if chat is None or update.effective_message is None:
            return
        language = update.effective_user.language_code if update.effective_user else None
        await shell.inbox.reply_in_group(chat.id, language, update.update_id)

    async def on_private(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A private message or a button press: into the inbox first, so Telegram's trouble
        with the cosmetic answer to a tap can never cost the tap itself."""
        event = event_from(update)
        chat = update.effective_chat
        admin = shell.admin
        if isinstance(event, Command) and chat and admin and admin.handles(chat.id, event.name):
            reply = await admin.answer(chat.id, event.name, event.args)
            await context.bot.send_message(chat.id, reply)
            return
        notice: str | None = None
        try:
            if event is not None and chat is not None:
                notice = await shell.inbox.handle(chat.id, event, update.update_id)
        finally:
            if update.callback_query is not None:  # else the button keeps spinning
                answer: dict[str, object] = {"callback_query_id": update.callback_query.id}
                if notice:  # e.g. "that button is from an earlier question", on the button
                    answer["text"] = notice
                await best_effort(
                    "answerCallbackQuery",
                    botapi.call(context.bot, "answerCallbackQuery", answer),
                )

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A handler failed: log where (never what), and let the ingress try it again."""
        if context.error is not None:
            log_failure("update failed", context.error, log)
        shell.ingress.mark_failed(update)

    application.add_handler(
        MessageHandler(filters.ChatType.GROUPS | filters.ChatType.CHANNEL, on_group)
    )
    application.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE
            & (filters.UpdateType.MESSAGE | filters.UpdateType.EDITED_MESSAGE),
            on_private,
        )
    )
    application.add_handler(CallbackQueryHandler(on_private))
    application.add_error_handler(on_error)


async def best_effort(what: str, call: Awaitable[object]) -> bool:
    """A cosmetic Bot API call: its failure is logged, never raised. True if it went through."""
    try:
        await call
    except Exception as error:  # noqa: BLE001 - cosmetic: nothing depends on it
        log.warning("%s failed (%s); carrying on", what, type(error).__name__)
        return False
    return True


async def set_command_menus(
    app: Application[Any, Any, Any, Any, Any, Any], renderer: Renderer
) -> None:
    """One command menu, description and short description per language (for private chats;
    English is also the fallback). Telegram's language codes carry no region: "pt" gets the
    variant a bare "pt" is served in (``supported_language``: pt-PT where the bot has it).

    Best-effort: each call is retried a few times on Telegram's errors and then left; the bot
    works without a menu (commands can still be typed).
    """
    scope = BotCommandScopeAllPrivateChats()
    for tag, lang in menu_languages().items():
        commands = [
            BotCommand(name, renderer.label(Button(label=f"command.{name}"), lang))
            for name in COMMANDS
        ]
        description = renderer.label(Button(label="bot.description"), lang)[:DESCRIPTION_MAX]
        short = renderer.label(Button(label="bot.short_description"), lang)[:SHORT_DESCRIPTION_MAX]
        for code in (tag, None) if tag == "en" else (tag,):
            await best_effort("setMyCommands", _set_menu(app, commands, scope, code))
            await best_effort(
                "setMyDescription",
                app.bot.set_my_description(description=description, language_code=code),
            )
            await best_effort(
                "setMyShortDescription",
                app.bot.set_my_short_description(short_description=short, language_code=code),
            )


def menu_languages() -> dict[str, str]:
    """Telegram's two-letter code -> the bot's language its menus are in."""
    tags = dict.fromkeys(language.split("-")[0] for language in LANGUAGES)
    return {tag: supported_language(tag) for tag in tags}


async def _set_menu(
    app: Application[Any, Any, Any, Any, Any, Any],
    commands: list[BotCommand],
    scope: BotCommandScopeAllPrivateChats,
    code: str | None,
) -> None:
    async for attempt in retrying(MENU_ATTEMPTS, wait_max=10.0):
        with attempt:
            await app.bot.set_my_commands(commands, scope=scope, language_code=code)
