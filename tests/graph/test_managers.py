"""Managers and groups: a manager sees, approves and acts for exactly the members of the
groups they manage; submissions reach a learner's managers before the administrators."""

from __future__ import annotations

from tests.helpers import (
    APPROVE,
    CREATE_GROUP,
    DASHBOARD,
    SUBMIT,
    assign,
    course,
    credential,
    gid,
    ok,
    ward,
)

UPDATE_GROUP = """
mutation($input: UpdateGroupInput!) {
  updateGroup(input: $input) {
    group { id name managers { email } members { totalCount } } userErrors { field code }
  }
}"""
QUEUE = (
    "{ trainingRecords(status: PENDING) { totalCount edges { node { id learner { email } } } } }"
)
INBOX = "{ me { notifications { edges { node { kind } } } } }"
RECORD = {"type": "ADDITIONAL_TRAINING", "title": "CPR", "completedAt": "2026-02-01T10:00:00Z"}
PEOPLE = "{ users { totalCount edges { node { email } } } }"


def codes(body: dict) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def submitted(api, token: str, **extra) -> str:
    made = await ok(api, SUBMIT, {"input": {**RECORD, **extra}}, token, "submitTrainingRecord")
    return made["record"]["id"]


async def test_a_manager_sees_exactly_their_members(api, db, org):
    _, _, maya = await ward(api, db, org)
    cpr = await course(api, org, "CPR")
    cred = await credential(api, org, "CPR", {"course": cpr})
    (mine, theirs) = await assign(api, org, cred["id"], [org.learner, org.other_learner])
    board = await api.data(DASHBOARD, token=maya)
    assert board["complianceSummary"]["total"] == 1
    listed = board["assignments"]["edges"]
    assert [e["node"]["learner"]["name"] for e in listed] == [org.learner.name]
    assert (await api.data(DASHBOARD, token=org.token(org.admin)))["complianceSummary"][
        "total"
    ] == 2
    people = (await api.data(PEOPLE, token=maya))["users"]
    assert [e["node"]["email"] for e in people["edges"]] == [org.learner.email]
    node = "query($id: ID!) { node(id: $id) { id } }"
    assert (await api.data(node, {"id": mine["id"]}, token=maya))["node"]["id"] == mine["id"]
    assert codes(await api.call(node, {"id": theirs["id"]}, token=maya)) == ["NOT_FOUND"]
    other = gid("User", org.other_learner.id)
    body = await api.call(
        "query($l: ID!) { assignments(learner: $l) { totalCount } }", {"l": other}, token=maya
    )
    assert codes(body) == ["NOT_FOUND"]
    refused = await api.call(
        'mutation { createLabel(input: {name: "X"}) { userErrors { code } } }', token=maya
    )
    assert codes(refused) == ["FORBIDDEN"]


async def test_a_manager_reviews_their_members_records_only(api, db, org):
    _, _, maya = await ward(api, db, org)
    lees = await submitted(api, org.token(org.learner))
    olus = await submitted(api, org.token(org.other_learner))
    own = await submitted(api, maya)
    queue = (await api.data(QUEUE, token=maya))["trainingRecords"]
    assert {e["node"]["id"] for e in queue["edges"]} == {lees, own}
    for record in (olus, own):
        refused = await api.data(APPROVE, {"record": record}, token=maya)
        assert refused["approveTrainingRecord"]["userErrors"] == [
            {"field": "record", "code": "NOT_FOUND"}
        ]
    approved = await ok(api, APPROVE, {"record": lees}, maya, "approveTrainingRecord")
    assert approved["record"]["status"] == "APPROVED"
    assert approved["record"]["reviewedBy"] == {"email": "maya@acmehealth.test"}
    lee_sees = (
        "query($id: ID!) { node(id: $id) { ... on TrainingRecord { reviewedBy { email } } } }"
    )
    seen = await api.data(lee_sees, {"id": lees}, token=org.token(org.learner))
    assert seen["node"]["reviewedBy"] == {"email": "maya@acmehealth.test"}
    by_maya = await ok(api, SUBMIT, {"input": {**RECORD, "learner": gid("User", org.learner.id)}},
                       maya, "submitTrainingRecord")  # fmt: skip
    assert by_maya["record"]["status"] == "APPROVED"


