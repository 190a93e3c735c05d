"""The `courses` collection: courses and learning paths (an ordered list of courses)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from bson import ObjectId

from store import organizations, outbox
from store.audit import Event
from store.database import Database
from store.errors import boundary
from store.ids import oid, oids, owned, owned_one


class CourseKind(StrEnum):
    COURSE = "COURSE"
    LEARNING_PATH = "LEARNING_PATH"


@dataclass(frozen=True, slots=True)
class Course:
    id: str
    org_id: str
    title: str
    kind: CourseKind
    course_ids: tuple[str, ...]
    clock_hours: float | None
    label_id: str | None
    created_at: datetime

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Course:
        return cls(
            id=str(doc["_id"]),
            org_id=str(doc["orgId"]),
            title=doc["title"],
            kind=CourseKind(doc["kind"]),
            course_ids=tuple(str(c) for c in doc.get("courseIds", ())),
            clock_hours=doc.get("clockHours"),
            label_id=str(doc["labelId"]) if doc.get("labelId") else None,
            created_at=doc["createdAt"],
        )


@boundary
async def create(
    db: Database,
    *,
    org_id: str,
    title: str,
    kind: CourseKind,
    course_ids: list[str],
    clock_hours: float | None,
    label_id: str | None,
    now: datetime,
    event: Event | None = None,
) -> Course:
    doc = {
        "_id": ObjectId(),
        "orgId": oid(org_id),
        "title": title,
        "key": title.casefold(),
        "kind": kind.value,
        "courseIds": oids(course_ids),
        "clockHours": clock_hours,
        "labelId": oid(label_id) if label_id else None,
        "createdAt": now,
    }
    doc, letters = outbox.stamped(doc, event)
    await db.db.courses.insert_one(doc)  # a title already used raises `Conflict`
    await organizations.touch(db, id=org_id)
    await outbox.written(db, letters)
    return Course.from_doc(doc)


@boundary
async def get(db: Database, *, org_id: str, id: str) -> Course | None:
    doc = await owned_one(db.db.courses, org_id=org_id, id=id)
    return Course.from_doc(doc) if doc else None


@boundary
async def get_many(db: Database, *, org_id: str, ids: list[str]) -> list[Course]:
    return [Course.from_doc(doc) for doc in await owned(db.db.courses, org_id=org_id, ids=ids)]


@boundary
async def paths_containing(db: Database, *, org_id: str, course_id: str) -> list[Course]:
    cursor = db.db.courses.find({"orgId": oid(org_id), "courseIds": oid(course_id)})
    return [Course.from_doc(doc) async for doc in cursor]


@boundary
async def list_page(db: Database, *, org_id: str, after: str | None, limit: int) -> list[Course]:
    query: dict[str, Any] = {"orgId": oid(org_id)}
    if after is not None:
        query["_id"] = {"$gt": oid(after)}
    cursor = db.db.courses.find(query).sort("_id", 1).limit(limit)
    return [Course.from_doc(doc) async for doc in cursor]


@boundary
async def count(db: Database, *, org_id: str) -> int:
    return await db.db.courses.count_documents({"orgId": oid(org_id)})
