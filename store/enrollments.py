"""The `enrollments` collection: a learner's instances of courses ("in your account").

A learner has at most one open (not completed) instance of a course at a time — a partial
unique index enforces it — and any number of completed ones, one per time they took it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from store import organizations, outbox
from store.audit import Event
from store.database import Database
from store.errors import boundary
from store.ids import oid, oids, owned, owned_one


class EnrollmentStatus(StrEnum):
    NOT_STARTED = "NOT_STARTED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"


@dataclass(frozen=True, slots=True)
class Enrollment:
    id: str
    org_id: str
    learner_id: str
    course_id: str
    status: EnrollmentStatus
    progress: float
    enrolled_at: datetime
    launched_at: datetime | None
    completed_at: datetime | None
    settled: bool = True

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Enrollment:
        return cls(
            id=str(doc["_id"]),
            org_id=str(doc["orgId"]),
            learner_id=str(doc["learnerId"]),
            course_id=str(doc["courseId"]),
            status=EnrollmentStatus(doc["status"]),
            progress=doc.get("progress", 0.0),
            enrolled_at=doc["enrolledAt"],
            launched_at=doc.get("launchedAt"),
            completed_at=doc.get("completedAt"),
            settled=doc.get("settled", True),
        )


@boundary
async def open_or_create(
    db: Database, *, org_id: str, learner_id: str, course_id: str, now: datetime
) -> Enrollment:
    """The learner's open instance of the course, created if there is none (race-safe)."""
    key = {
        "orgId": oid(org_id),
        "learnerId": oid(learner_id),
        "courseId": oid(course_id),
        "open": True,
    }
    fresh = {"status": EnrollmentStatus.NOT_STARTED.value, "progress": 0.0, "enrolledAt": now}
    try:
        doc = await db.db.enrollments.find_one_and_update(
            key, {"$setOnInsert": fresh}, upsert=True, return_document=ReturnDocument.AFTER
        )
    except DuplicateKeyError:
        # A concurrent call inserted it between our lookup and insert: it is there now.
        doc = await db.db.enrollments.find_one(key)
    assert doc is not None, "the open instance another call inserted is never deleted"
    await organizations.changed(db, doc)  # it may have been inserted
    return Enrollment.from_doc(doc)


@boundary
async def get(db: Database, *, org_id: str, id: str) -> Enrollment | None:
    doc = await owned_one(db.db.enrollments, org_id=org_id, id=id)
    return Enrollment.from_doc(doc) if doc else None


@boundary
async def get_many(db: Database, *, org_id: str, ids: list[str]) -> list[Enrollment]:
    return [
        Enrollment.from_doc(doc) for doc in await owned(db.db.enrollments, org_id=org_id, ids=ids)
    ]


@boundary
async def for_learners(db: Database, *, org_id: str, learner_ids: list[str]) -> list[Enrollment]:
    cursor = db.db.enrollments.find(
        {"orgId": oid(org_id), "learnerId": {"$in": oids(learner_ids)}}
    ).sort([("enrolledAt", 1), ("_id", 1)])
    return [Enrollment.from_doc(doc) async for doc in cursor]


@boundary
async def launch(db: Database, *, org_id: str, id: str, now: datetime) -> Enrollment | None:
    """Mark the instance launched; one launched before stays as it was (and is not written)."""
    key = {"orgId": oid(org_id), "_id": oid(id)}
    unlaunched = {"$or": [{"launchedAt": None}, {"status": EnrollmentStatus.NOT_STARTED.value}]}
    doc = await db.db.enrollments.find_one_and_update(
        {**key, **unlaunched},
        [
            {
                "$set": {
                    "launchedAt": {"$ifNull": ["$launchedAt", now]},
                    "status": {
                        "$cond": [
                            {"$eq": ["$status", EnrollmentStatus.NOT_STARTED.value]},
                            EnrollmentStatus.IN_PROGRESS.value,
                            "$status",
                        ]
                    },
                }
            }
        ],
        return_document=ReturnDocument.AFTER,
    )
    if doc is None:
        found = await db.db.enrollments.find_one(key)
        return Enrollment.from_doc(found) if found else None
    doc = await organizations.changed(db, doc)
    return Enrollment.from_doc(doc) if doc else None


@boundary
async def report(
    db: Database,
    *,
    org_id: str,
    id: str,
    progress: float,
    completed: bool,
    now: datetime,
    event: Event | None = None,
) -> Enrollment | None:
    """Record the course player's report on an open instance; a completed one stays as it was,
    and a report that changes nothing writes nothing (and leaves no event)."""
    change: dict[str, Any] = {
        "progress": 1.0 if completed else progress,
        "status": (EnrollmentStatus.COMPLETED if completed else EnrollmentStatus.IN_PROGRESS).value,
    }
    if completed:
        change |= {"completedAt": now, "open": False, "settled": False}
    key = {"orgId": oid(org_id), "_id": oid(id), "open": True}
    changing = [{name: {"$ne": value}} for name, value in change.items()]
    doc = await organizations.changed(
        db,
        await db.db.enrollments.find_one_and_update(
            {**key, "$or": [*changing, {"launchedAt": None}]},
            outbox.carried(
                [{"$set": {**change, "launchedAt": {"$ifNull": ["$launchedAt", now]}}}], event
            ),
            return_document=ReturnDocument.AFTER,
        ),
    )
    if doc is not None:
        await outbox.written(db, [event])
    doc = doc or await db.db.enrollments.find_one(key)
    return Enrollment.from_doc(doc) if doc else None


@boundary
async def page_for_learner(
    db: Database, *, org_id: str, learner_id: str, after: str | None, limit: int
) -> list[Enrollment]:
    query: dict[str, Any] = {"orgId": oid(org_id), "learnerId": oid(learner_id)}
    if after is not None:
        query["_id"] = {"$gt": oid(after)}
    cursor = db.db.enrollments.find(query).sort("_id", 1).limit(limit)
    return [Enrollment.from_doc(doc) async for doc in cursor]


@boundary
async def count_for_learner(db: Database, *, org_id: str, learner_id: str) -> int:
    return await db.db.enrollments.count_documents(
        {"orgId": oid(org_id), "learnerId": oid(learner_id)}
    )
