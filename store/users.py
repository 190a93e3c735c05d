"""The `users` collection: learners, managers and administrators, each in exactly one
organization."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument

from store import organizations, outbox
from store.audit import Event
from store.database import Database
from store.errors import boundary
from store.ids import oid, oids, owned, owned_one


class Role(StrEnum):
    LEARNER = "LEARNER"
    MANAGER = "MANAGER"  # a learner too, who also sees and acts for the groups they manage
    ADMIN = "ADMIN"


@dataclass(frozen=True, slots=True)
class User:
    id: str
    org_id: str
    email: str
    name: str
    role: Role
    created_at: datetime
    disabled_at: datetime | None = None
    token_generation: int = 0  # a token issued for an earlier generation is refused

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> User:
        return cls(
            id=str(doc["_id"]),
            org_id=str(doc["orgId"]),
            email=doc["email"],
            name=doc["name"],
            role=Role(doc["role"]),
            created_at=doc["createdAt"],
            disabled_at=doc.get("disabledAt"),
            token_generation=doc.get("tokenGeneration", 0),
        )


@boundary
async def create(
    db: Database,
    *,
    org_id: str,
    email: str,
    name: str,
    role: Role,
    now: datetime,
    event: Event | None = None,
) -> User:
    """Insert a user; an email already used in the organization raises `Conflict`."""
    doc, letters = outbox.stamped(
        {
            "_id": ObjectId(),
            "orgId": oid(org_id),
            "email": email,
            "name": name,
            "role": role.value,
            "createdAt": now,
        },
        event,
    )
    await db.db.users.insert_one(doc)
    await organizations.touch(db, id=org_id)
    await outbox.written(db, letters)
    return User(
        id=str(doc["_id"]), org_id=org_id, email=email, name=name, role=role, created_at=now
    )


@boundary
async def get(db: Database, *, org_id: str, id: str) -> User | None:
    doc = await owned_one(db.db.users, org_id=org_id, id=id)
    return User.from_doc(doc) if doc else None


@boundary
async def get_many(db: Database, *, org_id: str, ids: list[str]) -> list[User]:
    return [User.from_doc(doc) for doc in await owned(db.db.users, org_id=org_id, ids=ids)]


@boundary
async def find_by_email(db: Database, *, email: str, org_id: str | None = None) -> list[User]:
    """Users with this email: one per organization at most, several across organizations."""
    query: dict[str, Any] = {"email": email}
    if org_id is not None:
        query = {"orgId": oid(org_id), **query}
    return [User.from_doc(doc) async for doc in db.db.users.find(query)]


@boundary
async def by_emails(db: Database, *, org_id: str, emails: list[str]) -> list[User]:
    """The organization's users with these (normalized) emails, in one read."""
    cursor = db.db.users.find({"orgId": oid(org_id), "email": {"$in": emails}})
    return [User.from_doc(doc) async for doc in cursor]


@boundary
async def set_disabled(
    db: Database, *, user: User, at: datetime | None, event: Event | None = None
) -> User | None:
    """Deactivate a user at `at` (their tokens stop working at once), or reactivate one (None),
    if still as read; None when they are not."""
    key = {"orgId": oid(user.org_id), "_id": oid(user.id), "disabledAt": user.disabled_at}
    change: dict[str, Any] = (
        {"$set": {"disabledAt": at}} if at is not None else {"$unset": {"disabledAt": ""}}
    )
    doc = await organizations.changed(
        db,
        await db.db.users.find_one_and_update(
            key, outbox.carried(change, event), return_document=ReturnDocument.AFTER
        ),
    )
    if doc is None:
        return None
    await outbox.written(db, [event])
    return User.from_doc(doc)


