"""Database ids cross the store boundary as 24-hex strings; ObjectIds stay inside."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from pymongo.asynchronous.collection import AsyncCollection


def new() -> str:
    return str(ObjectId())


def is_valid(value: str) -> bool:
    return ObjectId.is_valid(value) and len(value) == 24


def oid(value: str) -> ObjectId | None:
    """The ObjectId for `value`, or None when it cannot be one (so lookups find nothing)."""
    try:
        return ObjectId(value) if len(value) == 24 else None
    except (InvalidId, TypeError):
        return None


def oids(values: Iterable[str]) -> list[ObjectId]:
    return [o for o in map(oid, values) if o is not None]


async def owned_one(
    collection: AsyncCollection[dict[str, Any]], *, org_id: str, id: str
) -> dict[str, Any] | None:
    """The organization's document with this id, if there is one."""
    return await collection.find_one({"orgId": oid(org_id), "_id": oid(id)})


async def owned(
    collection: AsyncCollection[dict[str, Any]], *, org_id: str, ids: Iterable[str]
) -> list[dict[str, Any]]:
    """The organization's documents with these ids (served by the `org_id` index)."""
    cursor = collection.find({"orgId": oid(org_id), "_id": {"$in": oids(ids)}})
    return [doc async for doc in cursor]
