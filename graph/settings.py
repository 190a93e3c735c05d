"""Configuration, read once at start-up into one typed object. Flags override the environment."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from graph.limits import Limits

SECRET_FILE = "secret"
DURATION = re.compile(r"\s*(\d+)\s*([smhd])\s*")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
SIZE = re.compile(r"\s*(\d+)\s*(B|KiB|MiB)?\s*")
SIZE_UNITS = {"B": 1, "KiB": 1024, "MiB": 1024 * 1024}


class ConfigError(Exception):
    """A setting a user can fix; its message is the one line the CLI prints."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    secret: str
    mongodb_uri: str | None = None
    database: str | None = None
    token_ttl: timedelta = timedelta(days=30)
    db_timeout: float = 3.0
    body_timeout: float = 60.0
    header_timeout: float = 10.0
    public_url: str = ""  # where clients reach the server, e.g. https://credentials.example.com
    max_document: int = 10 * 1024 * 1024
    max_body: int = 1024 * 1024
    limits: Limits = field(default_factory=Limits)
    introspection: bool = True
    cors_origins: tuple[str, ...] = ()

    @classmethod
    def load(
        cls,
        environ: Mapping[str, str] = os.environ,
        *,
        data_dir: Path | None = None,
        mongodb_uri: str | None = None,
    ) -> Settings:
        """Settings from the environment; makes the data dir and, if needed, the signing secret."""
        directory = data_dir or Path(environ.get("CREDGRAPH_DATA_DIR") or ".credgraph")
        directory = directory.expanduser().resolve()
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ConfigError(
                f"cannot create the data directory {directory}: {error.strerror}"
            ) from error
        if not os.access(directory, os.W_OK | os.X_OK):
            raise ConfigError(f"the data directory {directory} is not writable")
        return cls(
            data_dir=directory,
            secret=environ.get("CREDGRAPH_SECRET") or _stored_secret(directory),
            mongodb_uri=mongodb_uri or environ.get("MONGODB_URI") or None,
            token_ttl=_duration(environ, "CREDGRAPH_TOKEN_TTL", timedelta(days=30)),
            db_timeout=_duration(
                environ, "CREDGRAPH_DB_TIMEOUT", timedelta(seconds=3)
            ).total_seconds(),
            body_timeout=_duration(
                environ, "CREDGRAPH_BODY_TIMEOUT", timedelta(seconds=60)
            ).total_seconds(),
            header_timeout=_duration(
                environ, "CREDGRAPH_HEADER_TIMEOUT", timedelta(seconds=10)
            ).total_seconds(),
            public_url=_public_url(environ),
            max_document=_size(environ, "CREDGRAPH_MAX_DOCUMENT", 10 * 1024 * 1024),
            max_body=_size(environ, "CREDGRAPH_MAX_BODY", 1024 * 1024),
        )


def _public_url(environ: Mapping[str, str]) -> str:
    raw = (environ.get("CREDGRAPH_PUBLIC_URL") or "").strip()
    if not raw:
        return ""
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(
            f"CREDGRAPH_PUBLIC_URL={raw!r}: expected an http(s) address such as "
            "https://credentials.example.com"
        )
    return raw.rstrip("/")


def _stored_secret(directory: Path) -> str:
    """The data dir's signing key, generated once with mode 0600 (racing creators agree)."""
    path = directory / SECRET_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_text().strip()
        if not secret:
            raise ConfigError(f"{path} is empty; delete it to generate a new secret") from None
        return secret
    except OSError as error:
        raise ConfigError(f"cannot write {path}: {error.strerror}") from error
    secret = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as file:
        file.write(secret + "\n")
    return secret


def _count(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if not raw:
        return default
    if not raw.strip().isdigit() or int(raw) == 0:
        raise ConfigError(f"{name}={raw!r}: expected a positive whole number")
    return int(raw)


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (environ.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={raw!r}: expected true or false")


def _size(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if not raw:
        return default
    match = SIZE.fullmatch(raw)
    if match is None or int(match[1]) == 0:
        raise ConfigError(f"{name}={raw!r}: expected a positive size, e.g. 10MiB, 512KiB")
    return int(match[1]) * SIZE_UNITS[match[2] or "B"]


def _duration(environ: Mapping[str, str], name: str, default: timedelta) -> timedelta:
    raw = environ.get(name)
    if not raw:
        return default
    match = DURATION.fullmatch(raw)
    if match is None or int(match[1]) == 0:
        raise ConfigError(
            f"{name}={raw!r}: expected a positive amount and a unit, e.g. 30d, 12h, 5s"
        )
    return timedelta(**{UNITS[match[2]]: int(match[1])})
