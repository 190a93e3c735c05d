"""The `statusEntries` and `statusCounters` collections: each exported credential's place in
its organization's Bitstring Status Lists.

A credential is a cycle in one edition (`store.assignments.narrowed`): the cycle's credential
until what it says stops being true, then the next. An index is given once per edition and
never to two: a block of fresh indexes is taken from the organization's counter by one atomic
`$inc`, and each entry is inserted under unique keys on (organization, cycle, edition) and
(organization, index). An edition two requests place at once keeps the first entry stored; the
other request's index stays unused (its bit is never set). Only the place is stored: whether
its bit is set is decided when the list is read.

These are bookkeeping, not the organization's data: placing a credential changes no answer
already given, so it leaves the organization's data version alone.
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


Edition = tuple[str, int]  # (cycle id, edition)


@boundary
async def indexes_of(db: Database, *, org_id: str, cycle_ids: Sequence[str]) -> dict[Edition, int]:
    """The indexes of every edition of these cycles that has one."""
    cursor = db.db.statusEntries.find(
        {"orgId": oid(org_id), "assignmentId": {"$in": oids(cycle_ids)}},
        {"assignmentId": 1, "edition": 1, "index": 1},
    )
    return {(str(doc["assignmentId"]), doc.get("edition", 0)): doc["index"] async for doc in cursor}


@boundary
async def place(db: Database, *, org_id: str, editions: Sequence[Edition]) -> dict[Edition, int]:
    """Give each edition without an index a fresh one; the editions' indexes."""
    cycles = sorted({cycle for cycle, _ in editions})
    found = await indexes_of(db, org_id=org_id, cycle_ids=cycles)
    missing = [e for e in dict.fromkeys(editions) if e not in found]
    if not missing:
        return {edition: found[edition] for edition in editions}
    first = await _block(db, org_id, len(missing))
    entries = [
        {"orgId": oid(org_id), "assignmentId": oid(cycle), "edition": edition, "index": first + i}
        for i, (cycle, edition) in enumerate(missing)
    ]
    try:
        await db.db.statusEntries.insert_many(entries, ordered=False)
    except BulkWriteError as error:  # placed meanwhile by another request: theirs stands
        if any(e.get("code") != DUPLICATE_KEY for e in error.details["writeErrors"]):
            raise
        found = await indexes_of(db, org_id=org_id, cycle_ids=cycles)
    else:
        found.update((edition, first + i) for i, edition in enumerate(missing))
    return {edition: found[edition] for edition in editions}


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
