from __future__ import annotations

from datetime import UTC, datetime

import pytest
from bson import ObjectId

from store import organizations, users
from store.database import connect
from store.errors import Conflict, StoreError, Unavailable
from store.indexes import INDEXES, TENANT_COLLECTIONS, ensure_indexes
from store.outbox import COLLECTIONS
from store.users import Role

# An API token is found by its secret before its organization is known; the start-up repair
# looks for undelivered reminders and unfinished imports across organizations.
BEFORE_ANY_ORGANIZATION = {
    "apiTokens.secret",
    "reminders.pending",
    "extensionRequests.unapplied",
    "imports.running",  # the imports a restart resumes, whoever's (`resolvers.imports`)
    "records.import_key",  # a digest of the row and its organization (`resolvers.import_rows`)
    # letters a crash left waiting, found across organizations by the repair (`store.outbox`)
    *(f"{c}.outbox_pending" for c in TENANT_COLLECTIONS if c in COLLECTIONS.values()),
}


def test_every_index_on_tenant_data_begins_with_org_id():
    for collection in TENANT_COLLECTIONS:
        for model in INDEXES[collection]:
            name = f"{collection}.{model.document['name']}"
            first_key = next(iter(model.document["key"]))
            assert (first_key == "orgId") != (name in BEFORE_ANY_ORGANIZATION), name


async def test_indexes_exist_after_start_up(db):
    for collection, models in INDEXES.items():
        names = {index["name"] async for index in await db.db[collection].list_indexes()}
        assert {m.document["name"] for m in models} <= names


async def test_duplicate_key_becomes_conflict(db, clock):
    org = await organizations.create(db, name="Dup", now=clock.now())
    await users.create(
        db, org_id=org.id, email="a@b.test", name="A", role=Role.LEARNER, now=clock.now()
    )
    with pytest.raises(Conflict) as caught:
        await users.create(
            db, org_id=org.id, email="a@b.test", name="B", role=Role.ADMIN, now=clock.now()
        )
    assert caught.value.key == "orgId,email"


async def test_unreachable_server_is_unavailable():
    with pytest.raises(Unavailable):
        async with connect("mongodb://127.0.0.1:9/?directConnection=true", seconds=0.3):
            pass


async def test_invalid_uri_is_a_store_error():
    with pytest.raises(StoreError, match="MONGODB_URI"):
        async with connect("http://not-mongo", seconds=0.3):
            pass


async def test_lookups_are_scoped_to_the_organization(db, clock):
    a = await organizations.create(db, name="A", now=clock.now())
    b = await organizations.create(db, name="B", now=clock.now())
    user = await users.create(
        db, org_id=a.id, email="x@a.test", name="X", role=Role.ADMIN, now=clock.now()
    )
    assert await users.get_many(db, org_id=a.id, ids=[user.id]) == [user]
    assert await users.get_with_version(db, org_id=b.id, id=user.id) is None
    assert await users.get_many(db, org_id=b.id, ids=[user.id]) == []
    assert await users.get_many(db, org_id=a.id, ids=["not-an-object-id"]) == []


async def test_a_database_from_before_editions_keeps_its_revocations(db):
    """A revoked cycle stored before editions is brought past its first one when the index of
    that time goes, so what it exported stays revoked."""
    await db.db.statusEntries.drop_indexes()
    await db.db.statusEntries.create_index([("orgId", 1), ("assignmentId", 1)], name="org_cycle")
    revoked, kept = ObjectId(), ObjectId()
    await db.db.assignments.insert_many([
        {"_id": revoked, "orgId": ObjectId(), "revocation": {"at": datetime.now(UTC)}},
        {"_id": kept, "orgId": ObjectId(), "revocation": None},
    ])  # fmt: skip
    await ensure_indexes(db.db)
    await ensure_indexes(db.db)  # once only
    editions = {d["_id"]: d.get("edition") async for d in db.db.assignments.find({})}
    assert editions == {revoked: 1, kept: None}
    names = {index["name"] async for index in await db.db.statusEntries.list_indexes()}
    assert "org_cycle" not in names
