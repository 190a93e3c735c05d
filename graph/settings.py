"""Configuration: every setting declared once, read once at start-up into one typed object.

`OPTIONS` is the single declaration — environment variable, command-line flag, type, default
and meaning — from which `Settings.load` reads, `credgraph --help` describes, and the README's
table is written (`markdown_table`; a test fails when the README and the table disagree). A bad
value stops start-up with one line naming the variable (or flag) and what was expected.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pymongo import uri_parser
from pymongo.errors import ConfigurationError, InvalidURI

from graph.limits import Limits

SECRET_FILE = "secret"
DATA_DIR_NAME = ".credgraph"
DURATION = re.compile(r"\s*(\d+)\s*([smhd])\s*")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
SIZE = re.compile(r"\s*(\d+)\s*(B|KiB|MiB)?\s*")
SIZE_UNITS = {"B": 1, "KiB": 1024, "MiB": 1024 * 1024}


class ConfigError(Exception):
    """A setting a user can fix; its message is the one line the CLI prints."""


# --- value types: each turns text into a value or raises ValueError saying what it expects ----


def duration(raw: str) -> float:
    match = DURATION.fullmatch(raw)
    if match is None or int(match[1]) == 0:
        raise ValueError("expected a positive amount and a unit, e.g. 30d, 12h, 5s")
    return timedelta(**{UNITS[match[2]]: int(match[1])}).total_seconds()


def every(raw: str) -> float:
    """A duration, or `off` (0: never)."""
    return 0.0 if raw.strip().lower() == "off" else duration(raw)


def size(raw: str) -> int:
    match = SIZE.fullmatch(raw)
    if match is None or int(match[1]) == 0:
        raise ValueError("expected a positive size, e.g. 10MiB, 512KiB")
    return int(match[1]) * SIZE_UNITS[match[2] or "B"]


def count(raw: str) -> int:
    if not raw.strip().isdigit() or int(raw) == 0:
        raise ValueError("expected a positive whole number")
    return int(raw)


def port(raw: str) -> int:
    if not raw.strip().isdigit() or not 0 <= int(raw) <= 65535:
        raise ValueError("expected a port number from 0 (any free port) to 65535")
    return int(raw)


def flag(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")


def text(raw: str) -> str:
    if not raw.strip():
        raise ValueError("expected a value")
    return raw.strip()


def mongodb_uri(raw: str) -> str:
    try:
        uri_parser.parse_uri(raw.strip(), connect_timeout=1)
    except (ConfigurationError, InvalidURI, ValueError) as error:
        message = str(error).split("\n")[0]
        raise ValueError(f"not a MongoDB connection string ({message})") from None
    return raw.strip()


def origins(raw: str) -> tuple[str, ...]:
    found = []
    for item in (part.strip() for part in raw.split(",")):
        parts = urlsplit(item)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
            raise ValueError(f"{item!r} is not an origin such as https://dash.example.com")
        found.append(f"{parts.scheme}://{parts.netloc}")
    return tuple(found)


def public_url(raw: str) -> str:
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError("expected an http(s) address such as https://credentials.example.com")
    return raw.strip().rstrip("/")


def log_format(raw: str) -> str:
    value = raw.strip().lower()
    if value not in ("auto", "json", "text"):
        raise ValueError("expected auto, json or text")
    return value


@dataclass(frozen=True)
class Option:
    """One setting: where it is read from, what it holds, and what it means."""

    attribute: str
    env: str
    parse: Callable[[str], Any]
    default: Any
    shown: str  # the default as the README and --help show it
    help: str
    flag: str | None = None  # e.g. "--port"; settings with one may be given on the command line
    serve_only: bool = False  # a flag of `credgraph serve` only


OPTIONS: tuple[Option, ...] = (
    Option("mongodb_uri", "MONGODB_URI", mongodb_uri, None, "unset: embedded",
           "A MongoDB connection string. The database is the URI's path (`…/credgraph`), "
           "else `credgraph`.", flag="--mongodb-uri"),
    Option("data_dir", "CREDGRAPH_DATA_DIR", Path, None, "`.credgraph`, found upward",
           "The embedded database's files (`db/`, its log `embedded.log`) and the generated "
           "signing secret. Unset: the nearest `.credgraph` in the current directory or its "
           "parents, else `./.credgraph` (which `serve` and `bootstrap` create).",
           flag="--data-dir"),
    Option("secret", "CREDGRAPH_SECRET", text, None, "generated",
           "The key that signs tokens (HS256). Unset: a random key is generated once into "
           "`<data dir>/secret` with mode 0600. Set it (the same on every instance) when you "
           "run several servers. Changing it signs everyone out."),
    Option("host", "CREDGRAPH_HOST", text, "127.0.0.1", "`127.0.0.1`",
           "The interface `credgraph serve` listens on (`0.0.0.0` for every one).",
           flag="--host", serve_only=True),
    Option("port", "CREDGRAPH_PORT", port, 8000, "`8000`",
           "The port `credgraph serve` listens on (`0`: any free port).",
           flag="--port", serve_only=True),
    Option("workers", "CREDGRAPH_WORKERS", count, 1, "`1`",
           "How many processes `credgraph serve` answers with (they share the port).",
           flag="--workers", serve_only=True),
    Option("token_ttl", "CREDGRAPH_TOKEN_TTL", duration, 30 * 86_400, "`30d`",
           "How long a token is valid: an amount and a unit, `s`, `m`, `h` or `d`."),
    Option("db_timeout", "CREDGRAPH_DB_TIMEOUT", duration, 3.0, "`3s`",
           "How long a database operation may take before the request fails with "
           "`SERVICE_UNAVAILABLE`."),
    Option("max_concurrent", "CREDGRAPH_MAX_CONCURRENT", count, 8, "`8`",
           "How many GraphQL requests a process works on at once; others wait their turn."),
    Option("max_waiting", "CREDGRAPH_MAX_WAITING", count, 100, "`100`",
           "How many may wait (each at most `CREDGRAPH_DB_TIMEOUT`); beyond, a request is "
           "refused at once with 503 `SERVICE_UNAVAILABLE` and `Retry-After`."),
    Option("embedded_durable", "CREDGRAPH_EMBEDDED_DURABLE", flag, True, "`true`",
           "The embedded database syncs every commit to disk, so a `kill -9` loses no "
           "acknowledged write; `false` trades that for faster writes (measured in "
           "`bench/durability.py`)."),
    Option("max_document", "CREDGRAPH_MAX_DOCUMENT", size, 10 * 1024 * 1024, "`10MiB`",
           "The largest document a record may carry (`B`, `KiB` or `MiB`)."),
    Option("max_body", "CREDGRAPH_MAX_BODY", size, 1024 * 1024, "`1MiB`",
           "The largest JSON request body (413 beyond)."),
    Option("max_depth", "CREDGRAPH_MAX_DEPTH", count, 25, "`25`",
           "The deepest a query may nest (`QUERY_TOO_DEEP`)."),
    Option("max_aliases", "CREDGRAPH_MAX_ALIASES", count, 30, "`30`",
           "The most aliases a query may use (`TOO_MANY_ALIASES`)."),
    Option("max_tokens", "CREDGRAPH_MAX_TOKENS", count, 5_000, "`5000`",
           "The most tokens (and comments) a document may hold (`TOO_MANY_TOKENS`)."),
    Option("max_cost", "CREDGRAPH_MAX_COST", count, 100_000, "`100000`",
           "The highest estimated cost of a query: fields times the page sizes above them "
           "(`QUERY_TOO_COMPLEX`)."),
    Option("introspection", "CREDGRAPH_INTROSPECTION", flag, True, "`true`",
           "`false` refuses schema introspection (GraphiQL's docs then go blank)."),
    Option("cors_origins", "CREDGRAPH_CORS_ORIGINS", origins, (), "none",
           "Comma-separated origins a browser app may call from, e.g. "
           "`https://dash.example.com`. None: no cross-origin calls."),
    Option("public_url", "CREDGRAPH_PUBLIC_URL", public_url, "", "unset: relative links",
           "Where clients reach the server, e.g. `https://credentials.example.com`: links such "
           "as `document.url` are built under it, never from the request's `Host`; so are the "
           "issuer, key and status list addresses verifiable credentials carry (unset: the "
           "address `serve` listens on, fit for development only)."),
    Option("body_timeout", "CREDGRAPH_BODY_TIMEOUT", duration, 60.0, "`60s`",
           "How long a request's body may take to arrive, on every route, plus a second "
           "for every 64 KiB its `Content-Length` announces (408 `REQUEST_TIMEOUT` beyond)."),
    Option("header_timeout", "CREDGRAPH_HEADER_TIMEOUT", duration, 10.0, "`10s`",
           "How long `credgraph serve` waits for a request's headers before it closes the "
           "connection."),
    Option("log_format", "CREDGRAPH_LOG_FORMAT", log_format, "auto", "`auto`",
           "`json`: one JSON object per line (a request's id, status, duration, operation and "
           "organization); `text`: plain lines; `auto`: text on a terminal, else JSON."),
    Option("reminder_every", "CREDGRAPH_REMINDER_EVERY", every, 60.0, "`60s`",
           "How often each server process looks for reminders due (`off`: never); a reminder "
           "goes out once, whichever process finds it first."),
    Option("webhook_every", "CREDGRAPH_WEBHOOK_EVERY", every, 2.0, "`2s`",
           "How often each server process sends webhooks what they have waiting (`off`: "
           "never); one process at a time sends to each webhook, in order."),
    Option("metrics_token", "CREDGRAPH_METRICS_TOKEN", text, "", "unset: open",
           "When set, `/metrics` answers only `Authorization: Bearer <this>` (Prometheus's "
           "`authorization.credentials`); unset, anyone who reaches the port can scrape it."),
)  # fmt: skip


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    secret: str
    mongodb_uri: str | None = None
    database: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    token_ttl: timedelta = timedelta(days=30)
    db_timeout: float = 3.0
    max_concurrent: int = 8
    max_waiting: int = 100
    embedded_durable: bool = True
    max_document: int = 10 * 1024 * 1024
    max_body: int = 1024 * 1024
    limits: Limits = field(default_factory=Limits)
    introspection: bool = True
    cors_origins: tuple[str, ...] = ()
    public_url: str = ""
    body_timeout: float = 60.0
    header_timeout: float = 10.0
    log_format: str = "auto"
    metrics_token: str = ""
    reminder_every: float = 60.0  # seconds; 0: no reminders are sent by this process
    webhook_every: float = 2.0  # seconds; 0: this process sends no webhooks

    @classmethod
    def load(
        cls,
        environ: Mapping[str, str] = os.environ,
        *,
        flags: Mapping[str, Any] | None = None,
        create: bool = True,
    ) -> Settings:
        """Settings from command-line `flags` (by attribute; None = not given), else the
        environment, else the defaults. With `create`, the data directory is made if missing;
        without, a missing one is an error naming where it was looked for."""
        values = {option.attribute: _value(option, environ, flags or {}) for option in OPTIONS}
        data_dir = _data_dir(values.pop("data_dir"), create=create)
        secret = values.pop("secret") or _stored_secret(data_dir)
        limits = Limits(**{name: values.pop(name) for name in _LIMITS})
        return cls(
            data_dir=data_dir,
            secret=secret,
            limits=limits,
            token_ttl=timedelta(seconds=values.pop("token_ttl")),
            **values,
        )

    def environment(self) -> dict[str, str]:
        """These settings as environment variables: what a worker process loads them from."""
        env = {}
        for option in OPTIONS:
            holder = self.limits if option.attribute in _LIMITS else self
            value = getattr(holder, option.attribute)
            if not option.serve_only and value not in (None, "", ()):
                env[option.env] = _written(option, value)
        return env

    @property
    def json_logs(self) -> bool:
        return self.log_format == "json" or (self.log_format == "auto" and not sys.stderr.isatty())


_LIMITS = ("max_depth", "max_aliases", "max_tokens", "max_cost")


def _written(option: Option, value: Any) -> str:
    """A setting's value as the environment gives it, for `option.parse` to read back."""
    if option.parse is every and not value:
        return "off"
    if option.parse in (duration, every):
        seconds = value.total_seconds() if isinstance(value, timedelta) else value
        return f"{max(1, round(seconds))}s"
    if option.parse is flag:
        return str(value).lower()
    if option.parse is origins:
        return ",".join(value)
    return str(value)


