"""The `assignments` collection: one learner's credential, one renewal cycle per document.

Completion is evaluated on write and its dates stored here; status is derived from these dates
and a moment (`asOf`) on read, in Python (`resolvers.listing`), so that one set of rules
decides a status wherever it is shown, filtered or counted. Every write stamps `changedAt`, by
which `store.scopes` reads only what changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError

from store import organizations, outbox
from store.audit import Event
from store.database import Database
from store.errors import boundary
from store.feed import FeedEvent, FeedKind
from store.ids import new, oid, oids, owned, owned_one
from store.overrides import Certification, Revocation, Withdrawal

DUPLICATE_KEY = 11000


@dataclass(frozen=True, slots=True)
class Successor:
    """What a cycle needs to know of the one after it: when it starts being current, and the
    edge of its evidence window (evidence it admits is no longer this cycle's).

    A next cycle withdrawn (`Withdrawal`) replaces this one no longer from its withdrawal on:
    an unassigned one takes the whole chain out of lists and counts from then (`withdrawn`);
    a renewal withdrawn with this cycle's revoked completion hands the learner back to this
    cycle (`hands_back`), until the cycle after it (`then`: when that one starts, or is
    unassigned) replaces it in turn.
    """

    start: datetime
    window_start: datetime | None
    window_after: datetime | None
    withdrawn: datetime | None = None
    hands_back: bool = False
    then: datetime | None = None

    @classmethod
    def of(cls, cycle: Assignment, after: Assignment | None = None) -> Successor:
        """The successor `cycle`, followed by `after` (if any)."""
        withdrawal = cycle.withdrawal
        hands_back = withdrawal is not None and withdrawal.revoked
        return cls(
            cycle.start_date,
            cycle.window_start,
            cycle.window_after,
            withdrawn=withdrawal.at if withdrawal else None,
            hands_back=hands_back,
            then=after.replaces_from if hands_back and after is not None else None,
        )

    def supersedes(self, as_of: datetime) -> bool:
        """Whether the cycle before is replaced at `as_of`: by this one once started, or gone
        with it when it was unassigned, or its own again after a revoked renewal's withdrawal."""
        if self.withdrawn is not None and self.withdrawn <= as_of:
            return not self.hands_back or (self.then is not None and self.then <= as_of)
        return self.start <= as_of

    @classmethod
    def from_doc(cls, doc: dict[str, Any] | None) -> Successor | None:
        if not doc:
            return None
        return cls(
            doc["start"],
            doc.get("windowStart"),
            doc.get("windowAfter"),
            withdrawn=doc.get("withdrawn"),
            hands_back=doc.get("handsBack", False),
            then=doc.get("then"),
        )

    def to_doc(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "windowStart": self.window_start,
            "windowAfter": self.window_after,
            "withdrawn": self.withdrawn,
            "handsBack": self.hands_back,
            "then": self.then,
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
    certification: Certification | None = None
    revocation: Revocation | None = None
    withdrawal: Withdrawal | None = None
    edition: int = 0  # advanced when what its credential said stops being true (`narrowed`)

    @property
    def open(self) -> bool:
        """Not completed and not withdrawn: what evidence may still complete."""
        return self.completed_at is None and self.withdrawal is None

    @property
    def fixed(self) -> bool:
        """Revoked or withdrawn: derivation no longer changes it (but a revoked cycle's own
        renewal is withdrawn with it)."""
        return self.revocation is not None or self.withdrawal is not None

    @property
    def replaces_from(self) -> datetime:
        """When it replaces the cycle before it: its start, or its unassignment if earlier."""
        if self.withdrawal is not None and not self.withdrawal.revoked:
            return min(self.start_date, self.withdrawal.at)
        return self.start_date

    @property
    def floor(self) -> tuple[datetime | None, datetime | None]:
        """What evidence of a cycle opened after this one must be fresher than, and outlast:
        this one's (a withdrawn cycle passes on what it was held to; a revoked validity is no
        longer anything to outlast)."""
        if self.withdrawal is not None:
            outlast = None if self.withdrawal.revoked else self.previous_valid_until
            return self.window_after, outlast
        if self.revocation is not None:
            return self.valid_from, None
        return self.valid_from, self.valid_until

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
        window_after, previous_valid_until = previous.floor if previous else (None, None)
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
            window_after=window_after,
            previous_valid_until=previous_valid_until,
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
            certification=Certification.from_doc(doc.get("certification")),
            revocation=Revocation.from_doc(doc.get("revocation")),
            withdrawal=Withdrawal.from_doc(doc.get("withdrawal")),
            edition=doc.get("edition") or 0,
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
            "certification": self.certification.to_doc() if self.certification else None,
            "edition": self.edition,
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
            "revocation": self.revocation.to_doc() if self.revocation else None,
            "withdrawal": self.withdrawal.to_doc() if self.withdrawal else None,
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
    stamped = [
        outbox.stamped(
            {**cycle.to_doc(), "changedAt": changed}, events.get(cycle.id), *told(None, cycle)
        )
        for cycle in cycles
    ]
    stored = [doc for doc, _ in stamped]
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
    await outbox.written(db, [letter for i, (_, letters) in enumerate(stamped) if i not in failed
                              for letter in letters])  # fmt: skip
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
async def editions(db: Database, *, org_id: str) -> dict[str, int]:
    """The editions of the organization's cycles past their first: read through an index, so
    as many reads as there are narrowed cycles — few — not as there are cycles."""
    cursor = db.db.assignments.find(
        {"orgId": oid(org_id), "edition": {"$gt": 0}}, {"_id": 1, "edition": 1}
    )
    return {str(doc["_id"]): doc["edition"] async for doc in cursor}


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
async def save(db: Database, *, cycle: Assignment, was: Assignment, now: datetime) -> bool:
    """Store a cycle's derived fields, as derived at `now`, if nobody changed it since it was
    read as `was`.

    Completion, validity and schedule are derived from all of a learner's evidence; two
    derivations racing must not leave the older one's answer behind, so each write is
    conditioned on the revision it was derived from (False: re-read and derive again).
    """
    changed = {k: v for k, v in cycle.derived().items() if was.derived()[k] != v}
    if not changed:
        return True
    letters = [*told(was, cycle), *revalidated(was, cycle, now)]
    result = await db.db.assignments.update_one(
        _as_read(was),
        outbox.carried(
            {"$set": {**changed, "changedAt": datetime.now(UTC)}, "$inc": _advanced(was, cycle)},
            *letters,
        ),
    )
    if result.modified_count != 1:
        return False
    await organizations.touch(db, id=was.org_id)
    await outbox.written(db, letters)
    return True


@dataclass(frozen=True, slots=True)
class Revision:
    """A person's decision about a cycle: its exemptions as they now are, an extension, or an
    override (a certification, a revocation, an unassignment); and the audit event it leaves."""

    exemptions: tuple[Exemption, ...] | None = None
    extension: Extension | None = None
    certification: Certification | None = None
    revocation: Revocation | None = None
    withdrawal: Withdrawal | None = None
    event: Event | None = None


@boundary
async def revise(db: Database, *, cycle: Assignment, revision: Revision) -> Assignment | None:
    """Store the decision if nobody changed the cycle since it was read as `cycle` (None:
    re-read and decide again); stamped and revised like every write of a cycle."""
    change: dict[str, Any] = {"$set": {"changedAt": datetime.now(UTC)}}
    if revision.exemptions is not None:
        change["$set"]["exemptions"] = [e.to_doc() for e in revision.exemptions]
    if revision.extension is not None:
        change["$set"]["dueDate"] = revision.extension.to_due
        change["$push"] = {"extensions": revision.extension.to_doc()}
    for name, override in (
        ("certification", revision.certification),
        ("revocation", revision.revocation),
        ("withdrawal", revision.withdrawal),
    ):
        if override is not None:
            change["$set"][name] = override.to_doc()
    after = replace(
        cycle,
        exemptions=revision.exemptions if revision.exemptions is not None else cycle.exemptions,
        due_date=revision.extension.to_due if revision.extension else cycle.due_date,
        extensions=(*cycle.extensions, *([revision.extension] if revision.extension else [])),
        certification=revision.certification or cycle.certification,
        revocation=revision.revocation or cycle.revocation,
        withdrawal=revision.withdrawal or cycle.withdrawal,
    )
    change["$inc"] = _advanced(cycle, after)
    letters = [revision.event, *told(cycle, after)]
    doc = await db.db.assignments.find_one_and_update(
        _as_read(cycle), outbox.carried(change, *letters), return_document=ReturnDocument.AFTER
    )
    doc = await organizations.changed(db, doc)
    if doc is None:
        return None
    await outbox.written(db, letters)
    return Assignment.from_doc(doc)


def narrowed(was: Assignment, now: Assignment) -> bool:
    """Whether a credential exported from `was` now says more than is true: the completion
    revoked or undone, or valid until later than it now is (evidence withdrawn). Such a change
    advances the cycle's edition, and the status lists revoke what earlier editions exported
    (`resolvers.status_lists`); a change that only adds to what was said — fresher evidence,
    a longer validity — leaves what was exported true."""
    if was.completed_at is None or was.revocation is not None:
        return False
    if now.revocation is not None or now.completed_at is None:
        return True
    return now.valid_until is not None and (
        was.valid_until is None or now.valid_until < was.valid_until
    )


def _advanced(was: Assignment, now: Assignment) -> dict[str, int]:
    """The counters a write of `now` over `was` advances."""
    return {"rev": 1, **({"edition": 1} if narrowed(was, now) else {})}


def _event(cycle: Assignment, kind: FeedKind, at: datetime, **data: Any) -> FeedEvent:
    return FeedEvent(
        cycle.org_id, kind, at, "CredentialAssignment", cycle.learner_id, cycle.id,
        cycle.credential_id, {"cycle": cycle.cycle, **data},
    )  # fmt: skip


def revalidated(was: Assignment, now: Assignment, at: datetime) -> list[FeedEvent]:
    """What the feed says when an earned cycle's validity changes as evidence comes and goes
    (a revocation is told as one)."""
    if was.completed_at is None or now.revocation is not None:
        return []
    validity = (now.completed_at, now.valid_from, now.valid_until)
    if validity == (was.completed_at, was.valid_from, was.valid_until):
        return []
    return [
        _event(
            now, FeedKind.CREDENTIAL_VALIDITY_CHANGED, at, completed=now.completed_at is not None,
            validFrom=now.valid_from, validUntil=now.valid_until,
        )
    ]  # fmt: skip


def told(was: Assignment | None, now: Assignment) -> list[FeedEvent]:
    """What the feed says of a cycle's change from `was` (None: new) to `now`."""

    def event(kind: FeedKind, at: datetime, **data: Any) -> FeedEvent:
        return _event(now, kind, at, **data)

    found = []
    if was is None:
        found.append(event(FeedKind.CREDENTIAL_ASSIGNED, now.assigned_at, dueDate=now.due_date))
    if (was is None or was.completed_at is None) and now.completed_at is not None:
        found.append(
            event(
                FeedKind.CREDENTIAL_COMPLETED,
                now.completed_at,
                validFrom=now.valid_from,
                validUntil=now.valid_until,
            )
        )
    if was is not None:
        for extension in now.extensions[len(was.extensions) :]:
            moved = {"fromDueDate": extension.from_due, "toDueDate": extension.to_due}
            found.append(event(FeedKind.DUE_DATE_EXTENDED, extension.at, **moved))
        before = {e.since: e for e in was.exemptions}
        for exemption in now.exemptions:
            earlier = before.get(exemption.since)
            if earlier is None:
                found.append(event(FeedKind.EXEMPTED, exemption.since, until=exemption.until))
            elif exemption.until != earlier.until and exemption.ended_by is not None:
                assert exemption.until is not None, "an ended exemption ends"
                found.append(event(FeedKind.EXEMPTION_ENDED, exemption.until))
    if now.revocation is not None and (was is None or was.revocation is None):
        found.append(event(FeedKind.CREDENTIAL_REVOKED, now.revocation.at))
    if now.withdrawal is not None and (was is None or was.withdrawal is None):
        # `revoked`: withdrawn as the renewal of a completion since revoked
        found.append(
            event(FeedKind.CREDENTIAL_UNASSIGNED, now.withdrawal.at, revoked=now.withdrawal.revoked)
        )
    return found


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
        {"orgId": oid(org_id), "_id": {"$in": oids(ids)}, "completedAt": None, "withdrawal": None},
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
        {"$match": {"completedAt": None, "withdrawal": None}},
        {"$group": {"_id": {"org": "$orgId", "learner": "$learnerId"}}},
    ]
    rows = await (await db.db.assignments.aggregate(pipeline)).to_list()
    return [(str(row["_id"]["org"]), str(row["_id"]["learner"])) for row in rows]
