"""The `webhooks` and `webhookDeliveries` collections: where an organization's feed is pushed,
and every attempt to push it.

A webhook holds its place in the feed (`position`, the number of the last event its receiver
acknowledged) and the state of the event it is stuck on (attempts, since when, when to try
again). One process at a time delivers for a webhook (a lease, as the feed's sequencer has),
so its receiver gets events in the feed's order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument

from store import organizations, outbox
from store.audit import Event
from store.database import Database
from store.errors import boundary
from store.feed import FeedKind
from store.ids import oid, owned_one

LEASE = timedelta(seconds=30)  # renewed before each delivery (10 s at most) by its holder


@dataclass(frozen=True, slots=True)
class Webhook:
    id: str
    org_id: str
    url: str
    kinds: tuple[FeedKind, ...]  # none: every kind
    secret: str  # signs each delivery; shown once, at creation
    created_at: datetime
    created_by: str
    position: int  # the last event delivered (acknowledged), or skipped as of another kind
    attempts: int = 0  # of the event after `position`, so far
    failing_since: datetime | None = None
    next_attempt_at: datetime | None = None
    paused_at: datetime | None = None
    pause_reason: str | None = None

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Webhook:
        return cls(
            id=str(doc["_id"]),
            org_id=str(doc["orgId"]),
            url=doc["url"],
            kinds=tuple(FeedKind(k) for k in doc.get("kinds") or ()),
            secret=doc["secret"],
            created_at=doc["createdAt"],
            created_by=str(doc["createdBy"]),
            position=doc.get("position", 0),
            attempts=doc.get("attempts", 0),
            failing_since=doc.get("failingSince"),
            next_attempt_at=doc.get("nextAttemptAt"),
            paused_at=doc.get("pausedAt"),
            pause_reason=doc.get("pauseReason"),
        )


@boundary
async def create(
    db: Database,
    *,
    org_id: str,
    url: str,
    kinds: list[FeedKind],
    secret: str,
    created_by: str,
    position: int,
    now: datetime,
    event: Event | None = None,
) -> Webhook:
    doc, letters = outbox.stamped(
        {
            "_id": ObjectId(),
            "orgId": oid(org_id),
            "url": url,
            "kinds": [k.value for k in kinds],
            "secret": secret,
            "createdAt": now,
            "createdBy": oid(created_by),
            "position": position,
            "deleted": False,
        },
        event,
    )
    await db.db.webhooks.insert_one(doc)
    await organizations.touch(db, id=org_id)
    await outbox.written(db, letters)
    return Webhook.from_doc(doc)


@boundary
async def get(db: Database, *, org_id: str, id: str) -> Webhook | None:
    doc = await owned_one(db.db.webhooks, org_id=org_id, id=id)
    return Webhook.from_doc(doc) if doc and not doc.get("deleted") else None


@boundary
async def listed(db: Database, *, org_id: str) -> list[Webhook]:
    cursor = db.db.webhooks.find({"orgId": oid(org_id), "deleted": False}).sort("_id", 1)
    return [Webhook.from_doc(doc) async for doc in cursor]


@boundary
async def count(db: Database, *, org_id: str) -> int:
    return await db.db.webhooks.count_documents({"orgId": oid(org_id), "deleted": False})


@boundary
async def delete(
    db: Database, *, org_id: str, id: str, now: datetime, event: Event | None = None
) -> Webhook | None:
    """Stop a webhook for good (its deliveries stay to be read); None when there is none."""
    return await _changed(
        db,
        {"orgId": oid(org_id), "_id": oid(id), "deleted": False},
        {"$set": {"deleted": True, "deletedAt": now}},
        event,
    )


async def _changed(
    db: Database, query: dict[str, Any], change: dict[str, Any], event: Event | None
) -> Webhook | None:
    """The webhook as an administrator's `change` (carrying its event) left it; None when
    `query` matched none."""
    doc = await db.db.webhooks.find_one_and_update(
        query, outbox.carried(change, event), return_document=ReturnDocument.AFTER
    )
    doc = await organizations.changed(db, doc)
    if doc is None:
        return None
    await outbox.written(db, [event])
    return Webhook.from_doc(doc)


@boundary
async def due(db: Database, *, now: datetime) -> list[Webhook]:
    """Every organization's webhooks that may deliver now: not deleted or paused, and not
    waiting to try again."""
    cursor = db.db.webhooks.find(
        {
            "deleted": False,
            "pausedAt": None,
            "$or": [{"nextAttemptAt": None}, {"nextAttemptAt": {"$lt": now}}],
        }
    )
    return [Webhook.from_doc(doc) async for doc in cursor]


@boundary
async def lease(db: Database, *, webhook: Webhook, holder: str) -> Webhook | None:
    """The webhook, as it now is, if this holder may deliver for it (None: another does);
    the holder's own lease is renewed."""
    wall = datetime.now(UTC)  # leases are between processes, not app time
    doc = await db.db.webhooks.find_one_and_update(
        {
            "_id": oid(webhook.id),
            "deleted": False,
            "$or": [
                {"lease.until": None},
                {"lease.until": {"$lt": wall}},
                {"lease.holder": holder},
            ],
        },
        {"$set": {"lease": {"holder": holder, "until": wall + LEASE}}},
        return_document=ReturnDocument.AFTER,
    )
    return Webhook.from_doc(doc) if doc else None


