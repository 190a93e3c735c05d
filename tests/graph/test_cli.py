"""The `credgraph` command as a user runs it: real subprocesses, the embedded database."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from graph import cli
from resolvers import tokens
from resolvers.clock import SystemClock
from tests.servers import (
    JWT,
    Server,
    assert_one_line_failure,
    credgraph,
    processes_using,
)


def test_help_describes_every_command(tmp_path, capsys):
    result = credgraph("--help", data_dir=tmp_path)  # the installed command
    assert result.returncode == 0
    for command in ("serve", "bootstrap", "token"):
        assert command in result.stdout
    for command, option in (
        ("serve", "--demo-staff"),
        ("bootstrap", "--admin-email"),
        ("token", "EMAIL"),
    ):
        with pytest.raises(SystemExit) as exited:  # the same parser, without a process each
            cli.main([command, "--help"])
        assert exited.value.code == 0
        assert option in capsys.readouterr().out


def test_bootstrap_then_token_print_working_tokens_alone(tmp_path):
    data_dir = tmp_path / "data"
    boot = credgraph(
        "bootstrap", "--org", "Acme", "--admin-email", "Boss@Acme.test", data_dir=data_dir
    )
    assert boot.returncode == 0, boot.stderr
    assert JWT.fullmatch(boot.stdout.strip())
    assert "Acme" in boot.stderr

    # Two commands at once on one data directory: one starts the database, the other joins it.
    with ThreadPoolExecutor(2) as pool:
        token = pool.submit(credgraph, "token", "boss@acme.test", data_dir=data_dir)
        twice = ["bootstrap", "--org", "Acme", "--admin-email", "b@acme.test"]
        again = pool.submit(credgraph, *twice, data_dir=data_dir).result()
        fresh = token.result()
    assert fresh.returncode == 0, fresh.stderr
    assert JWT.fullmatch(fresh.stdout.strip())
    assert fresh.stderr == ""
    assert_one_line_failure(again, "already exists")

    secret = (data_dir / "secret").read_text().strip()
    for printed in (boot.stdout, fresh.stdout):
        claims = tokens.verify(printed.strip(), secret=secret, now=SystemClock().now())
        assert claims.org_id
    assert processes_using(data_dir) == [], "a CLI command must stop the database it started"


UNREACHABLE = {
    "MONGODB_URI": "mongodb://user:hunter2@127.0.0.1:9/?directConnection=true",
    "CREDGRAPH_DB_TIMEOUT": "1s",
}


def test_every_failure_is_one_clean_line(tmp_path):
    """Each on a data directory of its own, all at once (each is a process, mostly waiting)."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cases = [
            (["token", "nobody@nowhere.test"], {}, "nobody@nowhere.test"),
            (["bootstrap", "--org", "Acme", "--admin-email", "nope"], {}, "not an email address"),
            (["token", "a@b.test"], {"data_dir": blocker / "data"}, "data directory"),
            (["token", "a@b.test"], UNREACHABLE, "cannot use MongoDB at mongodb://user:***@"),
            (["serve", "--port", "0"], UNREACHABLE, "cannot use MongoDB at mongodb://user:***@"),
            (["token", "a@b.test"], {"MONGODB_URI": "http://example"}, "MONGODB_URI"),
            (["serve", "--port", str(port)], {}, f"port {port} on 127.0.0.1 is already in use"),
            (["serve", "--demo", "--demo-staff", "x"], {}, "--demo-staff='x': expected a whole"),
        ]

        def run(index: int) -> subprocess.CompletedProcess[str]:
            command, extra = cases[index][:2]
            own = tmp_path / f"case{index}"
            own.mkdir()
            return credgraph(*command, **{"data_dir": own, **extra})

        with ThreadPoolExecutor(len(cases)) as pool:
            results = list(pool.map(run, range(len(cases))))
    for (command, _, fragment), result in zip(cases, results, strict=True):
        assert_one_line_failure(result, fragment)
        assert "hunter2" not in result.stderr, command
    assert processes_using(tmp_path) == [], "a failed command leaves no database running"


def test_serve_demo_loads_once_shares_its_database_stops_cleanly_and_keeps_data(tmp_path):
    data_dir = tmp_path / "data"
    server = Server(data_dir, "--demo", "--demo-staff", "8")
    try:
        assert "(loaded)" in server.wait_for(server.stdout, "Demo organization")
        admin_token = server.wait_for(server.stdout, "token:").split()[-1]
        learner_token = server.wait_for(server.stdout, "token:").split()[-1]
        assert "headers=" in server.wait_for(server.stdout, "/graphql?headers=")
        server.wait_until_healthy()
        assert server.me(admin_token)["data"]["me"]["role"] == "ADMIN"
        assert server.me(learner_token)["data"]["me"]["organization"]["name"] == "Northwind Health"
        assert server.me("garbage")["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        database = set(processes_using(data_dir)) - {server.process.pid}  # it and its keeper
        assert len(database) == 2

        # Another process reaches the same database and leaves it running.
        token = credgraph("token", "lee.learner@northwind.example", data_dir=data_dir)
        assert token.returncode == 0, token.stderr
        assert server.me(token.stdout.strip())["data"]["me"]["role"] == "LEARNER"
        assert database <= set(processes_using(data_dir))
    finally:
        code = server.stop(signal.SIGTERM)
    assert code == 0
    assert processes_using(data_dir) == [], "no database process may outlive the server"

    again = Server(data_dir, "--demo")
    try:
        assert "(already loaded)" in again.wait_for(again.stdout, "Demo organization")
        again.wait_until_healthy()
        body = again.me(admin_token)
        assert body["data"]["me"]["email"] == "ada.admin@northwind.example", body
        token = credgraph("token", "ada.admin@northwind.example", data_dir=data_dir)
        assert token.returncode == 0, "one demo organization, so the email is unambiguous"
    finally:
        code = again.stop(signal.SIGINT)
    assert code in (0, 130)
    assert processes_using(data_dir) == []


async def test_served_connections_send_small_answers_at_once():
    """`serve`'s listening socket names TCP, so asyncio turns Nagle's algorithm off on each
    connection: an answer's body does not wait for the client's delayed ACK (~40 ms)."""
    accepted: asyncio.Queue[int] = asyncio.Queue()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        await accepted.put(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    listening = cli._bind("127.0.0.1", 0)
    server = await asyncio.start_server(handle, sock=listening)
    async with server:
        _, writer = await asyncio.open_connection(*listening.getsockname()[:2])
        assert await asyncio.wait_for(accepted.get(), 5) == 1
        writer.close()
