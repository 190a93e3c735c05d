"""Evidence not yet settled: the marker that lets a crash lose no completion.

A course completion or a record decision is stored first, marked `settled: false` in the same
write; the learner's cycles are derived from it next and the marker cleared. A process that
dies in between leaves the marker, and the start-up pass settles whoever carries one.
"""

from __future__ import annotations

from store.database import Database
from store.errors import boundary
from store.ids import oid, oids

EVIDENCE = ("enrollments", "records")


@boundary
async def unsettled_learners(db: Database) -> set[tuple[str, str]]:
    """(organization, learner) with evidence still marked: a scan across organizations."""
    found: set[tuple[str, str]] = set()
    for collection in EVIDENCE:
        cursor = db.db[collection].find({"settled": False}, {"orgId": 1, "learnerId": 1})
        found |= {(str(doc["orgId"]), str(doc["learnerId"])) async for doc in cursor}
    return found


@boundary
async def mark_settled(
    db: Database, *, org_id: str, enrollment_ids: list[str], record_ids: list[str]
) -> None:
    """Clear the markers of exactly the evidence a derivation read (not newer evidence)."""
    for collection, ids in zip(EVIDENCE, (enrollment_ids, record_ids), strict=True):
        if ids:
            await db.db[collection].update_many(
                {"orgId": oid(org_id), "_id": {"$in": oids(ids)}}, {"$unset": {"settled": ""}}
            )
