"""The embedded SecantusDB's lifecycle: start, reuse, clean stop, data kept across restarts."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from pymongo import MongoClient

from store import embedded


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


def test_start_records_the_address_and_stop_removes_it(data_dir):
    server = embedded.acquire(data_dir)
    try:
        recorded = json.loads((data_dir / embedded.ADDRESS_FILE).read_text())
        assert recorded["pid"] == server.pid
        assert recorded["ownerPid"] == os.getpid()
        assert server.owner
        assert server.alive()
    finally:
        server.stop()
    assert not server.alive()
    assert not (data_dir / embedded.ADDRESS_FILE).exists()


def test_a_second_user_attaches_and_only_the_starter_stops(data_dir):
    first = embedded.acquire(data_dir)
    try:
        second = embedded.acquire(data_dir)
        assert second.pid == first.pid
        assert second.uri == first.uri
        assert not second.owner
        second.stop()
        assert first.alive(), "an attached process must not stop the database"
    finally:
        first.stop()
    assert not first.alive()


def test_data_survives_a_restart(data_dir):
    server = embedded.acquire(data_dir)
    with MongoClient(server.uri) as client:
        client.keep.things.insert_one({"_id": "kept", "n": 1})
    server.stop()

    again = embedded.acquire(data_dir)
    try:
        assert again.pid != server.pid
        with MongoClient(again.uri) as client:
            assert client.keep.things.find_one({"_id": "kept"}) == {"_id": "kept", "n": 1}
    finally:
        again.stop()


def test_a_stale_address_file_is_ignored(data_dir):
    data_dir.mkdir(parents=True)
    (data_dir / embedded.ADDRESS_FILE).write_text(
        json.dumps({"pid": 2**22 + 12345, "port": 9, "ownerPid": 2**22 + 12346})
    )
    server = embedded.acquire(data_dir)
    try:
        assert server.owner
        assert server.alive()
        assert json.loads((data_dir / embedded.ADDRESS_FILE).read_text())["pid"] == server.pid
    finally:
        server.stop()


def test_a_corrupt_address_file_is_ignored(data_dir):
    data_dir.mkdir(parents=True)
    (data_dir / embedded.ADDRESS_FILE).write_text("{not json")
    server = embedded.acquire(data_dir)
    try:
        assert server.owner
        assert server.alive()
    finally:
        server.stop()


def test_a_supervised_database_that_dies_is_restarted_on_its_port(data_dir):
    server = embedded.acquire(data_dir)
    embedded.supervise(server, every=0.1)
    first_pid = server.pid
    try:
        os.kill(first_pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (server.pid != first_pid and server.alive()):
            time.sleep(0.1)
        assert server.pid != first_pid
        assert server.alive()
        with MongoClient(server.uri, serverSelectionTimeoutMS=10_000) as client:
            client.keep.things.insert_one({"_id": "after"})
            assert client.keep.things.find_one({"_id": "after"}) == {"_id": "after"}
    finally:
        server.stop()
    assert not server.alive()
    time.sleep(0.5)
    assert not server.alive(), "a stopped database stays stopped"
