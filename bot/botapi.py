"""Raw Bot API calls: python-telegram-bot's request layer without its object model.

Used where PTB's typed method costs more than it gives:

- ``getUpdates``: ``Bot.get_updates`` parses the whole batch at once, so one update it cannot
  read would make every update of the batch unreadable, forever (the ingress parses each alone);
- sending: the message is ours and already rendered, and of Telegram's answer only the message
  id is needed. Building ``InlineKeyboardMarkup`` objects to serialise them again, and parsing
  each sent message back into a ``telegram.Message``, was about a tenth of a journey step's
  cost (``benchmarks/steps.py``).

The call still goes through ``Bot.do_api_request``: PTB's HTTP client, timeouts, and its mapping
of Telegram's answers to ``RetryAfter``, ``Forbidden``, ``BadRequest`` … stay in charge.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from telegram import Bot
from telegram.request import BaseRequest
from telegram.warnings import PTBUserWarning

#: PTB warns on every raw call of a method it has a typed version of; here that is on purpose.
#: (Tests run with warnings as errors: pyproject.toml's pytest filters repeat this one.)
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.", category=PTBUserWarning)


async def call(
    bot: Bot, method: str, parameters: Mapping[str, object], *, read_timeout: float | None = None
) -> Any:
    """``method`` with JSON-ready ``parameters``; returns Telegram's ``result`` as plain JSON."""
    return await bot.do_api_request(
        method,
        api_kwargs=dict(parameters),
        read_timeout=BaseRequest.DEFAULT_NONE if read_timeout is None else read_timeout,
    )
