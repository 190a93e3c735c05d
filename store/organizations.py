"""The `organizations` collection: the tenants. Their `_id` is every other document's `orgId`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument

from store import outbox
from store.audit import Event
from store.database import Database
from store.errors import boundary
from store.ids import oid, oids


@dataclass(frozen=True, slots=True)
class SingleSignOn:
    """Whose OpenID Connect tokens sign people in: the issuer's, addressed to this audience."""

    issuer: str
    audience: str
    create_users: bool  # an unknown email becomes a learner on first sign-in

    def to_doc(self) -> dict[str, Any]:
        return {"issuer": self.issuer, "audience": self.audience, "createUsers": self.create_users}

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> SingleSignOn:
        return cls(issuer=doc["issuer"], audience=doc["audience"], create_users=doc["createUsers"])


@dataclass(frozen=True, slots=True)
class Organization:
    id: str
    name: str
    created_at: datetime
    self_reported_progress: bool = False  # learners may report their own course progress
    always_notify_administrators: bool = False  # of submissions by learners who have managers
    development_mode: bool = False  # webhooks may deliver to loopback
    single_sign_on: SingleSignOn | None = None
    data_version: int = 0  # as read: every change of the organization's data advances it

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Organization:
        sso = doc.get("singleSignOn")
        return cls(
            id=str(doc["_id"]),
            name=doc["name"],
            created_at=doc["createdAt"],
            self_reported_progress=doc.get("selfReportedProgress", False),
            always_notify_administrators=doc.get("alwaysNotifyAdministrators", False),
            development_mode=doc.get("developmentMode", False),
            single_sign_on=SingleSignOn.from_doc(sso) if sso else None,
            data_version=doc.get("dataVersion", 0),
        )


@boundary
async def create(db: Database, *, name: str, now: datetime) -> Organization:
    doc = {"name": name, "createdAt": now}
    result = await db.db.organizations.insert_one(doc)
    return Organization(id=str(result.inserted_id), name=name, created_at=now)


@boundary
async def get_many(db: Database, *, ids: list[str]) -> list[Organization]:
    cursor = db.db.organizations.find({"_id": {"$in": oids(ids)}})
    return [Organization.from_doc(doc) async for doc in cursor]


@boundary
async def get(db: Database, *, id: str) -> Organization | None:
    doc = await db.db.organizations.find_one({"_id": oid(id)})
    return Organization.from_doc(doc) if doc else None


@boundary
async def set_policies(
    db: Database, *, was: Organization, fields: dict[str, bool], event: Event | None = None
) -> Organization | None:
    """Change the organization's policies (`selfReportedProgress`, …) if they are still as read
    (`was`); None when they are not."""
    as_read = {
        name: True if getattr(was, attribute) else {"$ne": True}
        for name, attribute in POLICIES.items()
        if name in fields
    }
    doc = await db.db.organizations.find_one_and_update(
        {"_id": oid(was.id), **as_read},
        outbox.carried({"$set": fields}, event),
        return_document=ReturnDocument.AFTER,
    )
    if doc is None:
        return None
    await touch(db, id=was.id)
    await outbox.written(db, [event])
    return Organization.from_doc(doc)


POLICIES = {  # stored name: attribute
    "selfReportedProgress": "self_reported_progress",
    "alwaysNotifyAdministrators": "always_notify_administrators",
    "developmentMode": "development_mode",
}


@boundary
async def all_ids(db: Database) -> list[str]:
    return [str(doc["_id"]) async for doc in db.db.organizations.find({}, {"_id": 1})]


@boundary
async def find_by_name(db: Database, *, name: str) -> list[Organization]:
    cursor = db.db.organizations.find({"name": name})
    return [Organization.from_doc(doc) async for doc in cursor]


@boundary
async def find_by_issuer(db: Database, *, issuer: str) -> list[Organization]:
    """The organizations signing in with this issuer's tokens: several may share one (a
    company's one tenant at its identity provider), each with its own audience."""
    cursor = db.db.organizations.find({"singleSignOn.issuer": issuer})
    return [Organization.from_doc(doc) async for doc in cursor]


@boundary
async def set_single_sign_on(
    db: Database, *, was: Organization, sso: SingleSignOn | None, event: Event | None = None
) -> Organization | None:
    """Configure single sign-on, or stop it (None), if it is still as read (`was`); None when
    it is not (another administrator changed it meanwhile). An issuer and audience another
    organization already has raises `Conflict`: a token must sign into one organization only."""
    as_read = was.single_sign_on.to_doc() if was.single_sign_on else None
    change: dict[str, Any] = (
        {"$set": {"singleSignOn": sso.to_doc()}} if sso else {"$unset": {"singleSignOn": ""}}
    )
    doc = await db.db.organizations.find_one_and_update(
        {"_id": oid(was.id), "singleSignOn": as_read},
        outbox.carried(change, event),
        return_document=ReturnDocument.AFTER,
    )
    if doc is None:
        return None
    await touch(db, id=was.id)
    await outbox.written(db, [event])
    return Organization.from_doc(doc)


@boundary
async def delete(db: Database, *, id: str) -> None:
    await db.db.organizations.delete_one({"_id": oid(id)})


_held: ContextVar[set[str] | None] = ContextVar("held_changes", default=None)


@boundary
async def touch(db: Database, *, id: str) -> None:
    """Advance the organization's data version: every store function that changed something of
    the organization calls it after its write, so answers kept under the old version (ETags,
    shared answers) go stale whoever wrote — a mutation, start-up repair or the CLI. Within
    `changes_held`, once for all of them on the way out."""
    held = _held.get()
    if held is not None:
        held.add(id)
        return
    await db.db.organizations.update_one({"_id": oid(id)}, {"$inc": {"dataVersion": 1}})


async def changed(db: Database, doc: dict[str, Any] | None) -> dict[str, Any] | None:
    """The document a write returned as changed (None: it matched nothing), its organization's
    version advanced: the tail of every conditional write that hands back what it changed."""
    if doc is not None:
        await touch(db, id=str(doc["orgId"]))
    return doc


@asynccontextmanager
async def changes_held(db: Database) -> AsyncIterator[None]:
    """Hold the version's advances of a bulk of writes (loading the demo: thousands) and make
    one per organization when the bulk ends — however it ends, since what was written before a
    failure stays written."""
    token = _held.set(set())
    try:
        yield
    finally:
        changed = _held.get() or set()
        _held.reset(token)
        for org_id in sorted(changed):
            await touch(db, id=org_id)
