"""The real bot process, started as an operator starts it: ``python -m bot`` in this checkout,
configured by the environment alone (the test's own ``OPTOUT_`` variables are dropped)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from tests.support import key_file_for

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "777001:restart-test"


def optout_env(db: Path, **variables: str) -> dict[str, str]:
    """This process's environment without its ``OPTOUT_`` settings, then the database, its key,
    quiet logs and ``variables``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPTOUT_")}
    env.update(
        OPTOUT_DATABASE_PATH=str(db),
        OPTOUT_KEY_FILE=str(key_file_for(db)),
        OPTOUT_LOG_LEVEL="WARNING",
        **variables,
    )
    return env


def bot_env(db: Path, url: str) -> dict[str, str]:
    """The Telegram bot against the Bot API at ``url``."""
    return optout_env(db, OPTOUT_TELEGRAM_TOKEN=TOKEN, OPTOUT_TELEGRAM_API_URL=url)


async def spawn_bot(env: dict[str, str], stderr: Any = None) -> asyncio.subprocess.Process:
    """``python -m bot run`` in this checkout, as the operator starts it."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=stderr if stderr is not None else asyncio.subprocess.DEVNULL,
    )
