"""The `extensionRequests` collection: a learner's request for a later due date, decided by an
administrator or the learner's manager. One request at a time may wait per cycle (a unique
index over the waiting ones); a decision is one conditional write, so two reviewers racing
make one decision."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pymongo import ReturnDocument

from store import organizations, outbox
from store.audit import Event
from store.database import Database
from store.errors import boundary
from store.ids import oid, owned_one


class RequestStatus(StrEnum):
    PENDING = "PENDING"
    GRANTED = "GRANTED"
    DENIED = "DENIED"


@dataclass(frozen=True, slots=True)
class ExtensionRequest:
    id: str
    org_id: str
    assignment_id: str
    learner_id: str
    requested_by: str
    requested_due_date: datetime
    reason: str
    status: RequestStatus
    created_at: datetime
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    review_note: str | None = None
    applied: bool = True  # a grant not yet applied to its cycle (a crash between) is False

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> ExtensionRequest:
        return cls(
            id=str(doc["_id"]),
            org_id=str(doc["orgId"]),
            assignment_id=str(doc["assignmentId"]),
            learner_id=str(doc["learnerId"]),
            requested_by=str(doc["requestedBy"]),
            requested_due_date=doc["requestedDueDate"],
            reason=doc["reason"],
            status=RequestStatus(doc["status"]),
            created_at=doc["createdAt"],
            reviewed_by=str(doc["reviewedBy"]) if doc.get("reviewedBy") else None,
            reviewed_at=doc.get("reviewedAt"),
            review_note=doc.get("reviewNote"),
            applied=doc.get("unapplied") is None,
        )


@boundary
async def create(
    db: Database,
    *,
    org_id: str,
    assignment_id: str,
    learner_id: str,
    requested_by: str,
    requested_due_date: datetime,
    reason: str,
    now: datetime,
) -> ExtensionRequest:
    """A waiting request; another waiting for the same cycle raises `Conflict`."""
    doc = {
        "orgId": oid(org_id),
        "assignmentId": oid(assignment_id),
        "learnerId": oid(learner_id),
        "requestedBy": oid(requested_by),
        "requestedDueDate": requested_due_date,
        "reason": reason,
        "status": RequestStatus.PENDING.value,
        "waiting": True,
        "createdAt": now,
    }
    result = await db.db.extensionRequests.insert_one(doc)
    await organizations.touch(db, id=org_id)
    return ExtensionRequest.from_doc({**doc, "_id": result.inserted_id})


@boundary
async def get(db: Database, *, org_id: str, id: str) -> ExtensionRequest | None:
    doc = await owned_one(db.db.extensionRequests, org_id=org_id, id=id)
    return ExtensionRequest.from_doc(doc) if doc else None


@boundary
async def decide(
    db: Database,
    *,
    org_id: str,
    id: str,
    status: RequestStatus,
    reviewer_id: str,
    note: str | None,
    now: datetime,
    event: Event | None = None,
) -> ExtensionRequest | None:
    """Decide a waiting request (None: it is not waiting). A grant is marked unapplied until
    its cycle is extended (`applied`), which the start-up repair finishes after a crash."""
    change: dict[str, Any] = {
        "$set": {
            "status": status.value,
            "reviewedBy": oid(reviewer_id),
            "reviewedAt": now,
            "reviewNote": note,
        },
        "$unset": {"waiting": ""},
    }
    if status is RequestStatus.GRANTED:
        change["$set"]["unapplied"] = True
    doc = await organizations.changed(
        db,
        await db.db.extensionRequests.find_one_and_update(
            {"orgId": oid(org_id), "_id": oid(id), "status": RequestStatus.PENDING.value},
            outbox.carried(change, event),
            return_document=ReturnDocument.AFTER,
        ),
    )
    if doc is None:
        return None
    await outbox.written(db, [event])
    return ExtensionRequest.from_doc(doc)


@boundary
async def applied(db: Database, *, org_id: str, id: str) -> None:
    await db.db.extensionRequests.update_one(
        {"orgId": oid(org_id), "_id": oid(id)}, {"$unset": {"unapplied": ""}}
    )


@boundary
async def unapplied(db: Database) -> list[ExtensionRequest]:
    cursor = db.db.extensionRequests.find({"unapplied": True})
    return [ExtensionRequest.from_doc(doc) async for doc in cursor]


@boundary
async def for_assignments(
    db: Database, *, org_id: str, assignment_ids: list[str]
) -> list[ExtensionRequest]:
    cursor = db.db.extensionRequests.find(
        {"orgId": oid(org_id), "assignmentId": {"$in": [oid(a) for a in assignment_ids]}}
    ).sort("_id", 1)
    return [ExtensionRequest.from_doc(doc) async for doc in cursor]


def _waiting(org_id: str, learner_ids: list[str] | None) -> dict[str, Any]:
    query: dict[str, Any] = {"orgId": oid(org_id), "status": RequestStatus.PENDING.value}
    if learner_ids is not None:
        query["learnerId"] = {"$in": [oid(i) for i in learner_ids]}
    return query


@boundary
async def count_waiting(db: Database, *, org_id: str, learner_ids: list[str] | None) -> int:
    return await db.db.extensionRequests.count_documents(_waiting(org_id, learner_ids))


@boundary
async def waiting(
    db: Database, *, org_id: str, learner_ids: list[str] | None, after: str | None, limit: int
) -> list[ExtensionRequest]:
    """Waiting requests, oldest first (the learners', when given)."""
    query = _waiting(org_id, learner_ids)
    if after is not None:
        query["_id"] = {"$gt": oid(after)}
    cursor = db.db.extensionRequests.find(query).sort("_id", 1).limit(limit)
    return [ExtensionRequest.from_doc(doc) async for doc in cursor]
