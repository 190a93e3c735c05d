"""The embedded SecantusDB's lifecycle: members, its keeper, restarts, and nothing left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from prometheus_client import REGISTRY
from pymongo import MongoClient

from store import embedded


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


def wait_until(condition, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def member(data_dir, *then: str) -> subprocess.Popen:
    """Another process joining the data directory's database, then sleeping."""
    code = (
        "import sys, time; from pathlib import Path; from store import embedded; "
        f"s = embedded.acquire(Path({str(data_dir)!r}), durable=True); "
        "print(s.port, flush=True); " + ("".join(then) or "time.sleep(600)")
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=os.getcwd()
    )
    process.stdout.readline()
    return process


def test_the_address_is_recorded_and_the_last_member_out_stops_it(data_dir):
    server = embedded.acquire(data_dir, durable=False)
    recorded = json.loads((data_dir / embedded.ADDRESS_FILE).read_text())
    assert recorded["pid"] == server.pid
    assert server.alive()
    server.stop()
    assert not server.alive()
    assert not (data_dir / embedded.ADDRESS_FILE).exists()


def test_a_member_leaving_leaves_the_database_to_the_others(data_dir):
    first = embedded.acquire(data_dir, durable=False)
    second = member(data_dir)
    try:
        first.stop()
        assert first.alive(), "another member still uses it"
        with MongoClient(first.uri, serverSelectionTimeoutMS=5_000) as client:
            client.keep.things.insert_one({"_id": "still"})
    finally:
        second.kill()
        second.wait()
    assert wait_until(lambda: not first.alive()), "nobody left: the keeper stops it"


def test_members_killed_outright_leave_no_database_behind(data_dir):
    """kill -9 of every member: the keeper notices and stops the database."""
    holder = member(data_dir)
    recorded = json.loads((data_dir / embedded.ADDRESS_FILE).read_text())
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert wait_until(lambda: not embedded._pid_alive(recorded["pid"]))
    assert wait_until(lambda: not embedded._pid_alive(recorded["keeper"]))


def test_a_killed_keeper_takes_its_database_with_it_and_a_member_restarts_both(data_dir):
    server = embedded.acquire(data_dir, durable=True)
    embedded.supervise(server, every=0.1)
    try:
        with MongoClient(server.uri) as client:
            client.keep.things.insert_one({"_id": "before"})
        recorded = json.loads((data_dir / embedded.ADDRESS_FILE).read_text())
        os.kill(recorded["keeper"], signal.SIGKILL)
        assert wait_until(lambda: not embedded._pid_alive(recorded["pid"])), "no orphan"
        assert wait_until(lambda: server.pid != recorded["pid"] and server.alive())
        with MongoClient(server.uri, serverSelectionTimeoutMS=10_000) as client:
            assert client.keep.things.find_one({"_id": "before"}) == {"_id": "before"}
    finally:
        server.stop()


def test_everything_killed_outright_loses_no_acknowledged_write(data_dir):
    """The default is durable: kill -9 of the database itself, and the write is there."""
    server = embedded.acquire(data_dir, durable=True)
    with MongoClient(server.uri) as client:
        client.keep.things.insert_one({"_id": "acknowledged"})
    recorded = json.loads((data_dir / embedded.ADDRESS_FILE).read_text())
    os.kill(recorded["pid"], signal.SIGKILL)
    os.kill(recorded["keeper"], signal.SIGKILL)
    server.stop()
    again = embedded.acquire(data_dir, durable=True)
    try:
        with MongoClient(again.uri) as client:
            assert client.keep.things.find_one({"_id": "acknowledged"}) is not None
    finally:
        again.stop()


def test_data_survives_a_restart(data_dir):
    server = embedded.acquire(data_dir, durable=False)
    with MongoClient(server.uri) as client:
        client.keep.things.insert_one({"_id": "kept", "n": 1})
    server.stop()
    again = embedded.acquire(data_dir, durable=False)
    try:
        assert again.pid != server.pid
        with MongoClient(again.uri) as client:
            assert client.keep.things.find_one({"_id": "kept"}) == {"_id": "kept", "n": 1}
    finally:
        again.stop()


@pytest.mark.parametrize("content", ['{"pid": 4194304, "port": 9, "keeper": 4194305}', "{not json"])
def test_a_stale_or_corrupt_address_file_is_ignored(data_dir, content):
    data_dir.mkdir(parents=True)
    (data_dir / embedded.ADDRESS_FILE).write_text(content)
    server = embedded.acquire(data_dir, durable=False)
    try:
        assert server.alive()
        assert json.loads((data_dir / embedded.ADDRESS_FILE).read_text())["pid"] == server.pid
    finally:
        server.stop()


def test_a_database_that_dies_is_restarted_on_its_port(data_dir):
    server = embedded.acquire(data_dir, durable=False)
    embedded.supervise(server, every=0.1)
    first_pid, port = server.pid, server.port
    restarts = REGISTRY.get_sample_value("credgraph_embedded_restarts_total")
    try:
        os.kill(first_pid, signal.SIGKILL)
        assert wait_until(lambda: server.pid != first_pid and server.alive(), 30)
        assert server.port == port
        assert REGISTRY.get_sample_value("credgraph_embedded_restarts_total") == restarts + 1
        with MongoClient(server.uri, serverSelectionTimeoutMS=10_000) as client:
            client.keep.things.insert_one({"_id": "after"})
    finally:
        server.stop()
    assert not server.alive()
    time.sleep(0.5)
    assert not server.alive(), "a stopped database stays stopped"
