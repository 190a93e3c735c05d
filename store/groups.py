"""The `groups` collection: teams of an organization, each with its members and managers.

A manager's reach is the union of the members of the groups they manage; a learner's
reviewers are the managers of the groups they belong to. Both questions are asked per request
or per submission, so both lists are indexed.
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
from store.ids import oid, oids, owned_one


@dataclass(frozen=True, slots=True)
class Group:
    id: str
    org_id: str
    name: str
    member_ids: tuple[str, ...]
    manager_ids: tuple[str, ...]
    created_at: datetime

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Group:
        return cls(
            id=str(doc["_id"]),
            org_id=str(doc["orgId"]),
            name=doc["name"],
            member_ids=tuple(str(m) for m in doc.get("memberIds", ())),
            manager_ids=tuple(str(m) for m in doc.get("managerIds", ())),
            created_at=doc["createdAt"],
        )


@boundary
async def create(
    db: Database,
    *,
    org_id: str,
    name: str,
    member_ids: list[str],
    manager_ids: list[str],
    now: datetime,
    event: Event | None = None,
) -> Group:
    """Insert a group; a name the organization already uses (any letter case) is a `Conflict`."""
    doc, letters = outbox.stamped(
        {
            "_id": ObjectId(),
            "orgId": oid(org_id),
            "name": name,
            "key": name.casefold(),
            "memberIds": oids(member_ids),
            "managerIds": oids(manager_ids),
            "createdAt": now,
        },
        event,
    )
    await db.db.groups.insert_one(doc)
    await organizations.touch(db, id=org_id)
    await outbox.written(db, letters)
    return Group.from_doc(doc)


@dataclass(frozen=True, slots=True)
class GroupChange:
    """What an update does: a new name, and people added to or removed from either list."""

    name: str | None = None
    add_members: tuple[str, ...] = ()
    remove_members: tuple[str, ...] = ()
    add_managers: tuple[str, ...] = ()
    remove_managers: tuple[str, ...] = ()


@boundary
async def update(
    db: Database, *, was: Group, now: Group, event: Event | None = None
) -> Group | None:
    """Store the group as `now` if it is still as read (`was`); None when it is not, or gone
    (the caller reads again and re-applies its change: concurrent edits of other people never
    undo each other)."""
    key = {
        "orgId": oid(was.org_id),
        "_id": oid(was.id),
        "name": was.name,
        "memberIds": oids(was.member_ids),
        "managerIds": oids(was.manager_ids),
    }
    change = {
        "$set": {
            "name": now.name,
            "key": now.name.casefold(),
            "memberIds": oids(now.member_ids),
            "managerIds": oids(now.manager_ids),
        }
    }
    doc = await organizations.changed(
        db,
        await db.db.groups.find_one_and_update(
            key, outbox.carried(change, event), return_document=ReturnDocument.AFTER
        ),
    )
    if doc is None:
        return None
    await outbox.written(db, [event])
    return Group.from_doc(doc)


@boundary
async def get(db: Database, *, org_id: str, id: str) -> Group | None:
    doc = await owned_one(db.db.groups, org_id=org_id, id=id)
    return Group.from_doc(doc) if doc else None


@boundary
async def get_many(db: Database, *, org_id: str, ids: list[str]) -> list[Group]:
    cursor = db.db.groups.find({"orgId": oid(org_id), "_id": {"$in": oids(ids)}})
    return [Group.from_doc(doc) async for doc in cursor]


@boundary
async def listed(
    db: Database, *, org_id: str, ids: list[str] | None, after: str | None, limit: int
) -> list[Group]:
    """The organization's groups (only `ids`, when given) in creation order."""
    query: dict[str, Any] = {"orgId": oid(org_id)}
    if ids is not None:
        query["_id"] = {"$in": oids(ids)}
    if after is not None:
        query["_id"] = {**query.get("_id", {}), "$gt": oid(after)}
    cursor = db.db.groups.find(query).sort("_id", 1).limit(limit)
    return [Group.from_doc(doc) async for doc in cursor]


@boundary
async def count(db: Database, *, org_id: str, ids: list[str] | None) -> int:
    query: dict[str, Any] = {"orgId": oid(org_id)}
    if ids is not None:
        query["_id"] = {"$in": oids(ids)}
    return await db.db.groups.count_documents(query)


@boundary
async def managed_by(db: Database, *, org_id: str, manager_id: str) -> list[Group]:
    cursor = db.db.groups.find({"orgId": oid(org_id), "managerIds": oid(manager_id)})
    return [Group.from_doc(doc) async for doc in cursor]


@boundary
async def of_member(db: Database, *, org_id: str, member_id: str) -> list[Group]:
    return await of_members(db, org_id=org_id, member_ids=[member_id])


@boundary
async def of_members(db: Database, *, org_id: str, member_ids: list[str]) -> list[Group]:
    """The groups any of these people belong to, in one read."""
    cursor = db.db.groups.find({"orgId": oid(org_id), "memberIds": {"$in": oids(member_ids)}})
    return [Group.from_doc(doc) async for doc in cursor]
