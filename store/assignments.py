"""The `assignments` collection: one learner's credential, one renewal cycle per document.

Completion is evaluated on write and its dates stored here; status is derived from these dates
and a moment (`asOf`) on read — in Python for one assignment, in MongoDB (`store.compliance`)
when many must be filtered or counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo.errors import BulkWriteError

from store.compliance import status_filter
from store.database import Database
from store.errors import boundary
from store.ids import oid, oids, owned

DUPLICATE_KEY = 11000


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


@boundary
async def insert(db: Database, *, doc: dict[str, Any]) -> Assignment:
    """Insert one cycle; a cycle that already exists raises `Conflict`."""
    stored = _stored(doc)
    result = await db.db.assignments.insert_one(stored)
    return Assignment.from_doc({**stored, "_id": result.inserted_id})


@boundary
async def insert_many(db: Database, *, docs: list[dict[str, Any]]) -> list[Assignment]:
    """Insert cycles in one round trip; those that already exist are skipped, not raised."""
    stored = [{**_stored(doc), "_id": ObjectId()} for doc in docs]
    try:
        await db.db.assignments.insert_many(stored, ordered=False)
        failed: set[int] = set()
    except BulkWriteError as error:
        duplicate = [e for e in error.details["writeErrors"] if e.get("code") == DUPLICATE_KEY]
        if len(duplicate) != len(error.details["writeErrors"]):
            raise
        failed = {e["index"] for e in duplicate}
    return [Assignment.from_doc(doc) for i, doc in enumerate(stored) if i not in failed]


def _stored(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        **doc,
        "orgId": oid(doc["orgId"]),
        "credentialId": oid(doc["credentialId"]),
        "learnerId": oid(doc["learnerId"]),
        "previousId": oid(doc["previousId"]) if doc.get("previousId") else None,
        "assignedBy": oid(doc["assignedBy"]) if doc.get("assignedBy") else None,
    }


@boundary
async def get_many(db: Database, *, org_id: str, ids: list[str]) -> list[Assignment]:
    return [
        Assignment.from_doc(doc) for doc in await owned(db.db.assignments, org_id=org_id, ids=ids)
    ]


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


SORTABLE = ("dueDate", "startDate", "assignedAt", "validUntil")


@dataclass(frozen=True, slots=True)
class Filter:
    """Which cycles a list or count means; status and the date windows are judged at `as_of`."""

    as_of: datetime
    learner_id: str | None = None
    credential_id: str | None = None
    status: str | None = None
    due_before: datetime | None = None
    expiring_before: datetime | None = None

    def query(self, org_id: str) -> dict[str, Any]:
        clauses: list[dict[str, Any]] = [{"orgId": oid(org_id)}]
        if self.learner_id is not None:
            clauses.append({"learnerId": oid(self.learner_id)})
        if self.credential_id is not None:
            clauses.append({"credentialId": oid(self.credential_id)})
        if self.status is not None:
            clauses.append(status_filter(self.status, self.as_of))
        if self.due_before is not None:
            not_done = {"$or": [{"completedAt": None}, {"completedAt": {"$gt": self.as_of}}]}
            clauses += [not_done, {"dueDate": {"$lte": self.due_before}}]
        if self.expiring_before is not None:
            clauses += [
                status_filter("COMPLETED", self.as_of),
                {"validUntil": {"$lte": self.expiring_before}},
            ]
        return {"$and": clauses}


@boundary
async def page(
    db: Database,
    *,
    org_id: str,
    where: Filter,
    order: str = "dueDate",
    descending: bool = False,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Assignment]:
    """One page sorted by `order` (then id), strictly after the `after` key.

    Sorting by validUntil lists only cycles that have one (completed, expiring ones).
    """
    assert order in SORTABLE
    query = where.query(org_id)
    if order == "validUntil":
        query["$and"].append({"validUntil": {"$ne": None}})
    if after is not None:
        value, last_id = after
        beyond = "$lt" if descending else "$gt"
        query["$and"].append(
            {"$or": [{order: {beyond: value}}, {order: value, "_id": {beyond: oid(last_id)}}]}
        )
    direction = -1 if descending else 1
    cursor = db.db.assignments.find(query).sort([(order, direction), ("_id", direction)])
    return [Assignment.from_doc(doc) async for doc in cursor.limit(limit)]


@boundary
async def count(db: Database, *, org_id: str, where: Filter, order: str = "dueDate") -> int:
    query = where.query(org_id)
    if order == "validUntil":
        query["$and"].append({"validUntil": {"$ne": None}})
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


@boundary
async def open_learners(db: Database) -> list[tuple[str, str]]:
    """(organization, learner) of every open cycle: a maintenance scan across organizations."""
    pipeline = [
        {"$match": {"completedAt": None}},
        {"$group": {"_id": {"org": "$orgId", "learner": "$learnerId"}}},
    ]
    rows = await (await db.db.assignments.aggregate(pipeline)).to_list()
    return [(str(row["_id"]["org"]), str(row["_id"]["learner"])) for row in rows]
