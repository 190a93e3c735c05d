"""A mutation's writes are one change of its organization: the data version advances once when
the mutation is done — however many documents it wrote, and however it ended — rather than
after each write, so a mutation costs one advance and its cached answers go stale together;
the letters its writes carried (audit and feed events) are copied out together
(`store.outbox`), and its feed events then take their places in the feed (`store.feed`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from store import feed, organizations, outbox
from store.database import Database
from store.errors import StoreError

log = logging.getLogger(__name__)


REPAIR_EVERY = 30.0  # seconds between repairs in a running process


async def repair(db: Database) -> int:
    """Copy out the letters a process died before copying, and number the feed events still
    waiting (at start-up, and every `REPAIR_EVERY` seconds); how many letters were waiting."""
    copied = await outbox.repair(db)
    for org_id in sorted({str(doc["orgId"]) for doc in copied}):  # answers on them go stale
        await organizations.touch(db, id=org_id)
    await sequenced(db, await feed.waiting_organizations(db))
    return len(copied)


async def run(db: Database, *, every: float) -> None:
    """Repair every `every` seconds, in every process, whatever else it is set to do: a
    process that died leaves letters that a running one must copy, not only the next start."""
    while True:
        await asyncio.sleep(every)
        try:
            await repair(db)
        except StoreError as error:
            log.warning("repair: %s", error)


async def sequenced(db: Database, org_ids: Iterable[str]) -> None:
    """Append the organizations' waiting feed events to their feeds. One not appended now (the
    database failing) waits in the outbox for the scheduler's next tick; no write fails for it."""
    for org_id in sorted(set(org_ids)):
        try:
            await feed.sequence(db, org_id=org_id)
        except StoreError as error:
            log.warning("feed events of %s not appended yet: %s", org_id, error)


@asynccontextmanager
async def one_change(db: Database) -> AsyncIterator[None]:
    sent: list[dict[str, object]] = []
    try:
        async with organizations.changes_held(db), outbox.held(db) as sent:
            yield
    finally:
        fed = {str(doc["orgId"]) for doc in sent if doc["box"] == feed.FeedEvent.box}
        await sequenced(db, fed)
