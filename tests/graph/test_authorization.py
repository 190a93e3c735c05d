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
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLUnionType,
    get_named_type,
)

from graph.schema import schema
from tests.graph.test_records import document_input, submit
from tests.helpers import assign, course, credential, gid, label, take_course

GRAPHQL = schema._schema
ROOTS = [("query", GRAPHQL.query_type), ("mutation", GRAPHQL.mutation_type)]
FIELDS = [(kind, name) for kind, root in ROOTS for name in root.fields]
SCALARS = {
    "String": "x",
    "Int": 1,
    "Float": 0.5,
    "Boolean": False,
    "DateTime": "2026-01-01T00:00:00Z",
    "Date": "2026-01-01",
    "ID": None,
    "Upload": None,
}


def selection(type_: Any, depth: int = 0) -> str:
    named = get_named_type(type_)
    if isinstance(named, GraphQLScalarType | GraphQLEnumType):
        return ""
    if depth >= 4:
        return "{ __typename }"
    if isinstance(named, GraphQLUnionType | GraphQLInterfaceType):
        # Abstract types: their members' fields could conflict; the ids are markers enough.
        return "{ __typename ... on Node { id } }"
    parts = ["__typename"]
    for name, field in named.fields.items():
        if any(isinstance(a.type, GraphQLNonNull) for a in field.args.values()):
            continue
        parts.append(f"{name} {selection(field.type, depth + 1)}".strip())
    return "{ " + " ".join(parts) + " }"


def value(type_: Any, name: str, ids: dict[str, str]) -> Any:
    if isinstance(type_, GraphQLNonNull):
        return value(type_.of_type, name, ids)
    if isinstance(type_, GraphQLList):
        return [value(type_.of_type, name, ids)]
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        fields = type_.fields
        definition = type_.extensions.get("strawberry-definition")
        if type_.is_one_of or getattr(definition, "is_one_of", False):
            return {"course": ids["course"]}
        return {
            key: value(f.type, _owner(type_.name) if key == "id" else key, ids)
            for key, f in fields.items()
            if isinstance(f.type, GraphQLNonNull) or key in ids
        }
    if type_.name == "ID":
        return ids.get(name) or ids.get(name.removesuffix("s")) or ids["id"]
    return SCALARS.get(type_.name, "x")


def _owner(input_name: str) -> str:
    """What an input's `id` names: `ArchiveCredentialInput` -> credential."""
    keys = ("credential", "course", "label", "assignment", "enrollment", "record", "learner")
    return next((k for k in keys if k in input_name.lower()), "id")


def document(kind: str, field_name: str, ids: dict[str, str]) -> tuple[str, dict[str, Any]]:
    root = dict(ROOTS)[kind]
    field = root.fields[field_name]
    declarations, arguments, variables = [], [], {}
    returned = get_named_type(field.type).name[:1].lower() + get_named_type(field.type).name[1:]
    for name, argument in field.args.items():
        if not isinstance(argument.type, GraphQLNonNull) and name not in ids:
            continue
        declarations.append(f"${name}: {argument.type}")
        arguments.append(f"{name}: ${name}")
        key = returned if name == "id" and returned in ids else name
        variables[name] = value(argument.type, key, ids)
    head = f"({', '.join(declarations)})" if declarations else ""
    args = f"({', '.join(arguments)})" if arguments else ""
    return f"{kind}{head} {{ {field_name}{args} {selection(field.type)} }}", variables


async def world(api, org, foreign_org) -> dict[str, Any]:
    """Each learner and each organization has data; its names are markers to look for."""
    made: dict[str, Any] = {}
    for who, owner in (("org", org), ("foreign", foreign_org)):
        lbl = await label(api, owner, f"{who.upper()}-LABEL")
        c = await course(api, owner, f"{who.upper()}-COURSE", label=lbl)
        cred = await credential(api, owner, f"{who.upper()}-CREDENTIAL", {"course": c})
        a_mine, a_other = await assign(api, owner, cred["id"], [owner.learner, owner.other_learner])
        per_learner = {}
        for learner, a in ((owner.learner, a_mine), (owner.other_learner, a_other)):
            token = owner.token(learner)
            taken = await take_course(api, token, c, assignment=a["id"], finish=False)
            rec = await submit(
                api, token, document_input(label=lbl, title=f"{learner.email}-RECORD")
            )
            per_learner[learner.id] = {
                "assignment": a["id"],
                "enrollment": taken["id"],
                "record": rec["record"]["id"],
                "learner": gid("User", learner.id),
            }
        made[who] = {"label": lbl, "course": c, "credential": cred["id"], "learners": per_learner}
    return made


def ids_for(made: dict[str, Any], who: str, learner_id: str) -> dict[str, str]:
    side = made[who]
    mine = side["learners"][learner_id]
    return {
        "id": mine["assignment"],
        "course": side["course"],
        "label": side["label"],
        "credential": side["credential"],
        "learner": mine["learner"],
        "assignment": mine["assignment"],
        "enrollment": mine["enrollment"],
        "record": mine["record"],
        "learningPath": side["course"],
    }


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