def _value(option: Option, environ: Mapping[str, str], flags: Mapping[str, Any]) -> Any:
    given = flags.get(option.attribute)
    if given is not None:
        if not isinstance(given, str):
            return given
        source, raw = option.flag, given
    else:
        source, raw = option.env, environ.get(option.env, "")
        if not raw.strip():
            return option.default
    try:
        return option.parse(raw)
    except (ValueError, TypeError) as error:
        raise ConfigError(f"{source}={raw!r}: {error}") from None


def find_data_dir(start: Path | None = None) -> Path:
    """The nearest `.credgraph` in `start` (default the current directory) or its parents,
    else `./.credgraph`: the rule every command follows, so `credgraph token` run from a
    subdirectory reaches the server's database."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        if (directory / DATA_DIR_NAME).is_dir():
            return directory / DATA_DIR_NAME
    return here / DATA_DIR_NAME


def _data_dir(given: Path | None, *, create: bool) -> Path:
    directory = (given.expanduser() if given else find_data_dir()).resolve()
    if not directory.exists():
        if not create:
            raise ConfigError(
                f"no data directory at {directory} (looked for {DATA_DIR_NAME} here and in "
                "every parent); run `credgraph serve` first, or set CREDGRAPH_DATA_DIR"
            )
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ConfigError(
                f"cannot create the data directory {directory}: {error.strerror}"
            ) from error
    if not directory.is_dir():
        raise ConfigError(f"the data directory {directory} is not a directory")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ConfigError(f"the data directory {directory} is not writable")
    return directory


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


def display_host(host: str) -> str:
    """A listening host as a URL writes it: every interface is reached on this machine."""
    if host in ("0.0.0.0", "::"):
        return "localhost"
    return f"[{host}]" if ":" in host else host


def markdown_table() -> str:
    """The README's Configuration table, written from `OPTIONS`."""
    rows = ["| variable | flag | default | meaning |", "| --- | --- | --- | --- |"]
    for option in OPTIONS:
        flag_cell = f"`{option.flag}`" if option.flag else ""
        rows.append(f"| `{option.env}` | {flag_cell} | {option.shown} | {option.help} |")
    return "\n".join(rows)
