"""Documents generated from the schema: a full selection of any root field, with arguments
filled from the ids of a world where every learner and organization has data."""

from __future__ import annotations

from typing import Any

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
from tests.helpers import (
    assign,
    course,
    credential,
    document_input,
    gid,
    label,
    ok,
    submit,
    take_course,
)

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
            asked = await ok(
                api,
                REQUEST_EXTENSION,
                {"input": {"assignment": a["id"], "dueDate": "2030-01-01T00:00:00Z",
                           "reason": f"{learner.email}-REASON"}},
                token,
                "requestExtension",
            )  # fmt: skip
            per_learner[learner.id] = {
                "assignment": a["id"],
                "enrollment": taken["id"],
                "record": rec["record"]["id"],
                "request": asked["request"]["id"],
                "learner": gid("User", learner.id),
            }
        made[who] = {
            "label": lbl,
            "course": c,
            "credential": cred["id"],
            "learners": per_learner,
            **await _staff(api, owner, who),
        }
    return made


async def _staff(api, owner, who: str) -> dict[str, Any]:
    """A manager of the learner's group, one of the other learner's, a deactivated user, and
    a token of each scope: every kind of caller the authorization matrix tries."""
    admin = owner.token(owner.admin)
    slug = owner.admin.email.split("@")[1]
    people = {}
    for key, role in (("manager", "MANAGER"), ("other_manager", "MANAGER"), ("gone", "LEARNER")):
        made = await ok(
            api,
            CREATE_USER,
            {"input": {"email": f"{key}@{slug}", "name": f"{who.upper()}-{key}", "role": role}},
            admin,
            "createUser",
        )
        people[key] = made["user"]["id"]
    await ok(api, DEACTIVATE, {"input": {"user": people["gone"]}}, admin, "deactivateUser")
    groups = []
    for name, member, manager in (
        ("GROUP", owner.learner, people["manager"]),
        ("GROUP-2", owner.other_learner, people["other_manager"]),
    ):
        fields = {"name": f"{who.upper()}-{name}", "members": [gid("User", member.id)],
                  "managers": [manager]}  # fmt: skip
        groups.append(
            (await ok(api, CREATE_GROUP, {"input": fields}, admin, "createGroup"))["group"]
        )
    secrets, token_id = {}, ""
    for scope in ("READ", "COURSE_PLAYER", "RECORDS_WRITE", "SPARE"):  # the spare is revoked
        fields = {"name": f"{who.upper()}-{scope}", "scopes": [scope.replace("SPARE", "READ")]}
        made = await ok(api, CREATE_TOKEN, {"input": fields}, admin, "createApiToken")
        secrets[scope], token_id = made["secret"], made["apiToken"]["id"]
    hook = await ok(
        api, CREATE_WEBHOOK, {"input": {"url": "https://hooks.example.com/credgraph"}}, admin,
        "createWebhook",
    )  # fmt: skip
    return {
        "people": people,
        "group": groups[0]["id"],
        "apiToken": token_id,
        "secrets": secrets,
        "webhook": hook["webhook"]["id"],
    }


CREATE_USER = """
mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } userErrors { code } } }
"""
DEACTIVATE = """
mutation($input: DeactivateUserInput!) {
  deactivateUser(input: $input) { user { id } userErrors { code } }
}"""
CREATE_GROUP = """
mutation($input: CreateGroupInput!) {
  createGroup(input: $input) { group { id } userErrors { code } }
}"""
REQUEST_EXTENSION = """
mutation($input: RequestExtensionInput!) {
  requestExtension(input: $input) { request { id } userErrors { code } }
}"""
CREATE_WEBHOOK = """
mutation($input: CreateWebhookInput!) {
  createWebhook(input: $input) { webhook { id } userErrors { code } }
}"""
CREATE_TOKEN = """
mutation($input: CreateApiTokenInput!) {
  createApiToken(input: $input) { apiToken { id } secret userErrors { code } }
}"""


def ids_for(made: dict[str, Any], who: str, learner_id: str) -> dict[str, str]:
    side = made[who]
    mine = side["learners"][learner_id]
    return {
        "id": mine["assignment"],
        "course": side["course"],
        "label": side["label"],
        "credential": side["credential"],
        "learner": mine["learner"],
        "user": mine["learner"],
        "assignment": mine["assignment"],
        "enrollment": mine["enrollment"],
        "record": mine["record"],
        "request": mine["request"],
        "learningPath": side["course"],
        "group": side["group"],
        "apiToken": side["apiToken"],
        "webhook": side["webhook"],
        "member": mine["learner"],
        "addMember": mine["learner"],
        "removeMember": mine["learner"],
        "manager": side["people"]["manager"],
        "addManager": side["people"]["manager"],
        "removeManager": side["people"]["manager"],
    }
