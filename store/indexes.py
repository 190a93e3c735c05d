"""Every index credgraph needs, created idempotently at start-up.

Each index on tenant data begins with `orgId`: every hot query filters on it, and it is the
shard key when a deployment outgrows one replica set.
"""

from __future__ import annotations

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

INDEXES: dict[str, list[IndexModel]] = {
    "users": [
        IndexModel([("orgId", ASCENDING), ("email", ASCENDING)], unique=True, name="org_email"),
        IndexModel([("orgId", ASCENDING), ("role", ASCENDING)], name="org_role"),
    ],
}


async def ensure_indexes(db: AsyncDatabase) -> None:
    """Create what is missing; an existing identical index is left alone by the server."""
    for collection, models in INDEXES.items():
        await db[collection].create_indexes(models)
