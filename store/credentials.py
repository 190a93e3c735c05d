"""The `credentials` collection: definitions, each with the versions of its policy.

A version holds what an assignment must keep when the credential is edited later: the criteria
tree (stored nested, as plain data) and the periods. Edits push a new version; assignments
name the version they were made with, so history is never rewritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument

from store import organizations, outbox
from store.audit import Event
from store.database import Database
from store.errors import boundary
from store.ids import oid, owned, owned_one


@dataclass(frozen=True, slots=True)
class Version:
    number: int
    criteria: dict[str, Any]
    complete_within: dict[str, Any]
    valid_for: dict[str, Any] | None
    created_at: datetime

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Version:
        return cls(
            number=doc["number"],
            criteria=doc["criteria"],
            complete_within=doc["completeWithin"],
            valid_for=doc.get("validFor"),
            created_at=doc["createdAt"],
        )


@dataclass(frozen=True, slots=True)
class Credential:
    id: str
    org_id: str
    name: str
    instructions: str
    image_url: str | None
    reassign_on_completion: bool
    versions: tuple[Version, ...]
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None
    reminders: dict[str, Any] | None = (
        None  # offsets (`resolvers.reminders.Schedule`); None: defaults
    )

    @property
    def current(self) -> Version:
        return self.versions[-1]

    def version(self, number: int) -> Version:
        return self.versions[number - 1]

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Credential:
        return cls(
            id=str(doc["_id"]),
            org_id=str(doc["orgId"]),
            name=doc["name"],
            instructions=doc.get("instructions", ""),
            image_url=doc.get("imageUrl"),
            reassign_on_completion=doc.get("reassignOnCompletion", False),
            versions=tuple(Version.from_doc(v) for v in doc["versions"]),
            created_at=doc["createdAt"],
            updated_at=doc["updatedAt"],
            reminders=doc.get("reminders"),
            archived_at=doc.get("archivedAt"),
        )


def version_doc(
    *,
    number: int,
    criteria: dict[str, Any],
    node_ids: list[str],
    complete_within: dict[str, Any],
    valid_for: dict[str, Any] | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "number": number,
        "criteria": criteria,
        "nodeIds": node_ids,
        "completeWithin": complete_within,
        "validFor": valid_for,
        "createdAt": now,
    }


@boundary
async def create(
    db: Database,
    *,
    org_id: str,
    name: str,
    instructions: str,
    image_url: str | None,
    reassign_on_completion: bool,
    version: dict[str, Any],
    now: datetime,
    reminders: dict[str, Any] | None = None,
    event: Event | None = None,
) -> Credential:
    doc = {
        "_id": ObjectId(),
        "orgId": oid(org_id),
        "name": name,
        "instructions": instructions,
        "imageUrl": image_url,
        "reassignOnCompletion": reassign_on_completion,
        "versions": [version],
        "currentVersion": version["number"],
        "createdAt": now,
        "updatedAt": now,
        "archivedAt": None,
        "reminders": reminders,
    }
    doc, letters = outbox.stamped(doc, event)
    await db.db.credentials.insert_one(doc)
    await organizations.touch(db, id=org_id)
    await outbox.written(db, letters)
    return Credential.from_doc(doc)


@boundary
async def update(
    db: Database,
    *,
    current: Credential,
    fields: dict[str, Any],
    version: dict[str, Any] | None,
    now: datetime,
    event: Event | None = None,
) -> Credential | None:
    """Apply an edit unless the credential changed since it was read as `current`, or was
    archived (then None)."""
    change: dict[str, Any] = {"$set": {**fields, "updatedAt": now}}
    if version is not None:
        change["$push"] = {"versions": version}
        change["$set"]["currentVersion"] = version["number"]
    as_read = {name: stored(current)[name] for name in fields}
    doc = await db.db.credentials.find_one_and_update(
        {
            "orgId": oid(current.org_id),
            "_id": oid(current.id),
            "currentVersion": current.current.number,
            "archivedAt": None,
            **as_read,
        },
        outbox.carried(change, event),
        return_document=ReturnDocument.AFTER,
    )
    doc = await organizations.changed(db, doc)
    if doc is None:
        return None
    await outbox.written(db, [event])
    return Credential.from_doc(doc)


def stored(credential: Credential) -> dict[str, Any]:
    """The fields an edit may set, as stored."""
    return {
        "name": credential.name,
        "instructions": credential.instructions,
        "imageUrl": credential.image_url,
        "reassignOnCompletion": credential.reassign_on_completion,
        "reminders": credential.reminders,
    }


@boundary
async def archive(
    db: Database, *, org_id: str, id: str, now: datetime, event: Event | None = None
) -> Credential | None:
    """Archive a credential (one archived already stays as it was); None when there is none."""
    key = {"orgId": oid(org_id), "_id": oid(id)}
    doc = await organizations.changed(
        db,
        await db.db.credentials.find_one_and_update(
            {**key, "archivedAt": None},
            outbox.carried({"$set": {"archivedAt": now, "updatedAt": now}}, event),
            return_document=ReturnDocument.AFTER,
        ),
    )
    if doc is not None:
        await outbox.written(db, [event])
    doc = doc or await db.db.credentials.find_one(key)
    return Credential.from_doc(doc) if doc else None


@boundary
async def get(db: Database, *, org_id: str, id: str) -> Credential | None:
    doc = await owned_one(db.db.credentials, org_id=org_id, id=id)
    return Credential.from_doc(doc) if doc else None


@boundary
async def get_many(db: Database, *, org_id: str, ids: list[str]) -> list[Credential]:
    return [
        Credential.from_doc(doc) for doc in await owned(db.db.credentials, org_id=org_id, ids=ids)
    ]


@boundary
async def list_page(
    db: Database, *, org_id: str, include_archived: bool, after: str | None, limit: int
) -> list[Credential]:
    query: dict[str, Any] = {"orgId": oid(org_id)}
    if not include_archived:
        query["archivedAt"] = None
    if after is not None:
        query["_id"] = {"$gt": oid(after)}
    cursor = db.db.credentials.find(query).sort("_id", 1).limit(limit)
    return [Credential.from_doc(doc) async for doc in cursor]


@boundary
async def all_of(db: Database, *, org_id: str) -> list[Credential]:
    """Every credential of the organization, archived ones too (a catalogue: tens, not
    thousands)."""
    cursor = db.db.credentials.find({"orgId": oid(org_id)}).sort("_id", 1)
    return [Credential.from_doc(doc) async for doc in cursor]


@boundary
async def count(db: Database, *, org_id: str, include_archived: bool) -> int:
    query: dict[str, Any] = {"orgId": oid(org_id)}
    if not include_archived:
        query["archivedAt"] = None
    return await db.db.credentials.count_documents(query)


@boundary
async def containing_node(db: Database, *, org_id: str, node_id: str) -> Credential | None:
    doc = await db.db.credentials.find_one({"orgId": oid(org_id), "versions.nodeIds": node_id})
    return Credential.from_doc(doc) if doc else None
