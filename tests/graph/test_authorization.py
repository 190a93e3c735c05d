"""The authorization matrix, generated from the schema so new fields are covered by default.

Every query and mutation is called by: nobody, a learner on their own data, a learner on another
learner's data, an administrator, and an administrator of another organization. No response
may carry another organization's data, a learner never sees another learner's, and nobody
changes what they may not touch.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.generated import FIELDS, document, ids_for, world


async def snapshot(db, org_id: str, learner_id: str | None = None) -> str:
    from bson import ObjectId

    query: dict[str, Any] = {"orgId": ObjectId(org_id)}
    if learner_id is not None:
        query["learnerId"] = ObjectId(learner_id)
    state = {}
    for name in ("assignments", "enrollments", "records"):
        state[name] = [doc async for doc in db.db[name].find(query).sort("_id", 1)]
    if learner_id is None:
        for name in ("labels", "courses", "credentials", "users"):
            state[name] = [doc async for doc in db.db[name].find(query).sort("_id", 1)]
    return json.dumps(state, default=str, sort_keys=True)


@pytest.mark.parametrize(("kind", "field_name"), FIELDS, ids=[f"{k}.{n}" for k, n in FIELDS])
async def test_authorization_matrix(api, db, org, foreign_org, kind, field_name):
    made = await world(api, org, foreign_org)
    other = org.other_learner
    foreign_markers = ["FOREIGN-", "otherclinic.test", "Other Clinic"]
    other_markers = [other.email, other.name, *made["org"]["learners"][other.id].values()]

    async def run(token: str | None, ids: dict[str, str]) -> str:
        query, variables = document(kind, field_name, ids)
        body = await api.call(query, variables, token=token)
        for error in body.get("errors", []):
            assert error["extensions"]["code"] != "INTERNAL_SERVER_ERROR", (query, error)
        return json.dumps(body)

    # Nobody: refused outright.
    text = await run(None, ids_for(made, "org", org.learner.id))
    assert "UNAUTHENTICATED" in text or field_name in ("__typename",), text
    assert "ORG-" not in text

    # A learner on their own data, and an administrator: no other organization's data.
    for token, ids in (
        (org.token(org.learner), ids_for(made, "org", org.learner.id)),
        (org.token(org.admin), ids_for(made, "org", org.learner.id)),
    ):
        text = await run(token, ids)
        assert not any(marker in text for marker in foreign_markers), text

    # A learner on another learner's data: sees none of it, changes none of it.
    before = await snapshot(db, org.id, other.id)
    text = await run(org.token(org.learner), ids_for(made, "org", other.id))
    assert not any(str(marker) in text for marker in other_markers), text
    assert await snapshot(db, org.id, other.id) == before

    # Another organization's administrator: sees and changes nothing of this one.
    before = await snapshot(db, org.id)
    text = await run(foreign_org.token(foreign_org.admin), ids_for(made, "org", org.learner.id))
    assert not any(m in text for m in ("ORG-", "acmehealth.test", "Acme Health")), text
    assert await snapshot(db, org.id) == before
