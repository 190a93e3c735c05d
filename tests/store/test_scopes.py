"""An organization's cycles from the process's copy are exactly what a read of them all gives,
whichever process wrote what, and a write that commits late is not missed."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta

from store import assignments, scopes
from store.assignments import Assignment
from store.database import connect
from store.ids import new, oid

START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def opened(org_id: str, credential_id: str, learner_id: str) -> Assignment:
    return Assignment.opened(
        org_id=org_id, credential_id=credential_id, learner_id=learner_id, version=1,
        previous=None, assigned_at=START, assigned_by=None, start=START,
        due=START + timedelta(days=30), window_start=None,
    )  # fmt: skip


async def everything(db, org_id: str) -> dict[str, Assignment]:
    found = db.db.assignments.find({"orgId": oid(org_id)})
    return {doc["_id"].__str__(): Assignment.from_doc(doc) async for doc in found}


async def test_the_copy_is_what_a_full_read_gives_whoever_writes(db, mongodb_uri):
    org_id, credentials = new(), [new(), new()]
    chance = random.Random(12)
    async with connect(mongodb_uri, database=db.db.name) as other:  # another process
        writers = [db, other]
        for step in range(60):
            writer = chance.choice(writers)
            held = list((await everything(db, org_id)).values())
            if not held or chance.random() < 0.3:
                fresh = [opened(org_id, chance.choice(credentials), new()) for _ in range(3)]
                await assignments.insert_many(writer, cycles=fresh)
            else:
                was = chance.choice(held)
                moved = dataclasses.replace(was, started_at=START + timedelta(minutes=step))
                assert await assignments.save(writer, cycle=moved, was=was, now=START)
            reader = chance.choice(writers)
            seen = await scopes.of_organization(reader, org_id=org_id)
            assert {c.id: c for c in seen} == await everything(db, org_id), step


async def test_a_write_stamped_before_a_read_and_committed_after_it_is_read(db):
    org_id, credential_id = new(), new()
    first = opened(org_id, credential_id, new())
    await assignments.insert_many(db, cycles=[first])
    assert [c.id for c in await scopes.of_organization(db, org_id=org_id)] == [first.id]
    late = opened(org_id, credential_id, new())
    stamped = datetime.now(UTC) - timedelta(seconds=30)  # before the read above
    await db.db.assignments.insert_one({**late.to_doc(), "changedAt": stamped})
    assert {c.id for c in await scopes.of_organization(db, org_id=org_id)} == {first.id, late.id}


async def test_organizations_are_kept_apart(db):
    mine, theirs = new(), new()
    await assignments.insert_many(db, cycles=[opened(mine, new(), new())])
    await assignments.insert_many(db, cycles=[opened(theirs, new(), new())])
    assert {c.org_id for c in await scopes.of_organization(db, org_id=mine)} == {mine}
    assert {c.org_id for c in await scopes.of_organization(db, org_id=theirs)} == {theirs}