async def test_submissions_go_to_the_learners_managers_first(api, db, org):
    _, _, maya = await ward(api, db, org)
    await submitted(api, org.token(org.learner))
    kinds = (await api.data(INBOX, token=maya))["me"]["notifications"]["edges"]
    assert [e["node"]["kind"] for e in kinds] == ["RECORD_SUBMITTED"]
    admin_inbox = (await api.data(INBOX, token=org.token(org.admin)))["me"]["notifications"]
    assert admin_inbox["edges"] == []
    await submitted(api, org.token(org.other_learner))  # no manager: the administrators
    admin_inbox = (await api.data(INBOX, token=org.token(org.admin)))["me"]["notifications"]
    assert len(admin_inbox["edges"]) == 1
    await ok(
        api,
        "mutation { updateOrganization(input: {alwaysNotifyAdministrators: true}) "
        "{ organization { alwaysNotifyAdministrators } userErrors { code } } }",
        {},
        org.token(org.admin),
        "updateOrganization",
    )
    await submitted(api, org.token(org.learner))
    admin_inbox = (await api.data(INBOX, token=org.token(org.admin)))["me"]["notifications"]
    assert len(admin_inbox["edges"]) == 2
    kinds = (await api.data(INBOX, token=maya))["me"]["notifications"]["edges"]
    assert len(kinds) == 2


async def test_a_groups_edit_changes_a_managers_reach_at_once(api, db, org):
    group, maya_id, maya = await ward(api, db, org)
    lees = await submitted(api, org.token(org.learner))
    moved = await ok(
        api,
        UPDATE_GROUP,
        {"input": {"group": group, "removeMembers": [gid("User", org.learner.id)],
                   "addMembers": [gid("User", org.other_learner.id)], "name": "Ward 6"}},
        org.token(org.admin),
        "updateGroup",
    )  # fmt: skip
    assert moved["group"]["name"] == "Ward 6"
    assert moved["group"]["members"]["totalCount"] == 1
    assert (await api.data(QUEUE, token=maya))["trainingRecords"]["totalCount"] == 0
    refused = await api.data(APPROVE, {"record": lees}, token=maya)
    assert refused["approveTrainingRecord"]["userErrors"][0]["code"] == "NOT_FOUND"
    people = (await api.data(PEOPLE, token=maya))["users"]
    assert [e["node"]["email"] for e in people["edges"]] == [org.other_learner.email]
    demoted = await api.data(
        "mutation($u: ID!) { updateUser(input: {user: $u, role: LEARNER}) "
        "{ userErrors { code } } }",
        {"u": maya_id},
        token=org.token(org.admin),
    )
    assert demoted["updateUser"]["userErrors"] == []
    assert codes(await api.call(PEOPLE, token=maya)) == ["FORBIDDEN"]


async def test_groups_are_made_by_administrators_with_managers_only(api, db, org):
    learner = gid("User", org.learner.id)
    cases = [
        ({"name": "Ward", "managers": [learner]}, ("managers", "NOT_A_MANAGER")),
        ({"name": "Ward", "members": [gid("User", "0" * 24)]}, ("members", "UNKNOWN_USER")),
        ({"name": " "}, ("name", "REQUIRED")),
    ]
    for fields, error in cases:
        made = await api.data(CREATE_GROUP, {"input": fields}, token=org.token(org.admin))
        assert [(e["field"], e["code"]) for e in made["createGroup"]["userErrors"]] == [error]
    await ok(api, CREATE_GROUP, {"input": {"name": "Ward"}}, org.token(org.admin), "createGroup")
    again = await api.data(CREATE_GROUP, {"input": {"name": "WARD"}}, token=org.token(org.admin))
    assert again["createGroup"]["userErrors"] == [{"field": "name", "code": "NAME_TAKEN"}]
    refused = await api.call(
        CREATE_GROUP, {"input": {"name": "Mine"}}, token=org.token(org.learner)
    )
    assert codes(refused) == ["FORBIDDEN"]
    listed = "{ groups { totalCount edges { node { name } } } }"
    assert (await api.data(listed, token=org.token(org.learner)))["groups"]["totalCount"] == 0
    assert (await api.data(listed, token=org.token(org.admin)))["groups"]["totalCount"] == 1


