"""Defining the catalogue and credentials: validation, versions, archiving, permissions."""

from __future__ import annotations

import pytest

from tests.helpers import (
    CREATE_COURSE,
    CREATE_CREDENTIAL,
    CREATE_LABEL,
    UPDATE_CREDENTIAL,
    assign,
    assignment,
    course,
    credential,
    gid,
    label,
)

ARCHIVE = """
mutation($id: ID!) { archiveCredential(input: {id: $id}) {
  credential { id archivedAt } userErrors { field code } } }"""
CREDENTIALS = """
query($archived: Boolean!) { credentials(includeArchived: $archived) {
  totalCount edges { node { id name } } } }"""


async def errors_of(api, document, variables, token, field):
    payload = (await api.data(document, variables, token=token))[field]
    return [(e["field"], e["code"]) for e in payload["userErrors"]], payload


async def count(db, collection: str) -> int:
    return await db.db[collection].count_documents({})


async def test_labels_and_courses(api, org):
    bls = await label(api, org, "BLS")
    cpr = await course(api, org, "CPR Online", clockHours=2.5, label=bls)
    path = await course(api, org, "CPR Path", kind="LEARNING_PATH", courses=[cpr])
    data = await api.data(
        "{ courses { totalCount edges { node { title kind clockHours label { name } "
        "courses { title } } } } labels { name } }",
        token=org.token(org.learner),
    )
    nodes = [e["node"] for e in data["courses"]["edges"]]
    assert nodes == [
        {
            "title": "CPR Online",
            "kind": "COURSE",
            "clockHours": 2.5,
            "label": {"name": "BLS"},
            "courses": [],
        },
        {
            "title": "CPR Path",
            "kind": "LEARNING_PATH",
            "clockHours": None,
            "label": None,
            "courses": [{"title": "CPR Online"}],
        },
    ]
    assert data["labels"] == [{"name": "BLS"}]
    assert path


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"title": " "}, ("title", "REQUIRED")),
        ({"title": "X", "clockHours": -1}, ("clockHours", "OUT_OF_RANGE")),
        ({"title": "X", "label": gid("Label", "0" * 24)}, ("label", "UNKNOWN_LABEL")),
        ({"title": "X", "label": "garbage"}, ("label", "INVALID_ID")),
        ({"title": "P", "kind": "LEARNING_PATH"}, ("courses", "REQUIRED")),
        (
            {"title": "P", "kind": "LEARNING_PATH", "courses": [gid("Course", "0" * 24)]},
            ("courses[0]", "UNKNOWN_COURSE"),
        ),
    ],
)
async def test_bad_courses_store_nothing(api, db, org, fields, expected):
    before = await count(db, "courses")
    errors, payload = await errors_of(
        api, CREATE_COURSE, {"input": fields}, org.token(org.admin), "createCourse"
    )
    assert errors == [expected]
    assert payload["course"] is None
    assert await count(db, "courses") == before


async def test_path_rules(api, org):
    c = await course(api, org, "C")
    p = await course(api, org, "P", kind="LEARNING_PATH", courses=[c])
    token = org.token(org.admin)
    errors, _ = await errors_of(
        api,
        CREATE_COURSE,
        {"input": {"title": "Q", "kind": "LEARNING_PATH", "courses": [c, c]}},
        token,
        "createCourse",
    )
    assert errors == [("courses[1]", "DUPLICATE_COURSE")]
    errors, _ = await errors_of(
        api,
        CREATE_COURSE,
        {"input": {"title": "Q", "kind": "LEARNING_PATH", "courses": [p]}},
        token,
        "createCourse",
    )
    assert errors == [("courses[0]", "WRONG_COURSE_KIND")]


async def test_duplicate_label_is_refused(api, org):
    await label(api, org, "BLS")
    errors, _ = await errors_of(
        api, CREATE_LABEL, {"input": {"name": "bls"}}, org.token(org.admin), "createLabel"
    )
    assert errors == [("name", "LABEL_TAKEN")]


