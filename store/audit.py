"""The `auditEvents` collection: who changed what, when and why. Each event is carried by the
write of what it is about (`store.outbox`), so there is never one without the other."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from bson import ObjectId

from store.errors import boundary
from store.ids import oid

if TYPE_CHECKING:  # a type only: `store.indexes`, which `store.database` imports, imports this
    from store.database import Database


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
    box: ClassVar[str] = "auditEvents"

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
