"""One SecantusDB process per test session (or `MONGODB_URI`), a fresh database per test."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pymongo import monitoring
from starlette.applications import Starlette

from graph.app import create_app
from graph.settings import Settings
from resolvers import api_tokens, tokens, users
from resolvers.auth import Caller
from resolvers.clock import Clock, FrozenClock
from store import embedded
from store.api_tokens import Scope
from store.database import Database
from store.users import Role, User
from tests.helpers import PLAYERS

START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
SECRET = "test-secret-that-is-long-enough-for-hs256-keys"
MAX_DOCUMENT = 256 * 1024


@pytest.fixture(scope="session")
def mongodb_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if uri := os.environ.get("MONGODB_URI"):
        yield uri
        return
    server = embedded.acquire(tmp_path_factory.mktemp("secantus"), durable=False)
    yield server.uri
    server.stop()


class CommandCounter(monitoring.CommandListener):
    """Counts the commands each test's database receives: the round trips of a request."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.targets: list[tuple[str, str]] = []  # (command, collection)
        self.finds: list[dict] = []  # every find sent, whole: what `explain` is asked about
        self.database: str | None = None

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.database_name == self.database:
            self.names.append(event.command_name)
            self.targets.append((event.command_name, str(event.command[event.command_name])))
            if event.command_name == "find":
                self.finds.append(dict(event.command))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.fixture
def settings(mongodb_uri: str, tmp_path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        secret=SECRET,
        mongodb_uri=mongodb_uri,
        database=f"test_{uuid.uuid4().hex[:16]}",
        max_document=MAX_DOCUMENT,
        reminder_every=0,  # reminders are sent when a test says (`tests/graph/test_reminders.py`)
        webhook_every=0,  # webhooks too (`tests/graph/test_webhooks.py`)
    )


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def commands(settings: Settings) -> CommandCounter:
    counter = CommandCounter()
    counter.database = settings.database
    return counter


@pytest.fixture
async def app(
    settings: Settings, clock: FrozenClock, commands: CommandCounter
) -> AsyncIterator[Starlette]:
    app = create_app(settings, clock=clock, listeners=[commands])
    async with app.router.lifespan_context(app):
        await app.state.repair  # the start-up reconciliation, so tests count only their own work
        yield app
        database: Database = app.state.database
        await database.client.drop_database(database.db.name)


@pytest.fixture
def db(app: Starlette) -> Database:
    return app.state.database


@dataclass
class Started:
    """Another app, started (its start-up repair done), and a client talking to it."""

    app: Starlette
    http: httpx.AsyncClient

    @property
    def db(self) -> Database:
        return self.app.state.database


StartApp = Callable[..., AbstractAsyncContextManager[Started]]


@pytest.fixture
def start_app(settings: Settings, clock: FrozenClock) -> StartApp:
    """`async with start_app(public_url=...) as started:` — an app over the test's database with
    some settings overridden (or other `settings`, and another `clock`), as a restart or a
    differently configured server would be."""

    @asynccontextmanager
    async def start(
        base: Settings | None = None,
        *,
        clock: Clock = clock,
        base_url: str = "http://credgraph.test",
        **overrides: Any,
    ) -> AsyncIterator[Started]:
        app = create_app(replace(base or settings, **overrides), clock=clock)
        async with app.router.lifespan_context(app):
            await app.state.repair
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=base_url) as http:
                yield Started(app, http)

    return start


@dataclass
class Api:
    """The GraphQL endpoint through the real ASGI app."""

    http: httpx.AsyncClient

    async def call(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def upload(
        self,
        query: str,
        variables: dict[str, Any],
        files: dict[str, tuple[str, bytes, str]],
        *,
        token: str,
    ) -> dict[str, Any]:
        """A GraphQL multipart request: `files` maps a variable path to (name, bytes, type)."""
        names = {str(i): path for i, path in enumerate(files)}
        response = await self.http.post(
            "/graphql",
            data={
                "operations": json.dumps({"query": query, "variables": variables}),
                "map": json.dumps({key: [path] for key, path in names.items()}),
            },
            files={key: files[path] for key, path in names.items()},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        """The `data` of a call that must not fail."""
        body = await self.call(query, variables, token=token)
        assert "errors" not in body, body["errors"]
        return body["data"]


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://credgraph.test") as client:
        yield client


@pytest.fixture
def api(http: httpx.AsyncClient) -> Api:
    return Api(http)


@dataclass
class Org:
    """A bootstrapped organization with an administrator and two learners, and their tokens;
    and its course player's API token (`player`), which reports the learners' progress."""

    id: str
    admin: User
    learner: User
    other_learner: User
    settings: Settings
    clock: FrozenClock
    player: str

    @property
    def as_admin(self) -> Caller:
        """The administrator, for the few fixtures that build data below the API."""
        return Caller.person(self.admin)

    def token(self, user: User) -> str:
        return tokens.issue(
            user, secret=self.settings.secret, ttl=self.settings.token_ttl, now=self.clock.now()
        )


async def make_org(db: Database, settings: Settings, clock: FrozenClock, name: str) -> Org:
    slug = name.lower().replace(" ", "")
    org, admin = await users.bootstrap(
        db, org_name=name, admin_email=f"admin@{slug}.test", admin_name="Ada Admin", now=clock.now()
    )
    boss = Caller.person(admin)
    learner = await users.create_user(
        db, boss, email=f"lee@{slug}.test", name="Lee Learner", role=Role.LEARNER, now=clock.now()
    )
    other = await users.create_user(
        db, boss, email=f"olu@{slug}.test", name="Olu Other", role=Role.LEARNER, now=clock.now()
    )
    _, player = await api_tokens.create_api_token(
        db, boss, name="Course player", scopes=[Scope.COURSE_PLAYER], expires_at=None,
        now=clock.now(),
    )  # fmt: skip
    PLAYERS[org.id] = player
    return Org(org.id, admin, learner, other, settings, clock, player)


@pytest.fixture
async def org(db: Database, settings: Settings, clock: FrozenClock) -> Org:
    return await make_org(db, settings, clock, "Acme Health")


@pytest.fixture
async def foreign_org(db: Database, settings: Settings, clock: FrozenClock) -> Org:
    return await make_org(db, settings, clock, "Other Clinic")
