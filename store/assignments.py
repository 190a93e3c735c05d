"""The `assignments` collection: one learner's credential, one renewal cycle per document.

Completion is evaluated on write and its dates stored here; status is derived from these dates
and a moment (`asOf`) on read, in Python (`resolvers.listing`), so that one set of rules
decides a status wherever it is shown, filtered or counted. Every write stamps `changedAt`, by
which `store.scopes` reads only what changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError

from store import audit, organizations
from store.audit import Event
from store.database import Database
from store.errors import boundary
from store.ids import new, oid, oids, owned, owned_one

DUPLICATE_KEY = 11000


@dataclass(frozen=True, slots=True)
class Successor:
    """What a cycle needs to know of the one after it: when it starts being current, and the
    edge of its evidence window (evidence it admits is no longer this cycle's)."""

    start: datetime
    window_start: datetime | None
    window_after: datetime | None

    @classmethod
    def of(cls, cycle: Assignment) -> Successor:
        return cls(cycle.start_date, cycle.window_start, cycle.window_after)

    @classmethod
    def from_doc(cls, doc: dict[str, Any] | None) -> Successor | None:
        if not doc:
            return None
        return cls(doc["start"], doc.get("windowStart"), doc.get("windowAfter"))

    def to_doc(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "windowStart": self.window_start,
            "windowAfter": self.window_after,
        }


@dataclass(frozen=True, slots=True)
class Exemption:
    """A cycle excused from `since` until `until` (open-ended: None), with why and by whom; an
    exemption removed keeps its record, ended at the removal, so `asOf` still sees it."""

    since: datetime
    until: datetime | None
    reason: str
    by: str
    ended_reason: str | None = None
    ended_by: str | None = None

    def covers(self, moment: datetime) -> bool:
        return self.since <= moment and (self.until is None or moment < self.until)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Exemption:
        return cls(
            since=doc["since"],
            until=doc.get("until"),
            reason=doc["reason"],
            by=str(doc["by"]),
            ended_reason=doc.get("endedReason"),
            ended_by=str(doc["endedBy"]) if doc.get("endedBy") else None,
        )

    def to_doc(self) -> dict[str, Any]:
        return {
            "since": self.since,
            "until": self.until,
            "reason": self.reason,
            "by": oid(self.by),
            "endedReason": self.ended_reason,
            "endedBy": oid(self.ended_by) if self.ended_by else None,
        }


@dataclass(frozen=True, slots=True)
class Extension:
    """A due date moved later: from what to what, when, by whom, why (and on which request)."""

    at: datetime
    by: str
    from_due: datetime
    to_due: datetime
    reason: str
    request_id: str | None = None

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Extension:
        return cls(
            at=doc["at"],
            by=str(doc["by"]),
            from_due=doc["fromDue"],
            to_due=doc["toDue"],
            reason=doc["reason"],
            request_id=str(doc["requestId"]) if doc.get("requestId") else None,
        )

    def to_doc(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "by": oid(self.by),
            "fromDue": self.from_due,
            "toDue": self.to_due,
            "reason": self.reason,
            "requestId": oid(self.request_id) if self.request_id else None,
        }


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
    window_after: datetime | None
    previous_valid_until: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    valid_from: datetime | None
    valid_until: datetime | None
    next: Successor | None = None
    rev: int = 0
    exemptions: tuple[Exemption, ...] = ()
    extensions: tuple[Extension, ...] = ()

    @property
    def extended_to(self) -> datetime | None:
        """The latest due date an extension gave: no schedule falls back before it."""
        return max((e.to_due for e in self.extensions), default=None)

    @classmethod
    def opened(
        cls,
        *,
        org_id: str,
        credential_id: str,
        learner_id: str,
        version: int,
        previous: Assignment | None,
        assigned_at: datetime,
        assigned_by: str | None,
        start: datetime,
        due: datetime,
        window_start: datetime | None,
    ) -> Assignment:
        """A new cycle, after `previous` if any: nothing derived from evidence yet, and only
        evidence fresher than what `previous` rests on will count."""
        return cls(
            id=new(),
            org_id=org_id,
            credential_id=credential_id,
            learner_id=learner_id,
            version=version,
            cycle=previous.cycle + 1 if previous else 1,
            previous_id=previous.id if previous else None,
            assigned_at=assigned_at,
            assigned_by=assigned_by,
            start_date=start,
            due_date=due,
            window_start=window_start,
            window_after=previous.valid_from if previous else None,
            previous_valid_until=previous.valid_until if previous else None,
            started_at=None,
            completed_at=None,
            valid_from=None,
            valid_until=None,
        )

    @property
    def renews(self) -> bool:
        """Opened by the completion of the cycle before it (not assigned by a person)."""
        return self.previous_id is not None and self.assigned_by is None

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
            window_after=doc.get("windowAfter"),
            previous_valid_until=doc.get("previousValidUntil"),
            started_at=doc.get("startedAt"),
            completed_at=doc.get("completedAt"),
            valid_from=doc.get("validFrom"),
            valid_until=doc.get("validUntil"),
            next=Successor.from_doc(doc.get("next")),
            rev=doc.get("rev") or 0,
            exemptions=tuple(
                sorted(
                    (Exemption.from_doc(e) for e in doc.get("exemptions") or ()),
                    key=lambda e: e.since,
                )
            ),
            extensions=tuple(Extension.from_doc(e) for e in doc.get("extensions") or ()),
        )

    def to_doc(self) -> dict[str, Any]:
        """The stored form (ids as ObjectIds), as `insert_many` takes it."""
        return {
            "_id": oid(self.id),
            "orgId": oid(self.org_id),
            "credentialId": oid(self.credential_id),
            "learnerId": oid(self.learner_id),
            "version": self.version,
            "cycle": self.cycle,
            "previousId": oid(self.previous_id) if self.previous_id else None,
            "assignedAt": self.assigned_at,
            "assignedBy": oid(self.assigned_by) if self.assigned_by else None,
            "exemptions": [e.to_doc() for e in self.exemptions],
            "extensions": [e.to_doc() for e in self.extensions],
            **self.derived(),
        }

    def derived(self) -> dict[str, Any]:
        """The fields completion, rescheduling and linking may change."""
        return {
            "startDate": self.start_date,
            "dueDate": self.due_date,
            "windowStart": self.window_start,
            "windowAfter": self.window_after,
            "previousValidUntil": self.previous_valid_until,
            "startedAt": self.started_at,
            "completedAt": self.completed_at,
            "validFrom": self.valid_from,
            "validUntil": self.valid_until,
            "next": self.next.to_doc() if self.next else None,
        }


