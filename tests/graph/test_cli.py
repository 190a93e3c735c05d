"""The `credgraph` command as a user runs it: real subprocesses, the embedded database."""

from __future__ import annotations

import asyncio
import signal
import socket

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


def test_help_describes_every_command(tmp_path):
    result = credgraph("--help", data_dir=tmp_path)
    assert result.returncode == 0
    for command in ("serve", "bootstrap", "token"):
        assert command in result.stdout
    for command, option in (
        ("serve", "--demo"),
        ("bootstrap", "--admin-email"),
        ("token", "EMAIL"),
    ):
        result = credgraph(command, "--help", data_dir=tmp_path)
        assert result.returncode == 0
        assert option in result.stdout


def test_bootstrap_then_token_print_working_tokens_alone(tmp_path):
    data_dir = tmp_path / "data"
    boot = credgraph(
        "bootstrap", "--org", "Acme", "--admin-email", "Boss@Acme.test", data_dir=data_dir
    )
    assert boot.returncode == 0, boot.stderr
    assert JWT.fullmatch(boot.stdout.strip())
    assert "Acme" in boot.stderr

    fresh = credgraph("token", "boss@acme.test", data_dir=data_dir)
    assert fresh.returncode == 0, fresh.stderr
    assert JWT.fullmatch(fresh.stdout.strip())
    assert fresh.stderr == ""

    secret = (data_dir / "secret").read_text().strip()
    for printed in (boot.stdout, fresh.stdout):
        claims = tokens.verify(printed.strip(), secret=secret, now=SystemClock().now())
        assert claims.org_id
    assert processes_using(data_dir) == [], "a CLI command must stop the database it started"


def test_bootstrap_twice_fails_cleanly(tmp_path):
    credgraph("bootstrap", "--org", "Acme", "--admin-email", "a@acme.test", data_dir=tmp_path)
    again = credgraph(
        "bootstrap", "--org", "Acme", "--admin-email", "b@acme.test", data_dir=tmp_path
    )
    assert_one_line_failure(again, "already exists")


def test_token_for_unknown_email_fails_cleanly(tmp_path):
    assert_one_line_failure(
        credgraph("token", "nobody@nowhere.test", data_dir=tmp_path), "nobody@nowhere.test"
    )


def test_bootstrap_with_an_invalid_email_fails_cleanly(tmp_path):
    result = credgraph("bootstrap", "--org", "Acme", "--admin-email", "nope", data_dir=tmp_path)
    assert_one_line_failure(result, "not an email address")


def test_unusable_data_dir_fails_cleanly(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = credgraph("token", "a@b.test", data_dir=blocker / "data")
    assert_one_line_failure(result, "data directory")


@pytest.mark.parametrize("command", [["token", "a@b.test"], ["serve", "--port", "0"]])
def test_unreachable_mongodb_fails_cleanly(tmp_path, command):
    result = credgraph(
        *command,
        data_dir=tmp_path,
        MONGODB_URI="mongodb://user:hunter2@127.0.0.1:9/?directConnection=true",
        CREDGRAPH_DB_TIMEOUT="1s",
    )
    assert_one_line_failure(result, "cannot use MongoDB at mongodb://user:***@127.0.0.1:9")
    assert "hunter2" not in result.stderr


def test_invalid_mongodb_uri_fails_cleanly(tmp_path):
    result = credgraph("token", "a@b.test", data_dir=tmp_path, MONGODB_URI="http://example")
    assert_one_line_failure(result, "MONGODB_URI")


def test_port_in_use_fails_cleanly(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = credgraph("serve", "--port", str(port), data_dir=tmp_path)
    assert_one_line_failure(result, f"port {port} on 127.0.0.1 is already in use")
    assert processes_using(tmp_path) == []


def test_serve_demo_shares_its_database_stops_cleanly_and_keeps_data(tmp_path):
    data_dir = tmp_path / "data"
    server = Server(data_dir, "--demo")
    try:
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

    again = Server(data_dir)
    try:
        again.wait_until_healthy()
        body = again.me(admin_token)
        assert body["data"]["me"]["email"] == "ada.admin@northwind.example", body
    finally:
        code = again.stop(signal.SIGINT)
    assert code in (0, 130)
    assert processes_using(data_dir) == []


def test_demo_loads_only_once(tmp_path):
    data_dir = tmp_path / "data"
    for expected in ("(loaded)", "(already loaded)"):
        server = Server(data_dir, "--demo")
        try:
            assert expected in server.wait_for(server.stdout, "Demo organization")
        finally:
            server.stop()
    token = credgraph("token", "ada.admin@northwind.example", data_dir=data_dir)
    assert token.returncode == 0, "one demo organization, so the email is unambiguous"


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
