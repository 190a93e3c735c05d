"""More than one process on one data directory: two servers, workers, and the death of
whichever process holds the embedded database — nothing stranded, nothing left behind, no
acknowledged write lost."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time

import httpx

from store import embedded
from tests.servers import (
    Server,
    alive,
    children_of,
    credgraph,
    environment,
    free_port,
    processes_using,
    wait_until_healthy,
)

CREATE_LABEL = (
    'mutation { createLabel(input: {name: "Kept"}) { label { id } userErrors { code } } }'
)
LABELS = "{ labels { name } }"


def answers_again(server: Server, token: str, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if "data" in server.post(token, "{ me { email } }").json():
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    return False


def keeper_of(data_dir) -> dict[str, int]:
    return json.loads((data_dir / embedded.ADDRESS_FILE).read_text())


def bootstrap(data_dir) -> str:
    boot = credgraph("bootstrap", "--org", "Two", "--admin-email", "a@two.test", data_dir=data_dir)
    assert boot.returncode == 0, boot.stderr
    return boot.stdout.strip()


def test_two_servers_share_a_database_and_outlive_each_other(tmp_path):
    data_dir = tmp_path / "data"
    first = Server(data_dir)
    second = Server(data_dir)
    try:
        first.wait_until_healthy()
        second.wait_until_healthy()
        token = bootstrap(data_dir)
        assert first.stop() == 0
        assert "data" in second.post(token, "{ me { email } }").json(), "the second server goes on"

        os.kill(keeper_of(data_dir)["keeper"], signal.SIGKILL)  # the database's owner dies
        assert answers_again(second, token), "the second server restarts it and reconnects"
    finally:
        second.stop()
    assert processes_using(data_dir) == []


def test_workers_survive_the_death_of_the_database_owner(tmp_path):
    data_dir = tmp_path / "data"
    server = Server(data_dir, "--workers", "2")
    try:
        server.wait_until_healthy()
        token = bootstrap(data_dir)
        assert server.post(token, "{ me { email } }").json()["data"]["me"]["email"] == "a@two.test"
        os.kill(keeper_of(data_dir)["keeper"], signal.SIGKILL)
        assert answers_again(server, token)
        for _ in range(10):  # every worker reconnected, whichever answers
            assert "data" in server.post(token, "{ me { email } }").json()
    finally:
        assert server.stop() == 0
    assert processes_using(data_dir) == []


def test_workers_stop_when_their_server_is_killed(tmp_path):
    data_dir = tmp_path / "data"
    server = Server(data_dir, "--workers", "2")
    server.wait_until_healthy()
    workers = children_of(server.process.pid)
    assert len(workers) >= 2
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    deadline = time.monotonic() + 30
    while (processes_using(data_dir) or any(map(alive, workers))) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(map(alive, workers)), "no worker serves on as an orphan"
    assert processes_using(data_dir) == [], "and with them the database goes"


def test_kill_9_of_everything_loses_no_acknowledged_write(tmp_path):
    data_dir = tmp_path / "data"
    server = Server(data_dir, "--workers", "2")
    try:
        server.wait_until_healthy()
        token = bootstrap(data_dir)
        made = server.post(token, CREATE_LABEL).json()["data"]["createLabel"]
        assert made["userErrors"] == []
    finally:
        everything = [server.process.pid, *children_of(server.process.pid)]
        deadline = time.monotonic() + 10
        while everything and time.monotonic() < deadline:  # workers, keeper, database
            for pid in everything:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.1)  # SIGKILL is delivered, not awaited: a dying process lingers
            everything = [pid for pid in everything if alive(pid)] + processes_using(data_dir)
        server.process.wait()
    assert processes_using(data_dir) == []

    again = Server(data_dir)
    try:
        again.wait_until_healthy()
        assert again.post(token, LABELS).json()["data"]["labels"] == [{"name": "Kept"}]
    finally:
        again.stop()
    assert processes_using(data_dir) == []


def test_the_documented_factory_serves_under_plain_uvicorn_with_workers(tmp_path):
    data_dir = tmp_path / "data"
    port = free_port()
    uvicorn = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "graph.app:from_environment",
         "--port", str(port), "--workers", "2"],
        env=environment(data_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_healthy(url)
        token = bootstrap(data_dir)
        for _ in range(6):
            answer = httpx.post(
                f"{url}/graphql",
                json={"query": "{ me { email } }"},
                headers={"Authorization": f"Bearer {token}"},
            ).json()
            assert answer == {"data": {"me": {"email": "a@two.test"}}}
    finally:
        uvicorn.send_signal(signal.SIGTERM)
        assert uvicorn.wait(timeout=30) == 0
    deadline = time.monotonic() + 15
    while processes_using(data_dir) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_using(data_dir) == []
