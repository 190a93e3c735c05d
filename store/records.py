"""The `records` collection: training done elsewhere and credential documents, with review.

A review is one atomic update conditioned on the record still being PENDING, so of two
concurrent decisions exactly one is stored; a revocation likewise on its being APPROVED.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Any, NamedTuple

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError

from store import organizations, outbox
from store.audit import Event
from store.database import Database
from store.errors import boundary
from store.feed import FeedEvent, FeedKind
from store.ids import oid, oids, owned, owned_one

DUPLICATE_KEY = 11000
KEYS_AT_ONCE = 50  # an `$in` costs the embedded database more than linearly in its length


class LessonStatus(StrEnum):
    PASSED = "PASSED"
    COMPLETED = "COMPLETED"
    NOT_APPLICABLE = "NOT_APPLICABLE"
    INCOMPLETE = "INCOMPLETE"
    FAILED = "FAILED"


class RecordType(StrEnum):
    ADDITIONAL_TRAINING = "ADDITIONAL_TRAINING"
    CREDENTIAL_DOCUMENT = "CREDENTIAL_DOCUMENT"


class RecordStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    DECLINED = "DECLINED"
    REVOKED = "REVOKED"  # approved, then withdrawn: it counts no longer


@dataclass(frozen=True, slots=True)
class RecordRevocation:
    """An approval withdrawn: when, by whom, why."""

    at: datetime
    by: str
    reason: str


@dataclass(frozen=True, slots=True)
class Document:
    file_id: str
    filename: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Record:
    id: str
    org_id: str
    learner_id: str
    type: RecordType
    title: str
    label_id: str | None
    provider: str | None
    clock_hours: float | None
    description: str | None
    lesson_status: str | None
    completed_at: datetime | None
    issue_date: date | None
    end_date: date | None
    document: Document | None
    status: RecordStatus
    submitted_by: str
    submitted_at: datetime
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_note: str | None
    assignment_id: str | None
    requirement_id: str | None
    previous_id: str | None
    settled: bool = True
    request_digest: str | None = None
    credential_id: str | None = None  # of the assignment it was submitted for
    revocation: RecordRevocation | None = None
    document_reference: str | None = None  # an imported row's: a URL or an id, never fetched
    import_id: str | None = None

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Record:
        document = doc.get("document")
        return cls(
            id=str(doc["_id"]),
            org_id=str(doc["orgId"]),
            learner_id=str(doc["learnerId"]),
            type=RecordType(doc["type"]),
            title=doc["title"],
            label_id=_str(doc.get("labelId")),
            provider=doc.get("provider"),
            clock_hours=doc.get("clockHours"),
            description=doc.get("description"),
            lesson_status=doc.get("lessonStatus"),
            completed_at=doc.get("completedAt"),
            issue_date=_date(doc.get("issueDate")),
            end_date=_date(doc.get("endDate")),
            document=Document(
                file_id=str(document["fileId"]),
                filename=document["filename"],
                content_type=document["contentType"],
                size=document["size"],
                sha256=document["sha256"],
            )
            if document
            else None,
            status=RecordStatus(doc["status"]),
            submitted_by=str(doc["submittedBy"]),
            submitted_at=doc["submittedAt"],
            reviewed_by=_str(doc.get("reviewedBy")),
            reviewed_at=doc.get("reviewedAt"),
            review_note=doc.get("reviewNote"),
            assignment_id=_str(doc.get("assignmentId")),
            requirement_id=doc.get("requirementId"),
            previous_id=_str(doc.get("previousId")),
            settled=doc.get("settled", True),
            request_digest=doc.get("requestDigest"),
            credential_id=_str(doc.get("credentialId")),
            revocation=RecordRevocation(revoked["at"], str(revoked["by"]), revoked["reason"])
            if (revoked := doc.get("revocation"))
            else None,
            document_reference=doc.get("documentReference"),
            import_id=_str(doc.get("importId")),
        )


def _str(value: Any) -> str | None:
    return str(value) if value is not None else None


def _date(value: datetime | None) -> date | None:
    """MongoDB has no date type: dates are stored as midnight UTC."""
    return value.date() if value is not None else None


def midnight(day: date | None) -> datetime | None:
    return datetime.combine(day, time(), UTC) if day is not None else None


_IDS = ("labelId", "reviewedBy", "assignmentId", "credentialId", "previousId", "importId")


def _stored(doc: dict[str, Any]) -> dict[str, Any]:
    """A new record as stored: ids as ObjectIds, dates as midnights."""
    return {
        "_id": ObjectId(),
        **doc,
        "orgId": oid(doc["orgId"]),
        "learnerId": oid(doc["learnerId"]),
        "submittedBy": oid(doc["submittedBy"]),
        **{name: oid(doc[name]) if doc.get(name) else None for name in _IDS},
        "issueDate": midnight(doc.get("issueDate")),
        "endDate": midnight(doc.get("endDate")),
    }


@boundary
async def insert(db: Database, *, doc: dict[str, Any], event: Event | None = None) -> Record:
    """Insert a record; a reused idempotency key raises `Conflict`."""
    stored = _stored(doc)
    if stored.get("document"):
        stored["document"] = {**stored["document"], "fileId": oid(stored["document"]["fileId"])}
    if stored["status"] != RecordStatus.PENDING.value:
        stored["settled"] = False
    record = Record.from_doc(stored)
    stored, letters = outbox.stamped(stored, event, *_submitted(record))
    await db.db.records.insert_one(stored)
    await organizations.touch(db, id=str(stored["orgId"]))
    await outbox.written(db, letters)
    return record


@boundary
async def insert_imported(db: Database, *, docs: list[dict[str, Any]]) -> set[int]:
    """Insert an import's batch of records in one round trip (each with its `importKey`, and
    as `insert` stores them); the indexes of those whose key was already taken — a row
    applied before, by this import or another — are returned, not raised.

    They carry no `settled` marker: the import settles the learners of every batch it
    writes, again when it resumes a batch a crash interrupted."""
    if not docs:
        return set()
    stored = [_stored(doc) for doc in docs]
    carried = [outbox.stamped(doc, *_submitted(Record.from_doc(doc))) for doc in stored]
    try:
        await db.db.records.insert_many([doc for doc, _ in carried], ordered=False)
        taken: set[int] = set()
    except BulkWriteError as error:
        if any(e.get("code") != DUPLICATE_KEY for e in error.details["writeErrors"]):
            raise
        taken = {e["index"] for e in error.details["writeErrors"]}
    if len(taken) < len(stored):
        await organizations.touch(db, id=str(stored[0]["orgId"]))
    await outbox.written(
        db,
        [letter for i, (_, letters) in enumerate(carried) if i not in taken for letter in letters],
    )
    return taken


class KeyHolder(NamedTuple):
    """The record that holds an import key: which it is, the import and line that made it."""

    record_id: str
    import_id: str | None
    line: int | None
    status: RecordStatus


@boundary
async def by_import_keys(db: Database, *, org_id: str, keys: list[str]) -> dict[str, KeyHolder]:
    """The records holding these keys, by key.

    Asked by key alone, so that the key's index is the one the embedded database reads
    through (with `orgId` too it reads the organization's records); a key digests its
    organization, and the organization is checked on what comes back."""
    org, found = oid(org_id), {}
    for start in range(0, len(keys), KEYS_AT_ONCE):
        cursor = db.db.records.find(
            {"importKey": {"$in": keys[start : start + KEYS_AT_ONCE]}},
            {"orgId": 1, "importKey": 1, "importId": 1, "importLine": 1, "status": 1},
        )
        async for doc in cursor:
            if doc["orgId"] == org:
                found[doc["importKey"]] = KeyHolder(
                    str(doc["_id"]), _str(doc.get("importId")), doc.get("importLine"),
                    RecordStatus(doc["status"]),
                )  # fmt: skip
    return found


@boundary
async def by_idempotency_key(
    db: Database, *, org_id: str, submitted_by: str, learner_id: str, key: str
) -> Record | None:
    """A key is the caller's, for one learner: the same key for another learner is another."""
    doc = await db.db.records.find_one(
        {
            "orgId": oid(org_id),
            "submittedBy": oid(submitted_by),
            "learnerId": oid(learner_id),
            "idempotencyKey": key,
        }
    )
    return Record.from_doc(doc) if doc else None


@boundary
async def get(db: Database, *, org_id: str, id: str) -> Record | None:
    doc = await owned_one(db.db.records, org_id=org_id, id=id)
    return Record.from_doc(doc) if doc else None


@boundary
async def get_many(db: Database, *, org_id: str, ids: list[str]) -> list[Record]:
    return [Record.from_doc(doc) for doc in await owned(db.db.records, org_id=org_id, ids=ids)]


@boundary
async def for_learners(db: Database, *, org_id: str, learner_ids: list[str]) -> list[Record]:
    cursor = db.db.records.find(
        {"orgId": oid(org_id), "learnerId": {"$in": oids(learner_ids)}}
    ).sort([("submittedAt", 1), ("_id", 1)])
    return [Record.from_doc(doc) async for doc in cursor]


@boundary
async def documents_ending(db: Database, *, org_id: str, after: date) -> list[Record]:
    """The organization's approved credential documents that end after `after` (read by the
    indexed status, sifted here: the embedded database plans more fields as a scan)."""
    cursor = db.db.records.find({"orgId": oid(org_id), "status": RecordStatus.APPROVED.value})
    approved = [Record.from_doc(doc) async for doc in cursor]
    return [
        found
        for found in approved
        if found.type is RecordType.CREDENTIAL_DOCUMENT
        and found.end_date is not None
        and found.end_date >= after
    ]


@boundary
async def mark_notified(db: Database, *, org_id: str, id: str) -> None:
    await db.db.records.update_one({"_id": oid(id)}, {"$set": {"learnerNotified": True}})


@boundary
async def unnotified(db: Database) -> list[Record]:
    """Decided records whose learner was not yet told: a maintenance scan across organizations."""
    cursor = db.db.records.find({"learnerNotified": False})
    return [Record.from_doc(doc) async for doc in cursor]


@boundary
async def review(
    db: Database,
    *,
    record: Record,
    status: RecordStatus,
    reviewer_id: str,
    note: str | None,
    now: datetime,
    event: Event | None = None,
) -> Record | None:
    """Decide the record, if still PENDING; None when it is not (or no longer)."""
    told = _told(record, DECIDED[status], now)
    change = outbox.carried(
        {
            "$set": {
                "status": status.value,
                "reviewedBy": oid(reviewer_id),
                "reviewedAt": now,
                "reviewNote": note,
                "learnerNotified": False,
                "settled": False,
            }
        },
        event,
        told,
    )
    doc = await db.db.records.find_one_and_update(
        {"orgId": oid(record.org_id), "_id": oid(record.id), "status": RecordStatus.PENDING.value},
        change,
        return_document=ReturnDocument.AFTER,
    )
    doc = await organizations.changed(db, doc)
    if doc is None:
        return None
    await outbox.written(db, [event, told])
    return Record.from_doc(doc)


DECIDED = {
    RecordStatus.APPROVED: FeedKind.RECORD_APPROVED,
    RecordStatus.DECLINED: FeedKind.RECORD_DECLINED,
}


def _submitted(record: Record) -> list[FeedEvent]:
    """What the feed says of a new record: submitted, and approved as it was when it is an
    administrator's own (or imported history the organization vouches for)."""
    kinds = [FeedKind.RECORD_SUBMITTED]
    if record.status is RecordStatus.APPROVED:
        kinds.append(FeedKind.RECORD_APPROVED)
    return [_told(record, kind, record.submitted_at) for kind in kinds]


def _told(record: Record, kind: FeedKind, at: datetime) -> FeedEvent:
    """What the feed says of a record's submission or decision."""
    return FeedEvent(
        record.org_id, kind, at, "TrainingRecord", record.learner_id, record.id,
        record.credential_id, {"type": record.type.value, "title": record.title},
    )  # fmt: skip


@boundary
async def revoke(
    db: Database,
    *,
    record: Record,
    by: str,
    reason: str,
    now: datetime,
    event: Event | None = None,
) -> Record | None:
    """Withdraw an APPROVED record's approval; None when it is not (or no longer) approved.
    Marked unsettled and its learner untold in the same write, as a review is."""
    letters = [event, _told(record, FeedKind.RECORD_REVOKED, now)]
    doc = await db.db.records.find_one_and_update(
        {"orgId": oid(record.org_id), "_id": oid(record.id), "status": RecordStatus.APPROVED.value},
        outbox.carried(
            {
                "$set": {
                    "status": RecordStatus.REVOKED.value,
                    "revocation": {"at": now, "by": oid(by), "reason": reason},
                    "learnerNotified": False,
                    "settled": False,
                }
            },
            *letters,
        ),
        return_document=ReturnDocument.AFTER,
    )
    doc = await organizations.changed(db, doc)
    if doc is None:
        return None
    await outbox.written(db, letters)
    return Record.from_doc(doc)


def _query(
    org_id: str,
    *,
    learner_ids: list[str] | None,
    status: str | None,
    type: str | None,
    credential_id: str | None = None,
) -> dict[str, Any]:
    """Records of the organization; of these learners only, when given."""
    query: dict[str, Any] = {"orgId": oid(org_id)}
    if learner_ids is not None:
        wanted = oids(learner_ids)
        query["learnerId"] = wanted[0] if len(wanted) == 1 else {"$in": wanted}
    if credential_id is not None:
        query["credentialId"] = oid(credential_id)
    if status is not None:
        query["status"] = status
    if type is not None:
        query["type"] = type
    return query


@boundary
async def page(
    db: Database,
    *,
    org_id: str,
    learner_ids: list[str] | None,
    status: str | None,
    type: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Record]:
    """Oldest submission first (the review queue's order), keyset on (submittedAt, id)."""
    query = _query(org_id, learner_ids=learner_ids, status=status, type=type)
    if after is not None:
        at, last_id = after
        query["$or"] = [
            {"submittedAt": {"$gt": at}},
            {"submittedAt": at, "_id": {"$gt": oid(last_id)}},
        ]
    cursor = db.db.records.find(query).sort([("submittedAt", 1), ("_id", 1)]).limit(limit)
    return [Record.from_doc(doc) async for doc in cursor]


@boundary
async def count(
    db: Database,
    *,
    org_id: str,
    learner_ids: list[str] | None = None,
    status: str | None = None,
    type: str | None = None,
    credential_id: str | None = None,
) -> int:
    query = _query(
        org_id, learner_ids=learner_ids, status=status, type=type, credential_id=credential_id
    )
    return await db.db.records.count_documents(query)
