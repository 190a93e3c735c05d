"""A mutation's writes are one change of its organization: the data version advances once when
the mutation is done — however many documents it wrote, and however it ended — rather than
after each write, so a mutation costs one advance and its cached answers go stale together;
and the audit events its writes carried are copied to the log together (`store.audit`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from store import audit, organizations
from store.database import Database


@asynccontextmanager
async def one_change(db: Database) -> AsyncIterator[None]:
    async with organizations.changes_held(db), audit.held(db):
        yield
