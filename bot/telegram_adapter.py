"""Telegram, through python-telegram-bot: updates become events, rendered messages become calls.

Thin on purpose: no decisions here. Handler order matters: group chats are answered first (and
nothing else happens there), then private messages and button presses go to the one inbox.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    CopyTextButton,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.inbox import Inbox
from bot.outbox import ChatUnreachable, MessageGone, RetryLater
from bot.renderer import Message, RenderedButton, Renderer
from conversations.effects import Button, Say
from conversations.events import Command, Edited, Event, Media, Press, Text
from conversations.knowledge import LANGUAGES
from conversations.machine import supported_language

log = logging.getLogger(__name__)

CONCURRENT_UPDATES = 16

#: The command menu, in this order. Descriptions come from templates/chat/_labels.j2.
COMMANDS = (
    "start",
    "status",
    "cancel",
    "language",
    "timezone",
    "mydata",
    "privacy",
    "delete",
    "help",
)


class TelegramTransport:
    """The outbox's way out to Telegram: Bot API errors become the outbox's outcomes."""

    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        self._bot = application.bot

    async def send_message(self, chat_id: int, message: Message) -> int:
        with _outcomes():
            sent = await self._bot.send_message(
                chat_id, message.html, reply_markup=_keyboard(message.buttons)
            )
        return int(sent.message_id)

    async def edit_message(self, chat_id: int, message_id: int, message: Message) -> None:
        try:
            with _outcomes():
                await self._bot.edit_message_text(
                    message.html, chat_id, message_id, reply_markup=_keyboard(message.buttons)
                )
        except BadRequest as error:
            text = str(error).lower()
            if "not modified" in text:
                return  # the same text again is a success
            if "not found" in text or "can't be edited" in text:
                raise MessageGone from error
            raise

    async def send_document(self, chat_id: int, filename: str, content: bytes) -> None:
        with _outcomes():
            await self._bot.send_document(chat_id, InputFile(content, filename=filename))


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


def _keyboard(rows: tuple[tuple[RenderedButton, ...], ...]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup([[_button(b) for b in row] for row in rows])


def _button(b: RenderedButton) -> InlineKeyboardButton:
    if b.url:
        return InlineKeyboardButton(b.text, url=b.url)
    if b.copy_text:
        return InlineKeyboardButton(b.text, copy_text=CopyTextButton(b.copy_text))
    return InlineKeyboardButton(b.text, callback_data=b.data)


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
    return Text(text=text, client_language=language)


def build_application(
    token: str,
    base_url: str,
    renderer: Renderer,
    *,
    on_start: Callable[[Any], Awaitable[Inbox]],
    on_stop: Callable[[Any], Coroutine[Any, Any, None]],
    request: BaseRequest | None = None,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """Wire the handlers. ``on_start`` (post_init) opens storage and starts the services once
    the bot exists and returns the inbox; ``on_stop`` (post_shutdown) stops them."""
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        # One person's flood must not hold up everyone else's updates; the inbox keeps each
        # person's own inputs in order with a per-chat lock.
        .concurrent_updates(CONCURRENT_UPDATES)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    application = builder.build()
    holder: dict[str, Inbox] = {}

    async def on_group(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is None or update.effective_message is None:
            return
        language = update.effective_user.language_code if update.effective_user else None
        message = renderer.message(Say(message="group_chat"), supported_language(language))
        await update.effective_message.reply_text(message.html)

    async def on_private(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.callback_query is not None:
            await update.callback_query.answer()  # always: else the button keeps spinning
        event = event_from(update)
        chat = update.effective_chat
        if event is None or chat is None:
            return
        await holder["inbox"].handle(chat.id, event)

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        # The exception type only: its message could quote what a person typed.
        log.error("update failed: %s", type(context.error).__name__)
        if isinstance(context.error, BadRequest) and "not modified" in str(context.error).lower():
            return
        if isinstance(update, Update) and update.effective_chat is not None:
            try:
                message = renderer.message(Say(message="error"), "en")
                await context.bot.send_message(update.effective_chat.id, message.html)
            except Exception:  # noqa: BLE001 - nothing more can be done for this update
                log.error("could not tell the chat about the failure")

    async def post_init(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        holder["inbox"] = await on_start(app)
        await set_command_menus(app, renderer)

    application.post_init = post_init
    application.post_shutdown = on_stop
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
    return application


async def set_command_menus(
    app: Application[Any, Any, Any, Any, Any, Any], renderer: Renderer
) -> None:
    """One command menu per language, for private chats; English is also the fallback."""
    for lang in LANGUAGES:
        commands = [
            BotCommand(name, renderer.label(Button(label=f"command.{name}"), lang))
            for name in COMMANDS
        ]
        scope = BotCommandScopeAllPrivateChats()
        await app.bot.set_my_commands(commands, scope=scope, language_code=lang)
        if lang == "en":
            await app.bot.set_my_commands(commands, scope=scope)