async def test_a_learner_sees_their_groups_but_not_the_other_members(api, db, org):
    group, _, _ = await ward(api, db, org)
    await ok(
        api,
        UPDATE_GROUP,
        {"input": {"group": group, "addMembers": [gid("User", org.other_learner.id)]}},
        org.token(org.admin),
        "updateGroup",
    )
    mine = await api.data(
        "{ me { groups { name members { totalCount edges { node { email } } } "
        "managers { email } } } }",
        token=org.token(org.learner),
    )
    (ward_5,) = mine["me"]["groups"]
    assert ward_5["members"]["edges"] == [{"node": {"email": org.learner.email}}]
    assert ward_5["managers"] == [{"email": "maya@acmehealth.test"}]


async def test_a_managers_list_refuses_an_administrators_cursor(api, db, org):
    _, _, maya = await ward(api, db, org)
    cpr = await course(api, org, "CPR")
    cred = await credential(api, org, "CPR", {"course": cpr})
    await assign(api, org, cred["id"], [org.learner, org.other_learner])
    listed = "query($after: String) { assignments(first: 1, after: $after) { edges { cursor } } }"
    admins = await api.data(listed, {"after": None}, token=org.token(org.admin))
    cursor = admins["assignments"]["edges"][0]["cursor"]
    refused = await api.call(listed, {"after": cursor}, token=maya)
    assert codes(refused) == ["INVALID_CURSOR"]
    own = (await api.data(listed, {"after": None}, token=maya))["assignments"]["edges"]
    assert (await api.data(listed, {"after": own[0]["cursor"]}, token=maya))["assignments"]


async def test_a_former_manager_manages_no_group(api, db, org):
    group, maya_id, _ = await ward(api, db, org)
    await ok(
        api,
        "mutation($u: ID!) { updateUser(input: {user: $u, role: LEARNER}) "
        "{ user { role } userErrors { code } } }",
        {"u": maya_id},
        org.token(org.admin),
        "updateUser",
    )
    again = await ok(
        api,
        "mutation($u: ID!) { updateUser(input: {user: $u, role: MANAGER}) "
        "{ user { role } userErrors { code } } }",
        {"u": maya_id},
        org.token(org.admin),
        "updateUser",
    )
    assert again["user"]["role"] == "MANAGER"
    shown = "query($g: ID!) { node(id: $g) { ... on Group { managers { email } } } }"
    seen = await api.data(shown, {"g": group}, token=org.token(org.admin))
    assert seen["node"]["managers"] == []  # promoted again, she manages nothing until named


async def test_people_are_found_by_a_bounded_search_and_named_without_control_characters(
    api, db, org
):
    long = await api.call(
        "query($s: String) { users(search: $s) { totalCount } }",
        {"s": "a" * 201},
        token=org.token(org.admin),
    )
    assert codes(long) == ["TOO_LONG"]
    made = await ok(
        api,
        "mutation($input: CreateUserInput!) { createUser(input: $input) "
        "{ user { name } userErrors { code } } }",
        {"input": {"email": "rtl@acmehealth.test", "name": "Eve\u202e\u0000 Lin\u200d"}},
        org.token(org.admin),
        "createUser",
    )
    assert made["user"]["name"] == "Eve Lin\u200d"
