"""The connection: one `AsyncMongoClient` per process, opened by the app lifespan or the CLI."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

import pymongo
from bson.codec_options import CodecOptions
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConfigurationError, PyMongoError

from store import embedded
from store.errors import StoreError, Unavailable, translate
from store.indexes import ensure_indexes
from store.metrics import CommandMetrics

DEFAULT_DATABASE = "credgraph"


@dataclass(frozen=True, eq=False)  # one per connection, known by identity (`store.scopes`)
class Database:
    """What the store's functions take as their first argument."""

    client: AsyncMongoClient
    db: AsyncDatabase
    timeout: float = 3.0  # seconds: what bounds every operation

    async def ping(self, *, seconds: float | None = None) -> None:
        """Raise `Unavailable` unless the server answers within `seconds`."""
        try:
            with pymongo.timeout(seconds):
                await self.db.command("ping")
        except PyMongoError as error:
            raise Unavailable(f"the database did not answer a ping: {_short(error)}") from error


@asynccontextmanager
async def connect(
    uri: str,
    *,
    database: str | None = None,
    seconds: float = 3.0,
    listeners: Sequence[monitoring._EventListener] = (),
    create_indexes: bool = True,
) -> AsyncIterator[Database]:
    """Open a client, check the server answers, make sure the indexes exist, and close on exit.

    `seconds` bounds server selection and every operation (client-side operation timeout), so a
    dead database turns into a prompt `Unavailable` instead of a hung request.
    """
    try:
        client: AsyncMongoClient = AsyncMongoClient(
            uri,
            tz_aware=True,
            tzinfo=UTC,
            serverSelectionTimeoutMS=int(seconds * 1000),
            connectTimeoutMS=int(seconds * 1000),
            timeoutMS=int(seconds * 1000),
            event_listeners=[CommandMetrics(), *listeners],
            appname="credgraph",
        )
    except ConfigurationError as error:
        raise StoreError(f"invalid MONGODB_URI: {error}") from error
    try:
        name = database or client.get_default_database(DEFAULT_DATABASE).name
        handle = Database(
            client=client,
            db=client.get_database(name, codec_options=CodecOptions(tz_aware=True, tzinfo=UTC)),
            timeout=seconds,
        )
        await handle.ping()
        if create_indexes:
            try:
                await ensure_indexes(handle.db)
            except PyMongoError as error:
                raise translate(error) from error
        yield handle
    finally:
        await client.close()


@asynccontextmanager
async def open_database(
    uri: str | None,
    *,
    data_dir: Path,
    database: str | None = None,
    seconds: float = 3.0,
    listeners: Sequence[monitoring._EventListener] = (),
    durable: bool = True,
    supervised: bool = False,
) -> AsyncIterator[Database]:
    """`connect` to `uri`, or with no URI to the data directory's embedded database.

    This process joins the embedded database's members (starting it if none runs) and leaves
    on exit; the last member out stops it. `supervised`, it also restarts the database
    whenever it is gone (a long-running server should).
    """
    server = None
    if uri is None:
        server = await asyncio.to_thread(embedded.acquire, data_dir, durable=durable)
        if supervised:
            embedded.supervise(server)
        uri = server.uri
    try:
        async with connect(uri, database=database, seconds=seconds, listeners=listeners) as db:
            yield db
    finally:
        if server is not None:
            await asyncio.to_thread(server.stop)


def _short(error: PyMongoError) -> str:
    """The first line of a driver message, without the topology dump server selection appends."""
    return str(error).split(", Timeout:")[0].split("\n")[0]
