"""A mutation's writes are one change of its organization: the data version advances once when
the mutation is done — however many documents it wrote, and however it ended — rather than
after each write, so a mutation costs one advance and its cached answers go stale together;
and the letters its writes carried (audit and feed events) are copied out together
(`store.outbox`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from store import organizations, outbox
from store.database import Database


async def repair(db: Database) -> int:
    """Copy out the letters a process died before copying (at start-up, and on every scheduler
    tick); how many were waiting."""
    copied = await outbox.repair(db)
    for org_id in sorted({str(doc["orgId"]) for doc in copied}):  # answers on them go stale
        await organizations.touch(db, id=org_id)
    return len(copied)


@asynccontextmanager
async def one_change(db: Database) -> AsyncIterator[None]:
    async with organizations.changes_held(db), outbox.held(db):
        yield