@boundary
async def revoke_tokens(
    db: Database, *, org_id: str, id: str, event: Event | None = None
) -> User | None:
    """Sign a user out everywhere: every token issued so far stops working."""
    doc = await db.db.users.find_one_and_update(
        {"orgId": oid(org_id), "_id": oid(id)},
        outbox.carried({"$inc": {"tokenGeneration": 1}}, event),
        return_document=ReturnDocument.AFTER,
    )
    doc = await organizations.changed(db, doc)
    if doc is None:
        return None
    await outbox.written(db, [event])
    return User.from_doc(doc)


@boundary
async def get_with_version(db: Database, *, org_id: str, id: str) -> tuple[User, int] | None:
    """The user and their organization's data version: two `_id` reads (a `$lookup` pipeline
    costs more than both on the embedded database)."""
    found = await owned(db.db.users, org_id=org_id, ids=[id])
    if not found:
        return None
    org = await db.db.organizations.find_one({"_id": oid(org_id)}, {"dataVersion": 1})
    return User.from_doc(found[0]), (org or {}).get("dataVersion", 0)


@boundary
async def admin_ids(db: Database, *, org_id: str) -> list[str]:
    """The organization's active administrators. Equality on the indexed fields only, the
    disabled left out here: with `disabledAt` in the query the embedded database scans every
    user of the organization (3,000 users: 59 ms per submission)."""
    cursor = db.db.users.find({"orgId": oid(org_id), "role": Role.ADMIN.value}, {"disabledAt": 1})
    return [str(doc["_id"]) async for doc in cursor if doc.get("disabledAt") is None]


@dataclass(frozen=True, slots=True)
class UserFilter:
    """Which of an organization's users a list means."""

    org_id: str
    search: str | None = None  # in the name or email, any letter case
    role: Role | None = None
    include_deactivated: bool = False
    ids: tuple[str, ...] | None = None  # only these (a group's, a manager's people)

    def query(self) -> dict[str, Any]:
        query: dict[str, Any] = {"orgId": oid(self.org_id)}
        if self.ids is not None:
            query["_id"] = {"$in": oids(self.ids)}
        if self.role is not None:
            query["role"] = self.role.value
        if self.search:
            term = {"$regex": re.escape(self.search), "$options": "i"}
            query["$or"] = [{"name": term}, {"email": term}]
        if not self.include_deactivated:
            query["disabledAt"] = None
        return query


@boundary
async def page(db: Database, where: UserFilter, *, after: str | None, limit: int) -> list[User]:
    query = where.query()
    if after is not None:
        query["_id"] = {**query.get("_id", {}), "$gt": oid(after)}
    cursor = db.db.users.find(query).sort("_id", 1).limit(limit)
    return [User.from_doc(doc) async for doc in cursor]


@boundary
async def count(db: Database, where: UserFilter) -> int:
    return await db.db.users.count_documents(where.query())


@boundary
async def update(
    db: Database, *, user: User, fields: dict[str, Any], event: Event | None = None
) -> User | None:
    """Change a user's fields if they are still as `user` has them; None when they are not.
    An email another user of the organization has raises `Conflict`."""
    was = {"email": user.email, "name": user.name, "role": user.role.value}
    key = {"orgId": oid(user.org_id), "_id": oid(user.id), **{f: was[f] for f in fields}}
    doc = await organizations.changed(
        db,
        await db.db.users.find_one_and_update(
            key, outbox.carried({"$set": fields}, event), return_document=ReturnDocument.AFTER
        ),
    )
    if doc is None:
        return None
    await outbox.written(db, [event])
    return User.from_doc(doc)


_EVER = datetime(1900, 1, 1, tzinfo=UTC)  # before any deactivation: a range the index serves


@boundary
async def deactivated_ids(db: Database, *, org_id: str) -> set[str]:
    """The organization's deactivated users (a range on the indexed `disabledAt`: only they
    are read, however many are active)."""
    cursor = db.db.users.find({"orgId": oid(org_id), "disabledAt": {"$gte": _EVER}}, {"_id": 1})
    return {str(doc["_id"]) async for doc in cursor}