@boundary
async def release(db: Database, *, webhook: Webhook, holder: str) -> None:
    await db.db.webhooks.update_one(
        {"_id": oid(webhook.id), "lease.holder": holder}, {"$set": {"lease": None}}
    )


@boundary
async def resume(db: Database, *, webhook: Webhook, event: Event | None = None) -> Webhook | None:
    """Deliver a paused webhook's events again, from where it stopped, as if afresh."""
    return await _changed(
        db,
        {"_id": oid(webhook.id), "deleted": False, "pausedAt": {"$ne": None}},
        {
            "$set": {"attempts": 0},
            "$unset": {"pausedAt": "", "pauseReason": "", "failingSince": "", "nextAttemptAt": ""},
        },
        event,
    )


@boundary
async def delivered(db: Database, *, webhook: Webhook, position: int) -> None:
    """Its receiver acknowledged everything up to `position`: the next event starts afresh."""
    await db.db.webhooks.update_one(
        {"_id": oid(webhook.id)},
        {
            "$set": {"position": position, "attempts": 0},
            "$unset": {"failingSince": "", "nextAttemptAt": ""},
        },
    )


@boundary
async def failed(
    db: Database,
    *,
    webhook: Webhook,
    failing_since: datetime,
    next_attempt_at: datetime,
    paused: str | None,
    now: datetime,
) -> None:
    """An attempt failed: try again at `next_attempt_at`, or stop, `paused` saying why."""
    change: dict[str, Any] = {
        "attempts": webhook.attempts + 1,
        "failingSince": failing_since,
        "nextAttemptAt": next_attempt_at,
    }
    if paused is not None:
        change |= {"pausedAt": now, "pauseReason": paused}
    await db.db.webhooks.update_one({"_id": oid(webhook.id)}, {"$set": change})


@dataclass(frozen=True, slots=True)
class Delivery:
    """One attempt to push one event to one webhook's receiver."""

    id: str
    org_id: str
    webhook_id: str
    event_id: str
    seq: int
    kind: FeedKind
    attempt: int
    at: datetime
    status: int | None  # the receiver's HTTP status; None when it did not answer
    error: str | None
    duration_ms: int

    def to_doc(self) -> dict[str, Any]:
        return {
            "_id": ObjectId(self.id),
            "orgId": oid(self.org_id),
            "webhookId": oid(self.webhook_id),
            "eventId": self.event_id,
            "seq": self.seq,
            "kind": self.kind.value,
            "attempt": self.attempt,
            "at": self.at,
            "status": self.status,
            "error": self.error,
            "durationMs": self.duration_ms,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Delivery:
        return cls(
            id=str(doc["_id"]),
            org_id=str(doc["orgId"]),
            webhook_id=str(doc["webhookId"]),
            event_id=doc["eventId"],
            seq=doc["seq"],
            kind=FeedKind(doc["kind"]),
            attempt=doc["attempt"],
            at=doc["at"],
            status=doc.get("status"),
            error=doc.get("error"),
            duration_ms=doc.get("durationMs", 0),
        )


@boundary
async def record(db: Database, *, delivery: Delivery) -> None:
    await db.db.webhookDeliveries.insert_one(delivery.to_doc())


@boundary
async def deliveries(
    db: Database, *, org_id: str, webhook_id: str, after: str | None, limit: int
) -> list[Delivery]:
    """Newest first."""
    query: dict[str, Any] = {"orgId": oid(org_id), "webhookId": oid(webhook_id)}
    if after is not None:
        query["_id"] = {"$lt": oid(after)}
    cursor = db.db.webhookDeliveries.find(query).sort("_id", -1).limit(limit)
    return [Delivery.from_doc(doc) async for doc in cursor]


@boundary
async def count_deliveries(db: Database, *, org_id: str, webhook_id: str) -> int:
    return await db.db.webhookDeliveries.count_documents(
        {"orgId": oid(org_id), "webhookId": oid(webhook_id)}
    )
