"""Encryption at rest for what the bot stores about people (Telegram's bot developer terms:
user data encrypted at rest and stored apart from its key).

Fernet (from the well-kept ``cryptography`` package: AES-128-CBC with an HMAC-SHA256, a random
IV per token) seals each stored case and each queued message. The key comes from settings
(``OPTOUT_ENCRYPTION_KEY``) or from a key file that is created on first start, outside the
database's folder, readable only by the bot's user. ``optout-bot rotate-key`` re-encrypts
everything under a new key; during a rotation both keys are accepted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class KeyProblem(Exception):
    """The key is missing, malformed, or kept in the wrong place."""


@dataclass(frozen=True)
class Sealer:
    """Seals and opens stored text. The first key encrypts; every key decrypts."""

    keys: tuple[bytes, ...]

    @cached_property
    def _fernet(self) -> MultiFernet:
        """Built once: every stored case and message passes through it."""
        return MultiFernet([Fernet(k) for k in self.keys])

    def seal(self, text: str) -> str:
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def open(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken as error:
            raise KeyProblem("stored data cannot be decrypted with the configured key") from error

    def reseal(self, token: str) -> str:
        """The same content, encrypted with the first (newest) key."""
        return self._fernet.rotate(token.encode("ascii")).decode("ascii")


def new_key() -> bytes:
    return Fernet.generate_key()


def check_location(key_file: Path, database_path: Path) -> None:
    """The key must not sit in (or under) the database's folder: backups would carry both."""
    db_folder = database_path.resolve().parent
    key = key_file.resolve()
    if key.parent == db_folder or db_folder in key.parents:
        raise KeyProblem(
            f"the key file {key_file} is inside the database folder {db_folder}; "
            "keep it elsewhere (OPTOUT_KEY_FILE)"
        )


def write_key(path: Path, key: bytes) -> None:
    """Write a key file readable only by this user (created atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key + b"\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_key(path: Path) -> bytes:
    key = path.read_bytes().strip()
    Fernet(key)  # raises ValueError if malformed
    return key


def load_sealer(configured: str | None, key_file: Path, database_path: Path) -> Sealer:
    """The sealer from ``OPTOUT_ENCRYPTION_KEY`` (comma-separated, newest first) or the key
    file, which is created with a fresh key when neither exists yet."""
    if configured:
        try:
            keys = tuple(k.strip().encode("ascii") for k in configured.split(",") if k.strip())
            for key in keys:
                Fernet(key)
        except ValueError as error:
            raise KeyProblem("OPTOUT_ENCRYPTION_KEY is not a valid Fernet key") from error
        return Sealer(keys)
    check_location(key_file, database_path)
    pending = key_file.with_name(key_file.name + ".new")
    keys_found: list[bytes] = []
    try:
        if pending.exists():  # an interrupted rotation: accept both until it is finished
            keys_found.append(read_key(pending))
        if key_file.exists():
            keys_found.append(read_key(key_file))
    except ValueError as error:
        raise KeyProblem(f"the key file {key_file} is not a valid Fernet key") from error
    if not keys_found:
        key = new_key()
        write_key(key_file, key)
        keys_found.append(key)
    return Sealer(tuple(keys_found))
