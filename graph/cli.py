"""The `credgraph` command: serve the API, bootstrap an organization, make a token.

Failures a user can cause end with one line on stderr and a non-zero exit, never a traceback.
Tokens go to stdout alone so scripts can read them; everything else goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import json
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import NoReturn, TypeVar
from urllib.parse import quote

import uvicorn

from graph import serving
from graph.app import create_app
from graph.settings import ConfigError, Settings
from resolvers import demo, tokens
from resolvers.clock import SystemClock
from resolvers.errors import DomainError
from resolvers.users import bootstrap, find_for_token
from store import embedded
from store.database import Database, connect, open_database
from store.errors import StoreError
from store.users import User

T = TypeVar("T")


class Failure(Exception):
    """Ends the command with its message as the one line printed."""


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except (Failure, ConfigError, StoreError, DomainError) as error:
        print(f"credgraph: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="embedded database files and the signing secret (env CREDGRAPH_DATA_DIR; "
        "default ./.credgraph)",
    )
    common.add_argument(
        "--mongodb-uri",
        metavar="URI",
        help="use this MongoDB instead of the embedded database (env MONGODB_URI)",
    )
    parser = argparse.ArgumentParser(
        prog="credgraph",
        description="A GraphQL API server for training credentials.",
        epilog="Run `credgraph COMMAND --help` for a command's options.",
    )
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        parents=[common],
        help="serve /graphql (GraphiQL in a browser) and /healthz",
        description="Serve the API. Without MONGODB_URI the embedded database is started "
        "under the data directory (or reused, if another credgraph process runs it).",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="interface to bind (default %(default)s)"
    )
    serve.add_argument("--port", type=int, default=8000, help="port to bind (default %(default)s)")
    serve.add_argument(
        "--demo",
        action="store_true",
        help="load the demo organization (once) and print an administrator's and a learner's token",
    )
    serve.set_defaults(run=_serve)

    boot = commands.add_parser(
        "bootstrap",
        parents=[common],
        help="create an organization and its first administrator; prints their token",
        description="Create an organization and its first administrator. The administrator's "
        "token is printed alone on stdout.",
    )
    boot.add_argument("--org", required=True, metavar="NAME", help="the organization's name")
    boot.add_argument("--admin-email", required=True, metavar="EMAIL")
    boot.add_argument("--admin-name", metavar="NAME", help="defaults to the email's local part")
    boot.set_defaults(run=_bootstrap)

    token = commands.add_parser(
        "token",
        parents=[common],
        help="print a fresh token for an existing user",
        description="Print a fresh bearer token for the user with this email, alone on stdout.",
    )
    token.add_argument("email", metavar="EMAIL")
    token.add_argument(
        "--org", metavar="NAME", help="the user's organization, when the email is in several"
    )
    token.set_defaults(run=_token)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.load(data_dir=args.data_dir, mongodb_uri=args.mongodb_uri)


def _with_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    async def run() -> T:
        async with open_database(
            settings.mongodb_uri, data_dir=settings.data_dir, seconds=settings.db_timeout
        ) as db:
            return await work(db)

    with _reachable(settings):
        return asyncio.run(run())


def _bootstrap(args: argparse.Namespace) -> int:
    settings = _settings(args)
    now = SystemClock().now()

    async def work(db: Database) -> str:
        org, admin = await bootstrap(
            db, org_name=args.org, admin_email=args.admin_email, admin_name=args.admin_name, now=now
        )
        print(
            f"created organization {org.name!r} with administrator {admin.email}", file=sys.stderr
        )
        return tokens.issue(admin, secret=settings.secret, ttl=settings.token_ttl, now=now)

    print(_with_database(settings, work))
    return 0


def _token(args: argparse.Namespace) -> int:
    settings = _settings(args)
    now = SystemClock().now()

    async def work(db: Database) -> str:
        user = await find_for_token(db, email=args.email, org_name=args.org)
        return tokens.issue(user, secret=settings.secret, ttl=settings.token_ttl, now=now)

    print(_with_database(settings, work))
    return 0


def _serve(args: argparse.Namespace) -> int:
    _exit_on_sigterm()
    settings = _settings(args)
    sock = _bind(args.host, args.port)
    server = None
    try:
        if settings.mongodb_uri is None:
            # Started here rather than in the app's lifespan, so that a failure is one clear
            # line before uvicorn runs and the database outlives a failed app start-up.
            server = embedded.acquire(settings.data_dir)
            if server.owner:
                embedded.supervise(server)
            settings = replace(settings, mongodb_uri=server.uri)
            where = f"embedded SecantusDB under {settings.data_dir}"
        else:
            where = f"MongoDB at {_redacted(settings.mongodb_uri)}"
        with _reachable(settings):
            banner = asyncio.run(_prepare(settings, load_demo=args.demo))
        port = sock.getsockname()[1]
        url = f"http://{_display_host(args.host)}:{port}/graphql"
        print(f"credgraph: serving {url} (GraphiQL in a browser) on {where}", file=sys.stderr)
        if banner is not None:
            print(banner(url), flush=True)
        config = serving.config(
            create_app(settings),
            header_timeout=settings.header_timeout,
            log_level="info",
            access_log=False,
            lifespan="on",
        )
        uvicorn_server = uvicorn.Server(config)
        asyncio.run(uvicorn_server.serve(sockets=[sock]))
        if not uvicorn_server.started:
            raise Failure("the server failed to start (see the log above)")
        return 0
    finally:
        sock.close()
        if server is not None:
            server.stop()


async def _prepare(settings: Settings, *, load_demo: bool) -> Callable[[str], str] | None:
    """Check the database and create its indexes; with `--demo`, load the demo once."""
    async with connect(settings.mongodb_uri or "", seconds=settings.db_timeout) as db:
        if not load_demo:
            return None
        now = SystemClock().now()
        loaded = await demo.load(db, now=now)

    def issue(user: User) -> str:
        return tokens.issue(user, secret=settings.secret, ttl=settings.token_ttl, now=now)

    admin_token, learner_token = issue(loaded.admin), issue(loaded.learner)

    def banner(url: str) -> str:
        headers = quote(json.dumps({"Authorization": f"Bearer {admin_token}"}))
        state = "loaded" if loaded.created else "already loaded"
        return "\n".join(
            [
                f"Demo organization {loaded.org_name!r} ({state}).",
                f"  administrator  {loaded.admin.email}",
                f"    token: {admin_token}",
                f"  learner        {loaded.learner.email}",
                f"    token: {learner_token}",
                "Open GraphiQL signed in as the administrator:",
                f"  {url}?headers={headers}",
            ]
        )

    return banner


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise Failure(
                f"port {port} on {host} is already in use; pick another with --port"
            ) from None
        raise Failure(f"cannot listen on {host}:{port}: {error.strerror}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


@contextlib.contextmanager
def _reachable(settings: Settings) -> Iterator[None]:
    """Turn "database unreachable" into one line that names the database (without password)."""
    try:
        yield
    except StoreError as error:
        where = (
            f"MongoDB at {_redacted(settings.mongodb_uri)}"
            if settings.mongodb_uri
            else "the embedded database"
        )
        raise Failure(f"cannot use {where}: {error}") from None


def _redacted(uri: str) -> str:
    scheme, sep, rest = uri.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at:
        return uri
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"


def _display_host(host: str) -> str:
    if host in ("0.0.0.0", "::"):
        return "localhost"
    return f"[{host}]" if ":" in host else host


def _exit_on_sigterm() -> None:
    """Make SIGTERM unwind like Ctrl-C, so `finally` blocks stop the embedded database."""

    def handler(signum: int, frame: FrameType | None) -> NoReturn:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, handler)
