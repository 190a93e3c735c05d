"""The `labels` collection: names that group courses and training records ("CPR", "BLS")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bson import ObjectId

from store import organizations, outbox
from store.audit import Event
from store.database import Database
from store.errors import boundary
from store.ids import oid, owned, owned_one


@dataclass(frozen=True, slots=True)
class Label:
    id: str
    org_id: str
    name: str
    created_at: datetime

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Label:
        return cls(
            id=str(doc["_id"]),
            org_id=str(doc["orgId"]),
            name=doc["name"],
            created_at=doc["createdAt"],
        )


@boundary
async def create(
    db: Database, *, org_id: str, name: str, now: datetime, event: Event | None = None
) -> Label:
    """Insert a label; a name already used (in any letter case) raises `Conflict`."""
    doc, letters = outbox.stamped(
        {
            "_id": ObjectId(),
            "orgId": oid(org_id),
            "name": name,
            "key": name.casefold(),
            "createdAt": now,
        },
        event,
    )
    await db.db.labels.insert_one(doc)
    await organizations.touch(db, id=org_id)
    await outbox.written(db, letters)
    return Label(id=str(doc["_id"]), org_id=org_id, name=name, created_at=now)


@boundary
async def get(db: Database, *, org_id: str, id: str) -> Label | None:
    doc = await owned_one(db.db.labels, org_id=org_id, id=id)
    return Label.from_doc(doc) if doc else None


@boundary
async def get_many(db: Database, *, org_id: str, ids: list[str]) -> list[Label]:
    return [Label.from_doc(doc) for doc in await owned(db.db.labels, org_id=org_id, ids=ids)]


@boundary
async def list_all(db: Database, *, org_id: str) -> list[Label]:
    cursor = db.db.labels.find({"orgId": oid(org_id)}).sort("key", 1)
    return [Label.from_doc(doc) async for doc in cursor]
