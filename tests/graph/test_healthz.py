from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest

from resolvers import tokens, users
from resolvers.clock import SystemClock
from store import embedded
from tests.conftest import SECRET


async def test_healthz_is_ok_when_the_database_answers(http):
    response = await http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def kill(server) -> None:
    os.kill(server.pid, signal.SIGKILL)
    for _ in range(500):  # polled: the database is not our child, nothing to wait on
        if not server.alive():
            return
        await asyncio.sleep(0.02)


@pytest.fixture
def doomed_database(tmp_path):
    """A database of its own, so the test can kill it without harming the session's."""
    server = embedded.acquire(tmp_path / "doomed", durable=True)
    yield server
    server.stop()  # whichever database the data directory now has, if any
    assert not server.alive()


async def test_database_death_is_reported_and_requests_fail_fast(
    doomed_database, settings, start_app
):
    clock = SystemClock()
    doomed = start_app(mongodb_uri=doomed_database.uri, db_timeout=1.0, clock=clock)
    async with doomed as started:
        _, admin = await users.bootstrap(
            started.db, org_name="Doomed", admin_email="a@doomed.test", admin_name="A",
            now=clock.now(),
        )  # fmt: skip
        token = tokens.issue(admin, secret=SECRET, ttl=settings.token_ttl, now=clock.now())
        http = started.http
        assert (await http.get("/healthz")).status_code == 200

        await kill(doomed_database)

        began = time.monotonic()
        health = await http.get("/healthz")
        assert health.status_code == 503
        assert health.json() == {"status": "unavailable", "database": "unavailable"}

        response = await http.post(
            "/graphql",
            json={"query": "{ me { email } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
        elapsed = time.monotonic() - began
        assert response.status_code == 503
        assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert "Traceback" not in response.text
        assert elapsed < 10, "a dead database must fail requests within the timeouts"


async def test_the_server_recovers_by_itself_when_the_database_returns(
    doomed_database, settings, start_app
):
    clock = SystemClock()
    doomed = start_app(mongodb_uri=doomed_database.uri, db_timeout=1.0, clock=clock)
    async with doomed as started:
        _, admin = await users.bootstrap(
            started.db, org_name="Phoenix", admin_email="a@phoenix.test", admin_name="A",
            now=clock.now(),
        )  # fmt: skip
        token = tokens.issue(admin, secret=SECRET, ttl=settings.token_ttl, now=clock.now())
        headers = {"Authorization": f"Bearer {token}"}
        http = started.http
        await kill(doomed_database)
        assert (await http.get("/healthz")).status_code == 503

        embedded.supervise(doomed_database, every=0.1)  # brings it back on the same port
        for _ in range(300):
            if (await http.get("/healthz")).status_code == 200:
                break
            await asyncio.sleep(0.1)
        response = await http.post("/graphql", json={"query": "{ me { email } }"}, headers=headers)
        assert response.json() == {"data": {"me": {"email": "a@phoenix.test"}}}
