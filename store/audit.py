"""The `auditEvents` collection: who changed what, when and why.

An event must never exist without its change, nor a change without its event, and MongoDB
writes one document atomically (a transaction needs a replica set, and the embedded database
has none). So an event travels *inside* the write of the document it is about — pushed onto
its `auditPending` list by the same update, or set on it by the same insert — and is copied to
`auditEvents` (by its id, so a copy made twice is one event) and taken off the document
afterwards. A process that dies in between leaves the event waiting on its document, where
`repair` (at start-up, and on every scheduler tick) finds it through a sparse index and
finishes the copy.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bson import ObjectId
from pymongo.errors import BulkWriteError

from store.errors import StoreError, boundary
from store.ids import oid

if TYPE_CHECKING:  # a type only: `store.indexes`, which `store.database` imports, imports this
    from store.database import Database

log = logging.getLogger(__name__)

PENDING = "auditPending"
DUPLICATE_KEY = 11000

# The collection each kind of subject lives in: an event waits on its subject's document.
COLLECTIONS = {
    "User": "users",
    "Group": "groups",
    "ApiToken": "apiTokens",
    "Organization": "organizations",
    "Label": "labels",
    "Course": "courses",
    "Credential": "credentials",
    "CredentialAssignment": "assignments",
    "ExtensionRequest": "extensionRequests",
    "TrainingRecord": "records",
    "Enrollment": "enrollments",
    "Import": "imports",
}


@dataclass(frozen=True, slots=True)
class Change:
    """One field as it was and as it became; `refers_to` names the kind of thing the values
    identify (ids, or lists of ids), so they can be shown as what they are."""

    field: str
    before: Any
    after: Any
    refers_to: str | None = None

    def to_doc(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "before": self.before,
            "after": self.after,
            "refersTo": self.refers_to,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Change:
        return cls(
            doc["field"], _plain(doc.get("before")), _plain(doc.get("after")), doc.get("refersTo")
        )


def _plain(value: Any) -> Any:
    """A stored value with its ids as strings, as ids cross the store's boundary."""
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class Event:
    """One change of one subject, by one person. Made before the write that carries it (the
    subject's id filled in by the store function that inserts a new subject)."""

    org_id: str
    at: datetime
    actor_id: str
    action: str
    subject_type: str
    subject_id: str = ""
    reason: str | None = None
    changes: tuple[Change, ...] = ()
    related: tuple[str, ...] = ()  # whom and what else it concerns: the learner, the cycle …
    id: str = field(default_factory=lambda: str(ObjectId()))

    def about(self, subject_id: str) -> Event:
        return replace(self, subject_id=subject_id)

    def to_doc(self) -> dict[str, Any]:
        return {
            "_id": ObjectId(self.id),
            "orgId": oid(self.org_id),
            "at": self.at,
            "actorId": oid(self.actor_id),
            "action": self.action,
            "subject": {"type": self.subject_type, "id": oid(self.subject_id)},
            "reason": self.reason,
            "changes": [c.to_doc() for c in self.changes],
            # what a log of one thing finds it by: its subject, and all it concerns
            "about": [oid(self.subject_id), *(oid(r) for r in self.related)],
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Event:
        return cls(
            id=str(doc["_id"]),
            org_id=str(doc["orgId"]),
            at=doc["at"],
            actor_id=str(doc["actorId"]),
            action=doc["action"],
            subject_type=doc["subject"]["type"],
            subject_id=str(doc["subject"]["id"]),
            reason=doc.get("reason"),
            changes=tuple(Change.from_doc(c) for c in doc.get("changes") or ()),
            related=tuple(str(r) for r in doc.get("about", ())[1:]),
        )


Update = dict[str, Any] | list[dict[str, Any]]  # by operators, or a pipeline


def carried(update: Update, event: Event | None) -> Any:
    """`update` pushing `event` onto its document's waiting list as well (nothing without one)."""
    if event is None:
        return update
    if isinstance(update, list):
        waiting = {"$ifNull": [f"${PENDING}", []]}
        pushed = {"$concatArrays": [waiting, [{"$literal": event.to_doc()}]]}
        return [*update, {"$set": {PENDING: pushed}}]
    return {**update, "$push": {**update.get("$push", {}), PENDING: event.to_doc()}}


def stamped(doc: dict[str, Any], event: Event | None) -> tuple[dict[str, Any], Event | None]:
    """A new document (its `_id` set) carrying `event`, and the event, now about it."""
    if event is None:
        return doc, None
    event = event.about(str(doc["_id"]))
    return {**doc, PENDING: [event.to_doc()]}, event


_held: ContextVar[list[Event] | None] = ContextVar("held_events", default=None)


async def written(db: Database, events: Sequence[Event | None]) -> None:
    """The tail of a write that carried these events: copy them out now, or when the change
    that holds them ends (`held`)."""
    found = [e for e in events if e is not None]
    if not found:
        return
    held = _held.get()
    if held is not None:
        held.extend(found)
        return
    await _copy(db, found)


@asynccontextmanager
async def held(db: Database) -> AsyncIterator[None]:
    """Copy a mutation's events out when it ends, however it ends: what it wrote stays written.
    A copy that fails fails no mutation — its change is made, and the events wait, safe, on
    their documents for the scheduler's next repair."""
    token = _held.set([])
    try:
        yield
    finally:
        events = _held.get() or []
        _held.reset(token)
        if events:
            try:
                await _copy(db, events)
            except StoreError as error:  # they wait on their documents: the next repair copies
                log.warning("audit events not copied yet: %s", error)


@boundary
async def _copy(db: Database, events: Sequence[Event]) -> None:
    try:
        await db.db.auditEvents.insert_many([e.to_doc() for e in events], ordered=False)
    except BulkWriteError as error:  # copied before (a repair racing a request): one event
        if any(e.get("code") != DUPLICATE_KEY for e in error.details["writeErrors"]):
            raise
    for collection in sorted({COLLECTIONS[e.subject_type] for e in events}):
        mine = [e for e in events if COLLECTIONS[e.subject_type] == collection]
        subjects = {"_id": {"$in": [oid(e.subject_id) for e in mine]}}
        ids = [ObjectId(e.id) for e in mine]
        # Usually the event is its document's only one: the field goes, in one write.
        done = await db.db[collection].update_many(
            {**subjects, PENDING: {"$size": 1}, f"{PENDING}._id": {"$in": ids}},
            {"$unset": {PENDING: ""}},
        )
        if done.modified_count < len(mine):
            await db.db[collection].update_many(
                subjects, {"$pull": {PENDING: {"_id": {"$in": ids}}}}
            )


@boundary
async def repair(db: Database) -> list[Event]:
    """Copy out every event a process died before copying; those that were waiting."""
    waiting: list[Event] = []
    for collection in sorted(set(COLLECTIONS.values())):
        cursor = db.db[collection].find({f"{PENDING}._id": {"$exists": True}}, {PENDING: 1})
        async for doc in cursor:
            waiting.extend(Event.from_doc(e) for e in doc.get(PENDING) or ())
    if waiting:
        await _copy(db, waiting)
    return waiting


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which of an organization's events a log means."""

    org_id: str
    subject_id: str | None = None  # its events, and those of all that concerns it
    actor_id: str | None = None
    action: str | None = None
    since: datetime | None = None  # at or after
    until: datetime | None = None  # before

    def query(self) -> dict[str, Any]:
        query: dict[str, Any] = {"orgId": oid(self.org_id)}
        if self.subject_id is not None:
            query["about"] = oid(self.subject_id)
        if self.actor_id is not None:
            query["actorId"] = oid(self.actor_id)
        if self.action is not None:
            query["action"] = self.action
        moments = {
            op: moment for op, moment in (("$gte", self.since), ("$lt", self.until)) if moment
        }
        if moments:
            query["at"] = moments
        return query


@boundary
async def page(
    db: Database, where: EventFilter, *, after: tuple[datetime, str] | None, limit: int
) -> list[Event]:
    """Newest first; `after` is the (at, id) of the last event seen."""
    query = where.query()
    if after is not None:
        at, last = after
        older = {"$or": [{"at": {"$lt": at}}, {"at": at, "_id": {"$lt": oid(last)}}]}
        query = {"$and": [query, older]}
    cursor = db.db.auditEvents.find(query).sort([("at", -1), ("_id", -1)]).limit(limit)
    return [Event.from_doc(doc) async for doc in cursor]


@boundary
async def count(db: Database, where: EventFilter) -> int:
    return await db.db.auditEvents.count_documents(where.query())
