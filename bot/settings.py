"""Settings from the environment (prefix ``OPTOUT_``), validated once at start-up.

Secrets stay ``SecretStr`` and are unwrapped only where they are used. ``.env.example`` documents
every setting; keep the two in step.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.keys import Sealer, load_sealer


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OPTOUT_", env_file=".env", extra="ignore")

    telegram_token: SecretStr | None = Field(
        default=None, description="Bot token from @BotFather; without it only the console runs."
    )
    telegram_api_url: str = Field(
        default="https://api.telegram.org/bot",
        description="Base URL of the Bot API, e.g. a self-hosted or test server.",
    )
    database_path: Path = Field(
        default=Path("data/optout-bot.sqlite3"), description="The SQLite file (created if missing)."
    )
    encryption_key: SecretStr | None = Field(
        default=None,
        description="Fernet key(s) for data at rest, newest first, comma-separated; "
        "without it the key file is used (and created).",
    )
    key_file: Path = Field(
        default=Path("keys/optout-bot.key"),
        description="Where the encryption key is kept: never in the database's folder.",
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR.")
    console_chat_id: int = Field(
        default=1, description="The chat id the console journey is stored under."
    )
    send_per_second: int = Field(
        default=30, gt=0, le=30, description="Messages per second overall (Telegram allows 30)."
    )
    send_per_chat_per_second: float = Field(
        default=1.0, gt=0, le=1.0, description="Messages per second to one chat, after a burst."
    )

    @field_validator("telegram_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (or http:// for a local test server)")
        return value.rstrip("/")

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return level

    @field_validator("telegram_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        bot_id, _, secret = value.get_secret_value().partition(":")
        if not bot_id.isdigit() or not secret:
            raise ValueError(
                "does not look like a bot token (expected '123456:ABC…' from @BotFather)"
            )
        return value


def describe_error(error: ValidationError) -> str:
    """One readable line per bad setting, naming the environment variable."""
    lines = []
    for problem in error.errors():
        name = "OPTOUT_" + "_".join(str(part) for part in problem["loc"]).upper()
        lines.append(f"{name}: {problem['msg']}")
    return "\n".join(lines)


def sealer_for(settings: Settings) -> Sealer:
    """The encryption for data at rest, as configured (raises ``KeyProblem`` with the reason)."""
    configured = settings.encryption_key.get_secret_value() if settings.encryption_key else None
    return load_sealer(configured, settings.key_file, settings.database_path)