@boundary
async def insert_many(
    db: Database, *, cycles: list[Assignment], events: Mapping[str, Event] | None = None
) -> list[Assignment]:
    """Insert cycles in one round trip, each carrying its event in `events` (by cycle id), if
    any; those whose (credential, learner, cycle) already exists are skipped, not raised:
    another writer got there first."""
    changed = datetime.now(UTC)  # the wall clock, whatever the app's clock says (`store.scopes`)
    events = events or {}
    stored = [
        audit.stamped({**cycle.to_doc(), "changedAt": changed}, events.get(cycle.id))[0]
        for cycle in cycles
    ]
    try:
        await db.db.assignments.insert_many(stored, ordered=False)
        failed: set[int] = set()
    except BulkWriteError as error:
        duplicate = [e for e in error.details["writeErrors"] if e.get("code") == DUPLICATE_KEY]
        if len(duplicate) != len(error.details["writeErrors"]):
            raise
        failed = {e["index"] for e in duplicate}
    inserted = [cycle for i, cycle in enumerate(cycles) if i not in failed]
    for org_id in {cycle.org_id for cycle in inserted}:
        await organizations.touch(db, id=org_id)
    await audit.written(db, [events.get(cycle.id) for cycle in inserted])
    return inserted


@boundary
async def get(db: Database, *, org_id: str, id: str) -> Assignment | None:
    doc = await owned_one(db.db.assignments, org_id=org_id, id=id)
    return Assignment.from_doc(doc) if doc else None


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
    pipeline: list[dict[str, Any]] = [
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
async def for_learners(db: Database, *, org_id: str, learner_ids: list[str]) -> list[Assignment]:
    """Every cycle of these learners, each chain in cycle order."""
    cursor = db.db.assignments.find(
        {"orgId": oid(org_id), "learnerId": {"$in": oids(learner_ids)}}
    ).sort([("learnerId", 1), ("credentialId", 1), ("cycle", 1)])
    return [Assignment.from_doc(doc) async for doc in cursor]


@boundary
async def page_by_id(
    db: Database,
    *,
    org_id: str,
    credential_id: str | None,
    learner_ids: list[str] | None,
    after: str | None,
    limit: int,
) -> list[Assignment]:
    """The organization's cycles in id order, `limit` after the id `after`: an export walks
    them page by page, holding one page at a time however many there are."""
    query: dict[str, Any] = {"orgId": oid(org_id)}
    if credential_id is not None:
        query["credentialId"] = oid(credential_id)
    if learner_ids is not None:
        query["learnerId"] = {"$in": oids(learner_ids)}
    if after is not None:
        query["_id"] = {"$gt": oid(after)}
    cursor = db.db.assignments.find(query).sort("_id", 1).limit(limit)
    return [Assignment.from_doc(doc) async for doc in cursor]


@boundary
async def save(db: Database, *, cycle: Assignment, was: Assignment) -> bool:
    """Store a cycle's derived fields if nobody changed it since it was read as `was`.

    Completion, validity and schedule are derived from all of a learner's evidence; two
    derivations racing must not leave the older one's answer behind, so each write is
    conditioned on the revision it was derived from (False: re-read and derive again).
    """
    changed = {k: v for k, v in cycle.derived().items() if was.derived()[k] != v}
    if not changed:
        return True
    result = await db.db.assignments.update_one(
        _as_read(was), {"$set": {**changed, "changedAt": datetime.now(UTC)}, "$inc": {"rev": 1}}
    )
    if result.modified_count != 1:
        return False
    await organizations.touch(db, id=was.org_id)
    return True


@dataclass(frozen=True, slots=True)
class Revision:
    """A person's decision about a cycle: its exemptions as they now are, or an extension;
    and the audit event it leaves."""

    exemptions: tuple[Exemption, ...] | None = None
    extension: Extension | None = None
    event: Event | None = None


@boundary
async def revise(db: Database, *, cycle: Assignment, revision: Revision) -> Assignment | None:
    """Store the decision if nobody changed the cycle since it was read as `cycle` (None:
    re-read and decide again); stamped and revised like every write of a cycle."""
    change: dict[str, Any] = {"$set": {"changedAt": datetime.now(UTC)}, "$inc": {"rev": 1}}
    if revision.exemptions is not None:
        change["$set"]["exemptions"] = [e.to_doc() for e in revision.exemptions]
    if revision.extension is not None:
        change["$set"]["dueDate"] = revision.extension.to_due
        change["$push"] = {"extensions": revision.extension.to_doc()}
    doc = await db.db.assignments.find_one_and_update(
        _as_read(cycle), audit.carried(change, revision.event), return_document=ReturnDocument.AFTER
    )
    doc = await organizations.changed(db, doc)
    if doc is None:
        return None
    await audit.written(db, [revision.event])
    return Assignment.from_doc(doc)


def _as_read(cycle: Assignment) -> dict[str, Any]:
    """The cycle, if still at the revision it was read at (older documents have none)."""
    return {
        "orgId": oid(cycle.org_id),
        "_id": oid(cycle.id),
        "rev": cycle.rev or {"$in": [0, None]},
    }


@boundary
async def move_to_version(db: Database, *, org_id: str, ids: list[str], version: int) -> int:
    """Hold these cycles, if still open, to another version of their credential; how many."""
    if not ids:
        return 0
    result = await db.db.assignments.update_many(
        {"orgId": oid(org_id), "_id": {"$in": oids(ids)}, "completedAt": None},
        {"$set": {"version": version, "changedAt": datetime.now(UTC)}, "$inc": {"rev": 1}},
    )
    if result.modified_count:
        await organizations.touch(db, id=org_id)
    return result.modified_count


@boundary
async def credential_ids_for_learner(db: Database, *, org_id: str, learner_id: str) -> list[str]:
    found = await db.db.assignments.distinct(
        "credentialId", {"orgId": oid(org_id), "learnerId": oid(learner_id)}
    )
    return [str(c) for c in found]


@boundary
async def open_learners(db: Database) -> list[tuple[str, str]]:
    """(organization, learner) of every open cycle: a maintenance scan across organizations."""
    pipeline: list[dict[str, Any]] = [
        {"$match": {"completedAt": None}},
        {"$group": {"_id": {"org": "$orgId", "learner": "$learnerId"}}},
    ]
    rows = await (await db.db.assignments.aggregate(pipeline)).to_list()
    return [(str(row["_id"]["org"]), str(row["_id"]["learner"])) for row in rows]