async def test_learners_cannot_define_anything(api, db, org):
    token = org.token(org.learner)
    for document, variables in (
        (CREATE_LABEL, {"input": {"name": "X"}}),
        (CREATE_COURSE, {"input": {"title": "X"}}),
    ):
        body = await api.call(document, variables, token=token)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await count(db, "labels") == 0
    assert await count(db, "courses") == 0


async def test_credential_definition_round_trips(api, org):
    bls = await label(api, org, "BLS")
    cpr = await course(api, org, "CPR Online")
    led = await course(api, org, "Instructor Led CPR")
    cred = await credential(
        api,
        org,
        "CPR Certification",
        {
            "any": [
                {
                    "all": [
                        {"course": cpr},
                        {"trainingRecord": {"label": bls, "recordType": "CREDENTIAL_DOCUMENT"}},
                    ]
                },
                {"course": led},
            ]
        },
        instructions="Renew every two years.",
        imageUrl="https://example.test/cpr.png",
        reassignOnCompletion=True,
    )
    assert cred["criteriaExpression"] == "(CPR Online AND BLS) OR Instructor Led CPR"
    assert cred["completeWithin"] == {"amount": 90, "unit": "DAY", "iso8601": "P90D"}
    assert cred["validFor"] == {"amount": 2, "unit": "YEAR", "iso8601": "P2Y"}
    assert [(r["kind"], r["title"]) for r in cred["requirements"]] == [
        ("COURSE", "CPR Online"),
        ("TRAINING_RECORD", "BLS"),
        ("COURSE", "Instructor Led CPR"),
    ]
    assert cred["requirements"][1]["recordType"] == "CREDENTIAL_DOCUMENT"
    assert cred["requirements"][1]["label"]["name"] == "BLS"
    assert cred["criteria"]["operator"] == "ANY"
    assert cred["criteria"]["children"][0]["operator"] == "ALL"
    assert cred["version"] == 1
    node = await api.data(
        "query($id: ID!) { node(id: $id) { ... on Requirement { title kind } } }",
        {"id": cred["requirements"][0]["id"]},
        token=org.token(org.admin),
    )
    assert node["node"] == {"title": "CPR Online", "kind": "COURSE"}


def nested(levels: int, leaf: dict) -> dict:
    tree = leaf
    for _ in range(levels):
        tree = {"all": [tree]}
    return tree


@pytest.mark.parametrize(
    ("make_criteria", "expected"),
    [
        (lambda c: {"all": []}, ("criteria", "CRITERIA_EMPTY")),
        (lambda c: {"any": [{"course": c}, {"all": []}]}, ("criteria.any[1]", "CRITERIA_EMPTY")),
        (lambda c: nested(9, {"course": c}), (None, "CRITERIA_TOO_DEEP")),
        (
            lambda c: {"atLeast": {"minimum": 3, "of": [{"course": c}, {"course": c}]}},
            ("criteria.minimum", "CRITERIA_MINIMUM_INVALID"),
        ),
        (
            lambda c: {"atLeast": {"minimum": 0, "of": [{"course": c}]}},
            ("criteria.minimum", "CRITERIA_MINIMUM_INVALID"),
        ),
        (lambda c: {"course": gid("Course", "0" * 24)}, ("criteria.course", "UNKNOWN_COURSE")),
        (lambda c: {"learningPath": c}, ("criteria.learningPath", "WRONG_COURSE_KIND")),
        (
            lambda c: {"trainingRecord": {"label": gid("Label", "0" * 24)}},
            ("criteria.trainingRecord.label", "UNKNOWN_LABEL"),
        ),
        (lambda c: {"course": gid("User", "0" * 24)}, ("criteria.course", "INVALID_ID")),
    ],
)
async def test_bad_criteria_store_nothing(api, db, org, make_criteria, expected):
    c = await course(api, org, "C")
    fields = {
        "name": "Bad",
        "completeWithin": {"amount": 30, "unit": "DAY"},
        "criteria": make_criteria(c),
    }
    errors, payload = await errors_of(
        api, CREATE_CREDENTIAL, {"input": fields}, org.token(org.admin), "createCredential"
    )
    assert len(errors) == 1
    field, code = errors[0]
    assert code == expected[1]
    if expected[0] is not None:
        assert field == expected[0]
    assert payload["credential"] is None
    assert await count(db, "credentials") == 0


