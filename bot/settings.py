"""Settings from the environment (prefix ``OPTOUT_``), validated once at start-up.

Secrets stay ``SecretStr`` and are unwrapped only where they are used. ``.env.example`` documents
every setting; keep the two in step.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.keys import Sealer, load_sealer
from conversations import Policy


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
    retention_closed_days: int = Field(
        default=30, gt=0, description="Days a closed case's data is kept before it is erased."
    )
    retention_inactive_days: int = Field(
        default=120, gt=0, description="Days without activity after which a case is erased."
    )
    smtp_host: str | None = Field(
        default=None, description="SMTP server for e-mail copies; without it none are offered."
    )
    smtp_port: int = Field(default=587, gt=0, lt=65536, description="SMTP port.")
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        default="starttls", description="starttls (port 587), tls (port 465) or none (local relay)."
    )
    smtp_user: str | None = Field(default=None, description="SMTP login, if the server wants one.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_sender: str | None = Field(
        default=None, description="The From address of e-mail copies (required with SMTP)."
    )
    smtp_reply_to: str | None = Field(default=None, description="Reply-To of e-mail copies.")
    smtp_timeout: float = Field(default=30.0, gt=0, description="Seconds before SMTP gives up.")
    email_daily_limit: int = Field(
        default=3, ge=1, le=20, description="E-mail copies one person may ask for per day."
    )
    input_burst: int = Field(
        default=10, gt=0, description="Messages one person may send at once before throttling."
    )
    input_per_second: float = Field(
        default=1.0, gt=0, description="Messages per second one person may send after the burst."
    )
    send_per_second: int = Field(
        default=30, gt=0, le=30, description="Messages per second overall (Telegram allows 30)."
    )
    send_per_chat_per_second: float = Field(
        default=1.0, gt=0, le=1.0, description="Messages per second to one chat, after a burst."
    )
    admin_chat_ids: str | None = Field(
        default=None,
        description="Comma-separated chat ids of the operators: error reports go there, and "
        "only they may use /stats and /broadcast.",
    )
    knowledge_override: Path | None = Field(
        default=None,
        description="A TOML file with the knowledge data's schema, merged over the shipped "
        "facts at start (a fact corrected without a release).",
    )
    http_listen: str | None = Field(
        default=None,
        description="host:port for /healthz, /readyz and /metrics (e.g. 127.0.0.1:8080); "
        "off when unset.",
    )
    webhook_url: str | None = Field(
        default=None,
        description="The public https:// URL Telegram posts updates to; unset: long polling.",
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="Telegram's secret token for the webhook (1-256 of A-Z a-z 0-9 _ -).",
    )
    webhook_listen: str | None = Field(
        default=None,
        description="host:port the webhook server listens on (behind your HTTPS proxy); it "
        "serves /healthz, /readyz and /metrics too.",
    )

    @field_validator("http_listen", "webhook_listen")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        host, colon, port = value.rpartition(":")
        if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("must be host:port, e.g. 127.0.0.1:8080 or 0.0.0.0:8080")
        return value

    @field_validator("admin_chat_ids")
    @classmethod
    def _chat_ids(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not all(re.fullmatch(r"-?\d+", part.strip()) for part in value.split(",")):
            raise ValueError("must be chat ids separated by commas, e.g. 12345,67890")
        return value

    @property
    def admins(self) -> frozenset[int]:
        """``admin_chat_ids`` as numbers."""
        if self.admin_chat_ids is None:
            return frozenset()
        return frozenset(int(part) for part in self.admin_chat_ids.split(","))

    @field_validator("webhook_url")
    @classmethod
    def _https_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("https://", "http://")) or "/" not in value.split("//", 1)[1]:
            raise ValueError("must be the full URL with a path, e.g. https://bot.example.org/tg")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        return value

    @property
    def http_address(self) -> tuple[str, int] | None:
        """Where the operator's endpoints listen: the webhook's server in webhook mode, else
        ``http_listen``; as (host, port), an IPv6 host without its brackets."""
        listen = self.webhook_listen if self.webhook_url else self.http_listen
        if listen is None:
            return None
        host, _, port = listen.rpartition(":")
        return host.strip("[]"), int(port)

    @property
    def webhook_path(self) -> str | None:
        """The path of ``webhook_url``, where Telegram's posts arrive."""
        if self.webhook_url is None:
            return None
        return "/" + self.webhook_url.split("//", 1)[1].split("/", 1)[1].split("?", 1)[0]

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

    @field_validator("smtp_sender", "smtp_reply_to")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            return validate_email(value.strip(), check_deliverability=False).normalized
        except EmailNotValidError as error:
            raise ValueError(f"not a valid e-mail address ({error})") from None

    @model_validator(mode="after")
    def _smtp_complete(self) -> Settings:
        if self.smtp_host and not self.smtp_sender:
            raise ValueError("OPTOUT_SMTP_SENDER is required when OPTOUT_SMTP_HOST is set")
        return self

    @model_validator(mode="after")
    def _webhook_complete(self) -> Settings:
        if self.webhook_url and not (self.webhook_secret and self.webhook_listen):
            raise ValueError(
                "OPTOUT_WEBHOOK_SECRET and OPTOUT_WEBHOOK_LISTEN are required when "
                "OPTOUT_WEBHOOK_URL is set"
            )
        return self

    def policy(self) -> Policy:
        return Policy(
            email_enabled=bool(self.smtp_host),
            emails_per_day=self.email_daily_limit,
            retention_closed_days=self.retention_closed_days,
            retention_inactive_days=self.retention_inactive_days,
        )


def describe_error(error: ValidationError) -> str:
    """One readable line per bad setting, naming the environment variable."""
    lines = []
    for problem in error.errors():
        if problem["loc"]:
            name = "OPTOUT_" + "_".join(str(part) for part in problem["loc"]).upper()
            lines.append(f"{name}: {problem['msg']}")
        else:
            lines.append(str(problem["msg"]).removeprefix("Value error, "))
    return "\n".join(lines)


def sealer_for(settings: Settings) -> Sealer:
    """The encryption for data at rest, as configured (raises ``KeyProblem`` with the reason)."""
    configured = settings.encryption_key.get_secret_value() if settings.encryption_key else None
    return load_sealer(configured, settings.key_file, settings.database_path)
