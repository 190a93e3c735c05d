"""The authorization matrix, generated from the schema so new fields are covered by default.

Every query and mutation is called by: nobody, a learner on their own data, a learner on another
learner's data, the manager of the learner's group and the manager of another group, an
administrator, an API token of each scope, a deactivated user, and an administrator of another
organization. No response may carry another organization's data, and a learner (or a manager
of another group) never sees another learner's. Around every call by someone of the
organization, the whole organization is compared before and after: what changed must be on the
caller's allow-list below — so a gate loosened anywhere (a learner let into an administrator's
mutation, a token past its scopes) changes something not allowed and fails here. And every
change an administrator or manager makes leaves audit events, by them, one per thing changed;
nobody else's leaves any. Their calls run with the log's copy failing, as if the process died
after the change: each event must be found waiting on its document by the repair.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from bson import ObjectId

from graph import ids
from graph.settings import Settings
from store import outbox, users
from store.errors import StoreError
from tests.conftest import MAX_DOCUMENT, SECRET, Org, make_org
from tests.generated import FIELDS, document, ids_for, world

# Whose a document is: the caller's own, another person's, or the organization's.
OWNER_FIELDS = {
    "assignments": "learnerId",
    "extensionRequests": "learnerId",
    "enrollments": "learnerId",
    "records": "learnerId",
    "notifications": "userId",
    "users": "_id",
}
ORGANIZATIONS = (  # by `orgId`
    "labels", "courses", "credentials", "groups", "apiTokens", "webhooks", "signingKeys",
)  # fmt: skip
BOOKKEEPING = {"lastUsedAt"}  # an API token's last use: noted on every kind of call
VERSION = ("organizations", "org")  # the data version, advanced by any change

# What a learner's call may change; anything else, nothing. Administrators may change anything
# of their organization (no foreign organization changes, checked below).
OWN_COURSE = {("enrollments", "self"), ("assignments", "self"), ("notifications", "self")}
LEARNER_MAY_CHANGE: dict[str, set[tuple[str, str]]] = {
    "getCourse": OWN_COURSE,
    "launchCourse": OWN_COURSE,
    "submitTrainingRecord": {
        ("records", "self"),
        ("assignments", "self"),
        ("notifications", "others"),  # the administrators are told
        ("documents.files", "org"),
        ("documents.chunks", "org"),
    },
    "markNotificationsRead": {("notifications", "self")},
    "requestExtension": {("extensionRequests", "self"), ("notifications", "others")},
    "revokeUserTokens": {("users", "self")},  # signing oneself out everywhere
}


# What a learner is refused outright: every mutation but theirs, and the organization-wide views.
ADMINISTRATORS_ONLY = {
    name for kind, name in FIELDS if kind == "mutation" and name not in LEARNER_MAY_CHANGE
} | {
    "complianceSummary",
    "assignments",
    "users",
    "apiTokens",
    "previewCredentialUpdate",
    "auditLog",
    "events",
    "webhooks",
    "webhookDeliveries",
    "imports",
}
# A person's own doings, which no one audits, whoever does them (`resolvers.audit`).
SELF_SERVICE = {"getCourse", "launchCourse", "markNotificationsRead", "requestExtension"}
# What a manager's call may change, on a member's data (a manager of another group: only
# what a learner's call may, of their own).
REVIEW = {("records", "others"), ("assignments", "others"), ("notifications", "others")}
MANAGER_MAY_CHANGE: dict[str, set[tuple[str, str]]] = {
    **LEARNER_MAY_CHANGE,
    "approveTrainingRecord": REVIEW,
    "declineTrainingRecord": REVIEW,
    "exemptAssignment": {("assignments", "others")},
    "extendDueDate": {("assignments", "others"), ("notifications", "others")},
    "grantExtension": REVIEW | {("extensionRequests", "others")},
    "denyExtension": {("extensionRequests", "others"), ("notifications", "others")},
    "removeExemption": {("assignments", "others")},
    "revokeTrainingRecord": REVIEW,
    "submitTrainingRecord": LEARNER_MAY_CHANGE["submitTrainingRecord"] | REVIEW,
}
MANAGERS_TOO = {
    "complianceSummary", "assignments", "users", "approveTrainingRecord", "declineTrainingRecord",
    "exemptAssignment", "removeExemption", "extendDueDate", "grantExtension", "denyExtension",
    "revokeTrainingRecord",
}  # fmt: skip
# A token is no one, sees no token, and plans no edit.
NOT_FOR_TOKENS = {"me", "apiTokens", "previewCredentialUpdate", "auditLog", "webhooks"}
# What a token of each scope may change (everything is "others" to a token); nothing else,
# and every other mutation is refused at the door. No query but with READ.
TOKEN_MAY_CHANGE: dict[str, dict[str, set[tuple[str, str]]]] = {
    "READ": {},
    "COURSE_PLAYER": {
        "reportCourseProgress": {
            ("enrollments", "others"), ("assignments", "others"), ("notifications", "others")
        }
    },
    "RECORDS_WRITE": {
        "submitTrainingRecord": {
            ("records", "others"), ("assignments", "others"), ("notifications", "others"),
            ("documents.files", "org"), ("documents.chunks", "org"),
        }
    },
}  # fmt: skip


async def snapshot(db, org_id: str) -> dict[tuple[str, str], str]:
    """Every document of the organization, by (collection, id)."""
    org = ObjectId(org_id)
    state = {}
    for name in (*OWNER_FIELDS, *ORGANIZATIONS):
        async for doc in db.db[name].find({"orgId": org}):
            doc = {k: v for k, v in doc.items() if k not in BOOKKEEPING}
            state[(name, str(doc["_id"]))] = json.dumps(doc, default=str, sort_keys=True)
    files = [doc async for doc in db.db["documents.files"].find({"metadata.orgId": org})]
    for doc in files:
        state[("documents.files", str(doc["_id"]))] = json.dumps(doc, default=str, sort_keys=True)
    async for doc in db.db["documents.chunks"].find(
        {"files_id": {"$in": [f["_id"] for f in files]}}
    ):
        state[("documents.chunks", str(doc["_id"]))] = json.dumps(doc, default=str)
    doc = await db.db.organizations.find_one({"_id": org})
    state[("organizations", org_id)] = json.dumps(doc, default=str, sort_keys=True)
    return state


def changed(
    before: dict[tuple[str, str], str], after: dict[tuple[str, str], str], caller_id: str
) -> set[tuple[str, str]]:
    """(collection, whose) of every document added, removed or altered."""
    found = set()
    for key in before.keys() | after.keys():
        if before.get(key) == after.get(key):
            continue
        name, _ = key
        doc = json.loads(after.get(key) or before[key])
        if name in OWNER_FIELDS:
            found.add((name, "self" if doc[OWNER_FIELDS[name]] == caller_id else "others"))
        else:
            found.add((name, "org"))
    return found


@pytest.fixture(scope="module")
def settings(mongodb_uri, tmp_path_factory) -> Settings:
    """One database name for the module: each case starts from the same world, copied in."""
    return Settings(
        data_dir=tmp_path_factory.mktemp("authorization"),
        secret=SECRET,
        mongodb_uri=mongodb_uri,
        database=f"test_authorization_{uuid.uuid4().hex[:12]}",
        max_document=MAX_DOCUMENT,
        webhook_every=0,  # the world's webhook is never sent to: its changes would be no call's
    )


@dataclass
class World:
    org: Org
    foreign_org: Org
    made: dict[str, Any]
    documents: dict[str, list[dict[str, Any]]]


_built: list[World] = []  # the world, built through the API by the first case


@pytest.fixture
async def seeded(api, db, settings, clock) -> World:
    """Two organizations where every learner has data, as the first case built them through
    the API: later cases copy its documents in (the app dropped the database after each)."""
    if not _built:
        org = await make_org(db, settings, clock, "Acme Health")
        foreign_org = await make_org(db, settings, clock, "Other Clinic")
        made = await world(api, org, foreign_org)
        names = await db.db.list_collection_names()
        documents = {name: [doc async for doc in db.db[name].find()] for name in names}
        _built.append(World(org, foreign_org, made, documents))
        return _built[0]
    for name, docs in _built[0].documents.items():
        if docs:
            await db.db[name].insert_many(docs)
    return _built[0]


async def copy_fails(*args: object, **kwargs: object) -> None:
    raise StoreError("the process died before copying its audit events")


@pytest.mark.parametrize(("kind", "field_name"), FIELDS, ids=[f"{k}.{n}" for k, n in FIELDS])
async def test_authorization_matrix(api, db, seeded, kind, field_name, monkeypatch):
    org, foreign_org, made = seeded.org, seeded.foreign_org, seeded.made
    other = org.other_learner
    foreign_markers = ["FOREIGN-", "otherclinic.test", "Other Clinic"]
    other_markers = [other.email, other.name, *made["org"]["learners"][other.id].values()]

    async def run(token: str | None, ids: dict[str, str]) -> str:
        query, variables = document(kind, field_name, ids)
        body = await api.call(query, variables, token=token)
        for error in body.get("errors", []):
            assert error["extensions"]["code"] != "INTERNAL_SERVER_ERROR", (query, error)
        return json.dumps(body)

    async def within(
        token: str,
        caller_id: str,
        ids: dict[str, str],
        allowed: set[tuple[str, str]] | None,
        audited: bool = False,
    ) -> str:
        """A call by someone of the organization: it changes only what `allowed` lists (None:
        anything of the organization), the version moves with a change, and the change leaves
        audit events by the caller when they are `audited`, else none."""
        before = await snapshot(db, org.id)
        logged = {e["_id"] async for e in db.db.auditEvents.find({}, {"_id": 1})}
        with monkeypatch.context() as patched:
            patched.setattr(outbox, "copy", copy_fails)
            text = await run(token, ids)
        await outbox.repair(db)
        after = await snapshot(db, org.id)
        found = changed(before, after, caller_id)
        if allowed is not None:
            extra = found - {VERSION} - allowed
            assert not extra, f"{field_name} changed {extra}"
        assert (VERSION in found) == bool(found - {VERSION}), "the version moves with a change"
        events = [e async for e in db.db.auditEvents.find({"_id": {"$nin": list(logged)}})]
        expected = audited and field_name not in SELF_SERVICE and bool(found - {VERSION})
        assert bool(events) == expected, (field_name, events)
        assert all(str(e["actorId"]) == caller_id for e in events), events
        assert len({e["subject"]["id"] for e in events}) == len(events), "one per thing changed"
        assert not any('"outbox":' in doc for doc in after.values()), "an event left waiting"
        return text

    def refused_at_the_door(text: str) -> bool:
        errors = [e for e in json.loads(text).get("errors", []) if e.get("path") == [field_name]]
        return [e["extensions"]["code"] for e in errors] == ["FORBIDDEN"]

    mine, others = ids_for(made, "org", org.learner.id), ids_for(made, "org", other.id)
    people = {
        key: await users.get(db, org_id=org.id, id=ids.decode(value)[1])
        for key, value in made["org"]["people"].items()
    }

    # Nobody, and a deactivated user: refused outright.
    for token in (None, org.token(people["gone"])):
        text = await run(token, mine)
        assert "UNAUTHENTICATED" in text, text
        assert "ORG-" not in text

    # A learner on their own data, and an administrator: no other organization's data.
    text = await within(
        org.token(org.learner), org.learner.id, mine, LEARNER_MAY_CHANGE.get(field_name, set())
    )
    assert not any(marker in text for marker in foreign_markers), text
    assert refused_at_the_door(text) == (field_name in ADMINISTRATORS_ONLY), text
    text = await within(org.token(org.admin), org.admin.id, mine, None, audited=True)
    assert not any(marker in text for marker in foreign_markers), text

    # A learner on another learner's data: sees none of it, changes none of it.
    learner_may = LEARNER_MAY_CHANGE.get(field_name, set())
    text = await within(org.token(org.learner), org.learner.id, others, learner_may)
    assert not any(str(marker) in text for marker in other_markers), text

    # The manager of the learner's group: what a manager may, on the learner's data, and is
    # refused at the door what only administrators may do.
    manager = people["manager"]
    manager_may = MANAGER_MAY_CHANGE.get(field_name, set())
    text = await within(org.token(manager), manager.id, mine, manager_may, audited=True)
    assert not any(marker in text for marker in foreign_markers), text
    door = ADMINISTRATORS_ONLY - MANAGERS_TOO | {"revokeUserTokens"}  # not their own: refused
    assert refused_at_the_door(text) == (field_name in door), text
    # The manager of another group: the learner's data is no more theirs than a learner's.
    stranger = people["other_manager"]
    text = await within(org.token(stranger), stranger.id, mine, learner_may, audited=True)
    mine_markers = [org.learner.email, org.learner.name, *made["org"]["learners"][
        org.learner.id].values()]  # fmt: skip
    assert not any(str(marker) in text for marker in mine_markers), text

    # An API token of each scope: no query but with READ, no mutation outside its scopes.
    for scope, may_change in TOKEN_MAY_CHANGE.items():  # (the spare token is the one revoked)
        token = made["org"]["secrets"][scope]
        text = await within(token, "", mine, may_change.get(field_name, set()))
        assert not any(marker in text for marker in foreign_markers), text
        scoped = field_name in may_change or (kind == "query" and scope == "READ")
        assert refused_at_the_door(text) == (not scoped or field_name in NOT_FOR_TOKENS), text

    # Another organization's administrator: sees and changes nothing of this one.
    before = await snapshot(db, org.id)
    text = await run(foreign_org.token(foreign_org.admin), mine)
    assert not any(m in text for m in ("ORG-", "acmehealth.test", "Acme Health")), text
    assert await snapshot(db, org.id) == before