async def test_eight_levels_are_allowed(api, org):
    c = await course(api, org, "C")
    cred = await credential(api, org, "Deep", nested(8, {"course": c}))
    assert cred["criteriaExpression"] == "C"


async def test_two_operators_in_one_node_are_refused_before_execution(api, org):
    c = await course(api, org, "C")
    fields = {
        "name": "X",
        "completeWithin": {"amount": 1, "unit": "DAY"},
        "criteria": {"course": c, "all": [{"course": c}]},
    }
    body = await api.call(CREATE_CREDENTIAL, {"input": fields}, token=org.token(org.admin))
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"name": ""}, ("name", "REQUIRED")),
        (
            {"completeWithin": {"amount": 0, "unit": "DAY"}},
            ("completeWithin.amount", "OUT_OF_RANGE"),
        ),
        ({"imageUrl": "javascript:alert(1)"}, ("imageUrl", "INVALID_URL")),
        (
            {"reassignOnCompletion": True, "validFor": None},
            ("reassignOnCompletion", "RENEWAL_NEEDS_VALIDITY"),
        ),
    ],
)
async def test_bad_credential_fields(api, db, org, extra, expected):
    c = await course(api, org, "C")
    fields = {
        "name": "Cred",
        "completeWithin": {"amount": 30, "unit": "DAY"},
        "criteria": {"course": c},
        **extra,
    }
    errors, _ = await errors_of(
        api, CREATE_CREDENTIAL, {"input": fields}, org.token(org.admin), "createCredential"
    )
    assert errors == [expected]
    assert await count(db, "credentials") == 0


async def test_editing_never_rewrites_history(api, org):
    c1, c2 = await course(api, org, "Old Course"), await course(api, org, "New Course")
    cred = await credential(api, org, "Policy", {"course": c1})
    (old,) = await assign(api, org, cred["id"], [org.learner])
    errors, payload = await errors_of(
        api,
        UPDATE_CREDENTIAL,
        {"input": {"id": cred["id"], "criteria": {"course": c2}, "name": "Policy v2"}},
        org.token(org.admin),
        "updateCredential",
    )
    assert errors == []
    assert payload["credential"]["version"] == 2
    assert payload["credential"]["criteriaExpression"] == "New Course"
    assert payload["credential"]["name"] == "Policy v2"
    (new,) = await assign(api, org, cred["id"], [org.other_learner])
    kept = await assignment(api, org.token(org.learner), old["id"])
    assert [t["requirement"]["title"] for t in kept["tasks"]] == ["Old Course"]
    fresh = await assignment(api, org.token(org.other_learner), new["id"])
    assert [t["requirement"]["title"] for t in fresh["tasks"]] == ["New Course"]


async def test_renaming_keeps_the_version(api, org):
    c = await course(api, org, "C")
    cred = await credential(api, org, "A", {"course": c})
    errors, payload = await errors_of(
        api,
        UPDATE_CREDENTIAL,
        {"input": {"id": cred["id"], "name": "B"}},
        org.token(org.admin),
        "updateCredential",
    )
    assert errors == []
    assert payload["credential"]["version"] == 1
    assert payload["credential"]["validFor"]["iso8601"] == "P2Y"


async def test_removing_validity(api, org):
    c = await course(api, org, "C")
    cred = await credential(api, org, "A", {"course": c})
    _, payload = await errors_of(
        api,
        UPDATE_CREDENTIAL,
        {"input": {"id": cred["id"], "validFor": None}},
        org.token(org.admin),
        "updateCredential",
    )
    assert payload["credential"]["validFor"] is None
    assert payload["credential"]["version"] == 2


