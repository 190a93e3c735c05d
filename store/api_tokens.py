"""The `apiTokens` collection: an organization's tokens for integrations (dashboards, course
players, record feeds), each limited to its scopes.

Only a hash of the secret is stored: the secret is 32 random bytes, so one SHA-256 suffices
(a slow password hash protects guessable secrets, which these are not) and a request's token
is found by one indexed equality.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument

from store import organizations, outbox
from store.audit import Event
from store.database import Database
from store.errors import boundary
from store.ids import oid


class Scope(StrEnum):
    READ = "READ"
    COURSE_PLAYER = "COURSE_PLAYER"
    RECORDS_WRITE = "RECORDS_WRITE"


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: str
    org_id: str
    name: str
    scopes: frozenset[Scope]
    created_at: datetime
    created_by: str
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> ApiToken:
        return cls(
            id=str(doc["_id"]),
            org_id=str(doc["orgId"]),
            name=doc["name"],
            scopes=frozenset(Scope(s) for s in doc["scopes"]),
            created_at=doc["createdAt"],
            created_by=str(doc["createdBy"]),
            expires_at=doc.get("expiresAt"),
            last_used_at=doc.get("lastUsedAt"),
            revoked_at=doc.get("revokedAt"),
        )


@boundary
async def create(
    db: Database,
    *,
    org_id: str,
    name: str,
    scopes: frozenset[Scope],
    secret_hash: str,
    created_by: str,
    expires_at: datetime | None,
    now: datetime,
    event: Event | None = None,
) -> ApiToken:
    doc, letters = outbox.stamped(
        {
            "_id": ObjectId(),
            "orgId": oid(org_id),
            "name": name,
            "scopes": sorted(scopes),
            "secretHash": secret_hash,
            "createdAt": now,
            "createdBy": oid(created_by),
            "expiresAt": expires_at,
        },
        event,
    )
    await db.db.apiTokens.insert_one(doc)
    await organizations.touch(db, id=org_id)
    await outbox.written(db, letters)
    return ApiToken.from_doc(doc)


@boundary
async def by_secret(db: Database, *, secret_hash: str) -> tuple[ApiToken, int] | None:
    """The token with this secret and its organization's data version."""
    doc = await db.db.apiTokens.find_one({"secretHash": secret_hash})
    if doc is None:
        return None
    org = await db.db.organizations.find_one({"_id": doc["orgId"]}, {"dataVersion": 1})
    if org is None:
        return None
    return ApiToken.from_doc(doc), org.get("dataVersion", 0)


@boundary
async def used(db: Database, *, id: str, at: datetime) -> None:
    """Note a use. Not a change of the organization's data: no version advances, and callers
    write it at most once a minute per token."""
    await db.db.apiTokens.update_one({"_id": oid(id)}, {"$set": {"lastUsedAt": at}})


@boundary
async def listed(db: Database, *, org_id: str, include_revoked: bool) -> list[ApiToken]:
    cursor = db.db.apiTokens.find(_tokens(org_id, include_revoked)).sort("_id", 1)
    return [ApiToken.from_doc(doc) async for doc in cursor]


@boundary
async def count_unrevoked(db: Database, *, org_id: str) -> int:
    return await db.db.apiTokens.count_documents(_tokens(org_id, include_revoked=False))


def _tokens(org_id: str, include_revoked: bool) -> dict[str, Any]:
    query: dict[str, Any] = {"orgId": oid(org_id)}
    if not include_revoked:
        query["revokedAt"] = None
    return query


@boundary
async def revoke(
    db: Database, *, org_id: str, id: str, now: datetime, event: Event | None = None
) -> ApiToken | None:
    """Revoke a token (it stops at once); one already revoked keeps its first revocation."""
    key = {"orgId": oid(org_id), "_id": oid(id)}
    doc = await organizations.changed(
        db,
        await db.db.apiTokens.find_one_and_update(
            {**key, "revokedAt": None},
            outbox.carried({"$set": {"revokedAt": now}}, event),
            return_document=ReturnDocument.AFTER,
        ),
    )
    if doc is not None:
        await outbox.written(db, [event])
    doc = doc or await db.db.apiTokens.find_one(key)
    return ApiToken.from_doc(doc) if doc else None
