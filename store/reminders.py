"""The `reminders` collection: each reminder sent (or being sent), one document per cycle and
moment, keyed by that pair so that any number of server processes claim it exactly once.

A reminder is claimed (inserted, `pending`), then its notifications are written, each keyed
by reminder and recipient, then it is marked delivered. A crash between leaves it pending;
the start-up repair delivers it again, and the notifications' keys keep that exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.errors import BulkWriteError

from store.database import Database
from store.errors import boundary
from store.ids import oid

DUPLICATE_KEY = 11000


@dataclass(frozen=True, slots=True)
class Claim:
    key: str  # `{subject}:{kind}:{offset}`, the same in every process
    org_id: str
    subject_type: str  # a cycle (`CredentialAssignment`) or a document (`TrainingRecord`)
    subject_id: str
    learner_id: str
    kind: str
    due_at: datetime  # the moment it fell due

    def to_doc(self, now: datetime) -> dict[str, Any]:
        return {
            "_id": self.key,
            "orgId": oid(self.org_id),
            "subject": {"type": self.subject_type, "id": oid(self.subject_id)},
            "learnerId": oid(self.learner_id),
            "kind": self.kind,
            "dueAt": self.due_at,
            "claimedAt": now,
            "pending": True,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Claim:
        return cls(
            key=doc["_id"],
            org_id=str(doc["orgId"]),
            subject_type=doc["subject"]["type"],
            subject_id=str(doc["subject"]["id"]),
            learner_id=str(doc["learnerId"]),
            kind=doc["kind"],
            due_at=doc["dueAt"],
        )


@boundary
async def claimed_keys(db: Database, *, org_id: str) -> set[str]:
    cursor = db.db.reminders.find({"orgId": oid(org_id)}, {"_id": 1})
    return {doc["_id"] async for doc in cursor}


@boundary
async def claim(db: Database, *, claims: Sequence[Claim], now: datetime) -> list[Claim]:
    """Insert the claims in one round trip; those another process claimed first are not ours."""
    if not claims:
        return []
    try:
        await db.db.reminders.insert_many([c.to_doc(now) for c in claims], ordered=False)
        return list(claims)
    except BulkWriteError as error:
        failed = error.details["writeErrors"]
        if any(e.get("code") != DUPLICATE_KEY for e in failed):
            raise
        taken = {e["index"] for e in failed}
        return [c for i, c in enumerate(claims) if i not in taken]


@boundary
async def delivered(db: Database, *, keys: Sequence[str]) -> None:
    await db.db.reminders.update_many({"_id": {"$in": list(keys)}}, {"$unset": {"pending": ""}})


@boundary
async def pending(db: Database) -> list[Claim]:
    """Claims a crash kept from delivery (the sparse `pending` index holds only those)."""
    return [Claim.from_doc(doc) async for doc in db.db.reminders.find({"pending": True})]