async def test_archived_credentials_are_hidden_and_frozen(api, org):
    c = await course(api, org, "C")
    cred = await credential(api, org, "Old", {"course": c})
    token = org.token(org.admin)
    archived = (await api.data(ARCHIVE, {"id": cred["id"]}, token=token))["archiveCredential"]
    assert archived["credential"]["archivedAt"]
    listed = (await api.data(CREDENTIALS, {"archived": False}, token=token))["credentials"]
    assert listed["totalCount"] == 0
    listed = (await api.data(CREDENTIALS, {"archived": True}, token=token))["credentials"]
    assert listed["totalCount"] == 1
    errors, _ = await errors_of(
        api,
        UPDATE_CREDENTIAL,
        {"input": {"id": cred["id"], "name": "New"}},
        token,
        "updateCredential",
    )
    assert errors == [("id", "CREDENTIAL_ARCHIVED")]
    payload = (
        await api.data(
            "mutation($c: ID!, $l: [ID!]!) { assignCredential("
            "input: {credential: $c, learners: $l}) { userErrors { field code } } }",
            {"c": cred["id"], "l": [gid("User", org.learner.id)]},
            token=token,
        )
    )["assignCredential"]
    assert payload["userErrors"] == [{"field": "credential", "code": "CREDENTIAL_ARCHIVED"}]


async def test_learners_see_only_their_credentials(api, org):
    c = await course(api, org, "C")
    mine = await credential(api, org, "Mine", {"course": c})
    await credential(api, org, "Not Mine", {"course": c})
    await assign(api, org, mine["id"], [org.learner])
    listed = (await api.data(CREDENTIALS, {"archived": False}, token=org.token(org.learner)))[
        "credentials"
    ]
    assert [e["node"]["name"] for e in listed["edges"]] == ["Mine"]
    body = await api.call(
        "query($id: ID!) { credential(id: $id) { name } }",
        {"id": mine["id"]},
        token=org.token(org.other_learner),
    )
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("learners", "extra", "expected"),
    [
        ([], {}, ("learners", "REQUIRED")),
        (["User:" + "0" * 24], {}, ("learners[0]", "UNKNOWN_LEARNER")),
        (["bad-id"], {}, ("learners[0]", "INVALID_ID")),
        (
            None,
            {"startDate": "2026-05-01T00:00:00Z", "dueDate": "2026-04-01T00:00:00Z"},
            ("dueDate", "DUE_BEFORE_START"),
        ),
        (None, {"startDate": "2026-05-01T00:00:00"}, ("startDate", "INVALID_DATE")),
    ],
)
async def test_bad_assignments_store_nothing(api, db, org, learners, extra, expected):
    c = await course(api, org, "C")
    cred = await credential(api, org, "A", {"course": c})
    if learners is None:
        learners = [gid("User", org.learner.id)]
    learners = [gid("User", "0" * 24) if x.startswith("User:") else x for x in learners]
    payload = (
        await api.data(
            "mutation($input: AssignCredentialInput!) { assignCredential(input: $input) "
            "{ assignments { id } userErrors { field code } } }",
            {"input": {"credential": cred["id"], "learners": learners, **extra}},
            token=org.token(org.admin),
        )
    )["assignCredential"]
    assert payload["userErrors"] == [{"field": expected[0], "code": expected[1]}]
    assert payload["assignments"] == []
    assert await count(db, "assignments") == 0


async def test_other_organizations_ids_are_unknown(api, org, foreign_org):
    theirs = await course(api, foreign_org, "Their Course")
    fields = {
        "name": "X",
        "completeWithin": {"amount": 1, "unit": "DAY"},
        "criteria": {"course": theirs},
    }
    errors, _ = await errors_of(
        api, CREATE_CREDENTIAL, {"input": fields}, org.token(org.admin), "createCredential"
    )
    assert errors == [("criteria.course", "UNKNOWN_COURSE")]
    c = await course(api, org, "C")
    cred = await credential(api, org, "A", {"course": c})
    payload = (
        await api.data(
            "mutation($input: AssignCredentialInput!) { assignCredential(input: $input) "
            "{ userErrors { field code } } }",
            {
                "input": {
                    "credential": cred["id"],
                    "learners": [gid("User", foreign_org.learner.id)],
                }
            },
            token=org.token(org.admin),
        )
    )["assignCredential"]
    assert payload["userErrors"] == [{"field": "learners[0]", "code": "UNKNOWN_LEARNER"}]
