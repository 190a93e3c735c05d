"""The `notifications` collection: what happened that a user should know about."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from pymongo.errors import BulkWriteError

from store import organizations
from store.database import Database
from store.errors import boundary
from store.ids import oid, oids


class NotificationKind(StrEnum):
    RECORD_SUBMITTED = "RECORD_SUBMITTED"
    RECORD_APPROVED = "RECORD_APPROVED"
    RECORD_DECLINED = "RECORD_DECLINED"
    CREDENTIAL_ASSIGNED = "CREDENTIAL_ASSIGNED"
    CREDENTIAL_COMPLETED = "CREDENTIAL_COMPLETED"
    CREDENTIAL_CERTIFIED = "CREDENTIAL_CERTIFIED"  # completed by an administrator's decision
    CREDENTIAL_REVOKED = "CREDENTIAL_REVOKED"  # an earned cycle withdrawn
    CREDENTIAL_UNASSIGNED = "CREDENTIAL_UNASSIGNED"  # an open cycle withdrawn
    RECORD_REVOKED = "RECORD_REVOKED"  # an approval withdrawn
    DUE_SOON = "DUE_SOON"  # reminders (`resolvers.reminders`): a due date comes near …
    OVERDUE = "OVERDUE"  # … or passes
    EXPIRING_SOON = "EXPIRING_SOON"  # validity ends soon …
    EXPIRED = "EXPIRED"  # … or has ended
    DOCUMENT_EXPIRING = "DOCUMENT_EXPIRING"  # a licence's end date comes near
    EXTENSION_REQUESTED = "EXTENSION_REQUESTED"  # to the learner's reviewers
    EXTENSION_GRANTED = "EXTENSION_GRANTED"  # to the learner: the due date moved later
    EXTENSION_DENIED = "EXTENSION_DENIED"
    WEBHOOK_PAUSED = "WEBHOOK_PAUSED"  # to the administrators: its receiver kept failing


DUPLICATE_KEY = 11000


class SubjectType(StrEnum):
    """What a notification is about: the GraphQL type of its subject."""

    TRAINING_RECORD = "TrainingRecord"
    CREDENTIAL_ASSIGNMENT = "CredentialAssignment"
    WEBHOOK = "Webhook"


@dataclass(frozen=True, slots=True)
class Notification:
    id: str
    org_id: str
    user_id: str
    kind: NotificationKind
    created_at: datetime
    read_at: datetime | None
    subject_type: SubjectType
    subject_id: str

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Notification:
        return cls(
            id=str(doc["_id"]),
            org_id=str(doc["orgId"]),
            user_id=str(doc["userId"]),
            kind=NotificationKind(doc["kind"]),
            created_at=doc["createdAt"],
            read_at=doc.get("readAt"),
            subject_type=SubjectType(doc["subject"]["type"]),
            subject_id=str(doc["subject"]["id"]),
        )


async def notify(
    db: Database,
    *,
    org_id: str,
    user_ids: Sequence[str],
    kind: NotificationKind,
    subject_type: SubjectType,
    subject_id: str,
    now: datetime,
) -> None:
    """Tell several users about one subject."""
    pairs = [(user_id, subject_id) for user_id in user_ids]
    await notify_each(db, org_id=org_id, pairs=pairs, kind=kind, subject_type=subject_type, now=now)


@boundary
async def notify_each(
    db: Database,
    *,
    org_id: str,
    pairs: Sequence[tuple[str, str]],
    kind: NotificationKind,
    subject_type: SubjectType,
    now: datetime,
) -> None:
    """Tell each user about their own subject, in one round trip."""
    if not pairs:
        return
    await db.db.notifications.insert_many(
        [
            {
                "orgId": oid(org_id),
                "userId": oid(user_id),
                "kind": kind.value,
                "createdAt": now,
                "readAt": None,
                "subject": {"type": subject_type, "id": oid(subject_id)},
            }
            for user_id, subject_id in pairs
        ]
    )
    await organizations.touch(db, id=org_id)


class Keyed(NamedTuple):
    """A notification written once however often it is asked for: its `key` is unique."""

    user_id: str
    kind: NotificationKind
    subject_type: SubjectType
    subject_id: str
    key: str


@boundary
async def notify_once(db: Database, *, org_id: str, keyed: Sequence[Keyed], now: datetime) -> None:
    """Write the notifications in one round trip, each once per key: a key already written is
    skipped (its unique index), the others are written."""
    if not keyed:
        return
    docs = [
        {
            "orgId": oid(org_id),
            "userId": oid(k.user_id),
            "kind": k.kind.value,
            "createdAt": now,
            "readAt": None,
            "subject": {"type": k.subject_type, "id": oid(k.subject_id)},
            "key": k.key,
        }
        for k in keyed
    ]
    try:
        await db.db.notifications.insert_many(docs, ordered=False)
    except BulkWriteError as error:
        if any(e.get("code") != DUPLICATE_KEY for e in error.details["writeErrors"]):
            raise
        if len(error.details["writeErrors"]) == len(docs):
            return  # every one was written before: nothing changed
    await organizations.touch(db, id=org_id)


@boundary
async def page(
    db: Database, *, org_id: str, user_id: str, unread_only: bool, after: str | None, limit: int
) -> list[Notification]:
    """Newest first."""
    query: dict[str, Any] = {"orgId": oid(org_id), "userId": oid(user_id)}
    if unread_only:
        query["readAt"] = None
    if after is not None:
        query["_id"] = {"$lt": oid(after)}
    cursor = db.db.notifications.find(query).sort("_id", -1).limit(limit)
    return [Notification.from_doc(doc) async for doc in cursor]


@boundary
async def count(db: Database, *, org_id: str, user_id: str, unread_only: bool) -> int:
    query: dict[str, Any] = {"orgId": oid(org_id), "userId": oid(user_id)}
    if unread_only:
        query["readAt"] = None
    return await db.db.notifications.count_documents(query)


@boundary
async def mark_read(
    db: Database, *, org_id: str, user_id: str, ids: list[str] | None, now: datetime
) -> int:
    """Mark the user's notifications read (all of them when `ids` is None); how many changed."""
    query: dict[str, Any] = {"orgId": oid(org_id), "userId": oid(user_id), "readAt": None}
    if ids is not None:
        query["_id"] = {"$in": oids(ids)}
    result = await db.db.notifications.update_many(query, {"$set": {"readAt": now}})
    if result.modified_count:
        await organizations.touch(db, id=org_id)
    return result.modified_count


@boundary
async def get(db: Database, *, org_id: str, user_id: str, id: str) -> Notification | None:
    doc = await db.db.notifications.find_one(
        {"orgId": oid(org_id), "userId": oid(user_id), "_id": oid(id)}
    )
    return Notification.from_doc(doc) if doc else None
