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
import os
import signal
import socket
import sys
import tempfile
import textwrap
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from importlib import metadata
from types import FrameType
from typing import NoReturn, TypeVar
from urllib.parse import quote

import uvicorn
from uvicorn.supervisors import Multiprocess

from graph import logs, serving
from graph.app import SUPERVISOR
from graph.settings import OPTIONS, ConfigError, Settings, display_host
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


def _plain(text: str) -> str:
    """README markup out of a terminal's help."""
    return text.replace("`", "")


def _staff(raw: str) -> int:
    """`--demo-staff`, refused in one line as a bad setting is."""
    if not raw.strip().isdigit() or int(raw) > 100_000:
        raise ConfigError(f"--demo-staff={raw!r}: expected a whole number from 0 to 100000")
    return int(raw)


def _add_flags(parser: argparse.ArgumentParser, *, serve_only: bool) -> None:
    for option in OPTIONS:
        if option.flag and option.serve_only is serve_only:
            parser.add_argument(
                option.flag, dest=option.attribute, metavar=option.attribute.upper(),
                help=f"{_plain(option.help)} (env {option.env}; default {_plain(option.shown)})",
            )  # fmt: skip


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    _add_flags(common, serve_only=False)
    environment_only = "\n".join(
        textwrap.fill(
            f"{option.env} (default {_plain(option.shown)}): {_plain(option.help)}",
            width=100,
            initial_indent="  ",
            subsequent_indent="      ",
        )
        for option in OPTIONS
        if not option.flag
    )
    parser = argparse.ArgumentParser(
        prog="credgraph",
        description="A GraphQL API server for training credentials.",
        epilog="Run `credgraph COMMAND --help` for a command's options. Settings read from "
        "the environment only:\n" + environment_only,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"credgraph {_version()}")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        parents=[common],
        help="serve /graphql (GraphiQL in a browser) and /healthz",
        description="Serve the API. Without MONGODB_URI the embedded database is started "
        "under the data directory (or reused, if another credgraph process runs it).",
    )
    _add_flags(serve, serve_only=True)
    serve.add_argument(
        "--demo",
        action="store_true",
        help="load the demo organization (once) and print an administrator's, a learner's and a "
        "manager's token",
    )
    serve.add_argument(
        "--demo-staff",
        default=str(demo.STAFF),
        metavar="N",
        help=f"how many staff the demo adds besides its named people (default {demo.STAFF}; "
        "the first start only)",
    )
    serve.set_defaults(run=_serve, creates=True)

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
    boot.set_defaults(run=_bootstrap, creates=True)

    token = commands.add_parser(
        "token",
        parents=[common],
        help="print a fresh token for an existing user",
        description="Print a fresh bearer token for the user with this email, alone on stdout. "
        "The data directory is found as the server finds it (CREDGRAPH_DATA_DIR, else the "
        "nearest .credgraph here or above); it is never created.",
    )
    token.add_argument("email", metavar="EMAIL")
    token.add_argument(
        "--org", metavar="NAME", help="the user's organization, when the email is in several"
    )
    token.set_defaults(run=_token, creates=False)
    return parser


def _version() -> str:
    try:
        return metadata.version("credgraph")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def _settings(args: argparse.Namespace) -> Settings:
    flags = {option.attribute: getattr(args, option.attribute, None) for option in OPTIONS}
    return Settings.load(flags=flags, create=args.creates)


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
    staff = _staff(args.demo_staff) if args.demo else None
    settings = _settings(args)
    logs.configure(json_lines=settings.json_logs)
    sock = _bind(settings.host, settings.port)
    server = None
    try:
        uri = settings.mongodb_uri
        if uri is None:
            # Joined here rather than only in the app, so that a failure is one clear line
            # before uvicorn runs, and the demo can be loaded before the first request.
            _say(f"starting the embedded database under {settings.data_dir} …")
            server = embedded.acquire(settings.data_dir, durable=settings.embedded_durable)
            embedded.supervise(server)
            uri = server.uri
            where = f"embedded SecantusDB under {settings.data_dir}"
        else:
            where = f"MongoDB at {_redacted(uri)}"
        with _reachable(settings):
            banner = asyncio.run(
                _prepare(
                    replace(settings, mongodb_uri=uri),
                    staff=staff,
                )
            )
        port = sock.getsockname()[1]
        url = f"http://{display_host(settings.host)}:{port}/graphql"
        workers = f" with {settings.workers} workers" if settings.workers > 1 else ""
        _say(f"serving {url} (GraphiQL in a browser){workers} on {where}")
        if banner is not None:
            print(banner(url), flush=True)
        os.environ.update(settings.environment())  # what every worker builds its app from
        # and where it listens, which credentials name as their issuer's address when no
        # public URL is set (`graph.publishing.links`)
        os.environ.update({"CREDGRAPH_HOST": settings.host, "CREDGRAPH_PORT": str(port)})
        config = serving.config(
            workers=settings.workers, log_config=None, access_log=False, lifespan="on"
        )
        if settings.workers > 1:
            os.environ[SUPERVISOR] = str(os.getpid())
            with _shared_metrics():
                Multiprocess(config, sockets=[sock]).run()
            return 0
        uvicorn_server = uvicorn.Server(config)
        asyncio.run(uvicorn_server.serve(sockets=[sock]))
        if not uvicorn_server.started:
            raise Failure("the server failed to start (see the log above)")
        return 0
    finally:
        sock.close()
        if server is not None:
            server.stop()


@contextlib.contextmanager
def _shared_metrics() -> Iterator[None]:
    """Workers count into one fresh directory that `/metrics` adds up (prometheus-client's
    multiprocess mode), unless the operator named one."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        yield
        return
    with tempfile.TemporaryDirectory(prefix="credgraph-metrics-") as directory:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
        try:
            yield
        finally:
            del os.environ["PROMETHEUS_MULTIPROC_DIR"]


def _say(message: str) -> None:
    print(f"credgraph: {message}", file=sys.stderr, flush=True)


async def _prepare(settings: Settings, *, staff: int | None) -> Callable[[str], str] | None:
    """Check the database and create its indexes; with `--demo` (`staff`), load the demo once."""
    async with connect(settings.mongodb_uri or "", seconds=settings.db_timeout) as db:
        if staff is None:
            return None
        now = SystemClock().now()
        loaded = await demo.load(db, now=now, crowd=staff, progress=_say)

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
                f"  manager        {loaded.manager.email} (of {demo.WARD})",
                f"    token: {issue(loaded.manager)}",
                "Open GraphiQL signed in as the administrator:",
                f"  {url}?headers={headers}",
            ]
        )

    return banner


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything else starts (workers share it). Made with
    its protocol named: asyncio disables Nagle's algorithm only on connections whose socket
    says TCP, and without that a response's body waits ~40 ms for the client's delayed ACK."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
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


def _exit_on_sigterm() -> None:
    """Make SIGTERM unwind like Ctrl-C, so `finally` blocks stop the embedded database."""

    def handler(signum: int, frame: FrameType | None) -> NoReturn:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, handler)
