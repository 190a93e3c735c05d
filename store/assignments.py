"""The `assignments` collection: one learner's credential, one renewal cycle per document.

Completion is evaluated on write and its dates stored here; status is derived from these dates
and a moment (`asOf`) on read — in Python for one assignment, or as a query (`status_filter`)
when MongoDB must filter or count many.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from store.database import Database
from store.errors import boundary
from store.ids import oid, oids


@dataclass(frozen=True, slots=True)
class Assignment:
    id: str
    org_id: str
    credential_id: str
    learner_id: str
    version: int
    cycle: int
    previous_id: str | None
    assigned_at: datetime
    assigned_by: str | None
    start_date: datetime
    due_date: datetime
    window_start: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    valid_from: datetime | None
    valid_until: datetime | None

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Assignment:
        return cls(
            id=str(doc["_id"]),
            org_id=str(doc["orgId"]),
            credential_id=str(doc["credentialId"]),
            learner_id=str(doc["learnerId"]),
            version=doc["version"],
            cycle=doc["cycle"],
            previous_id=str(doc["previousId"]) if doc.get("previousId") else None,
            assigned_at=doc["assignedAt"],
            assigned_by=str(doc["assignedBy"]) if doc.get("assignedBy") else None,
            start_date=doc["startDate"],
            due_date=doc["dueDate"],
            window_start=doc.get("windowStart"),
            started_at=doc.get("startedAt"),
            completed_at=doc.get("completedAt"),
            valid_from=doc.get("validFrom"),
            valid_until=doc.get("validUntil"),
        )


def status_filter(status: str, as_of: datetime) -> dict[str, Any]:
    """The query for assignments in `status` at `as_of`; mirrors `resolvers.status.Timeline`."""
    done = {"completedAt": {"$lte": as_of}}
    open_ = {"$or": [{"completedAt": None}, {"completedAt": {"$gt": as_of}}]}
    available = {"startDate": {"$lte": as_of}}
    filters: dict[str, list[dict[str, Any]]] = {
        "COMPLETED": [done, {"$or": [{"validUntil": None}, {"validUntil": {"$gt": as_of}}]}],
        "EXPIRED": [done, {"validUntil": {"$lte": as_of}}],
        "NOT_YET_AVAILABLE": [open_, {"startDate": {"$gt": as_of}}],
        "OVERDUE": [open_, available, {"dueDate": {"$lte": as_of}}],
        "IN_PROGRESS": [
            open_,
            available,
            {"dueDate": {"$gt": as_of}},
            {"startedAt": {"$lte": as_of}},
        ],
        "NOT_STARTED": [
            open_,
            available,
            {"dueDate": {"$gt": as_of}},
            {"$or": [{"startedAt": None}, {"startedAt": {"$gt": as_of}}]},
        ],
    }
    return {"$and": filters[status]}


@boundary
async def insert(db: Database, *, doc: dict[str, Any]) -> Assignment:
    """Insert one cycle; a cycle that already exists raises `Conflict`."""
    stored = {
        **doc,
        "orgId": oid(doc["orgId"]),
        "credentialId": oid(doc["credentialId"]),
        "learnerId": oid(doc["learnerId"]),
        "previousId": oid(doc["previousId"]) if doc.get("previousId") else None,
        "assignedBy": oid(doc["assignedBy"]) if doc.get("assignedBy") else None,
    }
    result = await db.db.assignments.insert_one(stored)
    return Assignment.from_doc({**stored, "_id": result.inserted_id})


@boundary
async def get_many(db: Database, *, org_id: str, ids: list[str]) -> list[Assignment]:
    cursor = db.db.assignments.find({"orgId": oid(org_id), "_id": {"$in": oids(ids)}})
    return [Assignment.from_doc(doc) async for doc in cursor]


@boundary
async def latest_cycles(
    db: Database, *, org_id: str, credential_id: str, learner_ids: list[str]
) -> dict[str, Assignment]:
    """Each learner's newest cycle of the credential, for those who have one."""
    pipeline = [
        {
            "$match": {
                "orgId": oid(org_id),
                "credentialId": oid(credential_id),
                "learnerId": {"$in": oids(learner_ids)},
            }
        },
        {"$sort": {"learnerId": 1, "cycle": -1}},
        {"$group": {"_id": "$learnerId", "doc": {"$first": "$$ROOT"}}},
    ]
    cursor = await db.db.assignments.aggregate(pipeline)
    return {str(row["_id"]): Assignment.from_doc(row["doc"]) async for row in cursor}


@boundary
async def open_for_learners(
    db: Database, *, org_id: str, learner_ids: list[str]
) -> list[Assignment]:
    cursor = db.db.assignments.find(
        {"orgId": oid(org_id), "learnerId": {"$in": oids(learner_ids)}, "completedAt": None}
    )
    return [Assignment.from_doc(doc) async for doc in cursor]


def _query(
    org_id: str,
    *,
    learner_id: str | None,
    credential_id: str | None,
    status: str | None,
    as_of: datetime,
) -> dict[str, Any]:
    query: dict[str, Any] = {"orgId": oid(org_id)}
    if learner_id is not None:
        query["learnerId"] = oid(learner_id)
    if credential_id is not None:
        query["credentialId"] = oid(credential_id)
    if status is not None:
        query.update(status_filter(status, as_of))
    return query


@boundary
async def page(
    db: Database,
    *,
    org_id: str,
    learner_id: str | None = None,
    credential_id: str | None = None,
    status: str | None,
    as_of: datetime,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Assignment]:
    """One page by due date (then id), strictly after the `after` key."""
    query = _query(
        org_id, learner_id=learner_id, credential_id=credential_id, status=status, as_of=as_of
    )
    if after is not None:
        due, last_id = after
        keyset = {
            "$or": [{"dueDate": {"$gt": due}}, {"dueDate": due, "_id": {"$gt": oid(last_id)}}]
        }
        query = {"$and": [query, keyset]}
    cursor = db.db.assignments.find(query).sort([("dueDate", 1), ("_id", 1)]).limit(limit)
    return [Assignment.from_doc(doc) async for doc in cursor]


@boundary
async def count(
    db: Database,
    *,
    org_id: str,
    learner_id: str | None = None,
    credential_id: str | None = None,
    status: str | None,
    as_of: datetime,
) -> int:
    query = _query(
        org_id, learner_id=learner_id, credential_id=credential_id, status=status, as_of=as_of
    )
    return await db.db.assignments.count_documents(query)


@boundary
async def credential_ids_for_learner(db: Database, *, org_id: str, learner_id: str) -> list[str]:
    found = await db.db.assignments.distinct(
        "credentialId", {"orgId": oid(org_id), "learnerId": oid(learner_id)}
    )
    return [str(c) for c in found]


@boundary
async def mark_started(db: Database, *, org_id: str, ids: list[str], at: datetime) -> None:
    """Record the first activity; later activity never moves it."""
    await db.db.assignments.update_many(
        {"orgId": oid(org_id), "_id": {"$in": oids(ids)}, "startedAt": None},
        {"$set": {"startedAt": at}},
    )


@boundary
async def complete(
    db: Database,
    *,
    org_id: str,
    id: str,
    completed_at: datetime,
    valid_from: datetime,
    valid_until: datetime | None,
) -> bool:
    """Store the completion unless one is already stored: True for the one write that wins."""
    result = await db.db.assignments.update_one(
        {"orgId": oid(org_id), "_id": oid(id), "completedAt": None},
        {
            "$set": {
                "completedAt": completed_at,
                "validFrom": valid_from,
                "validUntil": valid_until,
            }
        },
    )
    return result.modified_count == 1
