"""The `statusEntries` and `statusCounters` collections: each exported cycle's place in its
organization's Bitstring Status Lists.

An index is given once per cycle and never to two cycles: a block of fresh indexes is taken
from the organization's counter by one atomic `$inc`, and each cycle's entry is inserted under
unique keys on (organization, cycle) and (organization, index). A cycle two requests place at
once keeps the first entry stored; the other request's index stays unused (its bit is never
set). Only the place is stored: whether its bit is set is decided when the list is read.

These are bookkeeping, not the organization's data: placing a cycle changes no answer already
given, so it leaves the organization's data version alone.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError, DuplicateKeyError

from store.database import Database
from store.errors import StoreError, boundary
from store.ids import oid, oids

DUPLICATE_KEY = 11000


@boundary
async def indexes_of(db: Database, *, org_id: str, cycle_ids: Sequence[str]) -> dict[str, int]:
    """The cycles' indexes, for those that have one."""
    cursor = db.db.statusEntries.find(
        {"orgId": oid(org_id), "assignmentId": {"$in": oids(cycle_ids)}},
        {"assignmentId": 1, "index": 1},
    )
    return {str(doc["assignmentId"]): doc["index"] async for doc in cursor}


@boundary
async def place(db: Database, *, org_id: str, cycle_ids: Sequence[str]) -> dict[str, int]:
    """Give each cycle without an index a fresh one; every cycle's index."""
    found = await indexes_of(db, org_id=org_id, cycle_ids=cycle_ids)
    missing = [c for c in dict.fromkeys(cycle_ids) if c not in found]
    if not missing:
        return found
    first = await _block(db, org_id, len(missing))
    entries = [
        {"orgId": oid(org_id), "assignmentId": oid(cycle), "index": first + i}
        for i, cycle in enumerate(missing)
    ]
    try:
        await db.db.statusEntries.insert_many(entries, ordered=False)
    except BulkWriteError as error:  # placed meanwhile by another request: theirs stands
        if any(e.get("code") != DUPLICATE_KEY for e in error.details["writeErrors"]):
            raise
        return {**found, **await indexes_of(db, org_id=org_id, cycle_ids=missing)}
    return {**found, **{cycle: first + i for i, cycle in enumerate(missing)}}


async def _block(db: Database, org_id: str, size: int) -> int:
    """The first of `size` fresh indexes, taken from the organization's counter at once.

    The counter is created apart (a racing creator's duplicate ignored) and only then counted
    on, never by an upserting `find_one_and_update`: SecantusDB (0.7.0b3) applies such an
    upsert racing another yet may answer None, and the block it took would be unknown."""
    for _ in range(2):
        counter = await db.db.statusCounters.find_one_and_update(
            {"_id": oid(org_id)}, {"$inc": {"next": size}}, return_document=ReturnDocument.AFTER
        )
        if counter is not None:
            return int(counter["next"]) - size
        with contextlib.suppress(DuplicateKeyError):  # another request created it first
            await db.db.statusCounters.insert_one(
                {"_id": oid(org_id), "orgId": oid(org_id), "next": 0}
            )
    raise StoreError("the status list counter could not be created")


@boundary
async def placed(db: Database, *, org_id: str) -> int:
    """How many indexes the organization has given (its lists cover them)."""
    counter = await db.db.statusCounters.find_one({"_id": oid(org_id)}, {"next": 1})
    return int(counter["next"]) if counter else 0


@boundary
async def in_range(db: Database, *, org_id: str, start: int, stop: int) -> dict[int, str]:
    """The cycles placed at indexes `start` (inclusive) to `stop` (exclusive), by index."""
    cursor = db.db.statusEntries.find(
        {"orgId": oid(org_id), "index": {"$gte": start, "$lt": stop}},
        {"assignmentId": 1, "index": 1},
    )
    return {doc["index"]: str(doc["assignmentId"]) async for doc in cursor}
