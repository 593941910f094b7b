"""The shell is assembled once: the console and Telegram get the same services from settings."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.assembly import assemble
from bot.console import ConsoleTransport
from bot.settings import Settings
from tests.support import key_file_for, sealer_for_db


@pytest.mark.parametrize("delivery", ["inline", "background"])
async def test_every_transport_gets_the_settings_flood_and_sending_limits(
    db_path: Path, delivery: str
) -> None:
    """The console used to ignore the flood guard and the sending limits: it no longer can."""
    settings = Settings(
        database_path=db_path,
        key_file=key_file_for(db_path),
        input_burst=4,
        input_per_second=0.5,
        send_per_second=12,
        send_per_chat_per_second=0.5,
        _env_file=None,
    )
    services = await assemble(
        settings,
        sealer_for_db(db_path),
        ConsoleTransport(io.StringIO()),
        delivery,  # type: ignore[arg-type]
    )
    try:
        assert (services.inbox.flood.burst, services.inbox.flood.per_second) == (4, 0.5)
        assert services.sender.limits.global_per_second == 12
        assert services.sender.limits.chat_per_second == 0.5
        assert services.sender.on_stale is not None and services.sender.on_mail_report is not None
        assert services.inbox.on_scheduled is not None
    finally:
        await services.storage.close()
