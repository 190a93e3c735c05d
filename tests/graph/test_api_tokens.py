"""API tokens: made by administrators, shown once, stored hashed, acting only within their
scopes; and course progress, which comes from the course player."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import make_org
from tests.helpers import (
    DASHBOARD,
    GET_COURSE,
    LAUNCH,
    REPORT,
    SUBMIT,
    assign,
    course,
    credential,
    gid,
    ok,
)

CREATE = """
mutation($input: CreateApiTokenInput!) {
  createApiToken(input: $input) {
    apiToken { id name scopes expiresAt lastUsedAt revokedAt }
    secret
    userErrors { field code }
  }
}"""
LIST = """
query($all: Boolean!) { apiTokens(includeRevoked: $all) { id name scopes lastUsedAt revokedAt } }
"""
REVOKE = """
mutation($id: ID!) {
  revokeApiToken(input: {apiToken: $id}) { apiToken { id revokedAt } userErrors { code } }
}"""
POLICY = """
mutation($on: Boolean!) {
  updateOrganization(input: {selfReportedProgress: $on}) {
    organization { selfReportedProgress alwaysNotifyAdministrators } userErrors { code }
  }
}"""


async def make_token(api, org, *scopes: str, **extra) -> tuple[str, str]:
    made = await ok(
        api,
        CREATE,
        {"input": {"name": "Ward 5 wallboard", "scopes": list(scopes), **extra}},
        org.token(org.admin),
        "createApiToken",
    )
    return made["apiToken"]["id"], made["secret"]


def codes(body: dict) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def enrolled(api, org, learner) -> str:
    c = await course(api, org, f"Course for {learner.name}")
    token = org.token(learner)
    got = await ok(api, GET_COURSE, {"input": {"course": c}}, token, "getCourse")
    await ok(api, LAUNCH, {"input": {"enrollment": got["enrollment"]["id"]}}, token, "launchCourse")
    return got["enrollment"]["id"]


async def report(api, token: str, enrollment: str) -> dict:
    variables = {"input": {"enrollment": enrollment, "progress": 1, "completed": True}}
    return (await api.data(REPORT, variables, token=token))["reportCourseProgress"]


async def test_the_secret_is_shown_once_and_stored_hashed(api, db, org):
    token_id, secret = await make_token(api, org, "READ")
    assert secret.startswith("cgk_")
    assert len(secret) > 40
    listed = (await api.data(LIST, {"all": False}, token=org.token(org.admin)))["apiTokens"]
    names = {t["id"]: t for t in listed}
    assert names[token_id]["scopes"] == ["READ"]
    assert secret not in str(listed)
    stored = [doc async for doc in db.db.apiTokens.find()]
    assert stored
    assert all(secret not in str(doc) for doc in stored)


async def test_a_read_token_runs_the_dashboard_and_no_mutation(api, org):
    _, secret = await make_token(api, org, "READ")
    data = await api.data(DASHBOARD, token=secret)
    assert data["complianceSummary"]["total"] == 0
    users = await api.data("{ users { totalCount } }", token=secret)
    assert users["users"]["totalCount"] == 3
    me = await api.call("{ me { id } }", token=secret)
    assert codes(me) == ["FORBIDDEN"]
    refused = await api.call(
        'mutation { createLabel(input: {name: "X"}) { label { id } userErrors { code } } }',
        token=secret,
    )
    assert codes(refused) == ["FORBIDDEN"]


async def test_a_token_of_another_scope_runs_no_query(api, org):
    _, secret = await make_token(api, org, "COURSE_PLAYER", "RECORDS_WRITE")
    for query in (DASHBOARD, "{ courses { totalCount } }", "{ labels { id } }"):
        body = await api.call(query, token=secret)
        assert "FORBIDDEN" in codes(body), body


async def test_last_use_is_noted_and_revocation_stops_a_token_at_once(api, org, clock):
    token_id, secret = await make_token(api, org, "READ")
    clock.advance(timedelta(minutes=5))
    await api.data("{ labels { id } }", token=secret)
    listed = (await api.data(LIST, {"all": False}, token=org.token(org.admin)))["apiTokens"]
    (mine,) = [t for t in listed if t["id"] == token_id]
    assert mine["lastUsedAt"] == clock.now().isoformat()
    revoked = await ok(api, REVOKE, {"id": token_id}, org.token(org.admin), "revokeApiToken")
    assert revoked["apiToken"]["revokedAt"] == clock.now().isoformat()
    assert codes(await api.call("{ labels { id } }", token=secret)) == ["UNAUTHENTICATED"]
    listed = (await api.data(LIST, {"all": False}, token=org.token(org.admin)))["apiTokens"]
    assert token_id not in {t["id"] for t in listed}
    listed = (await api.data(LIST, {"all": True}, token=org.token(org.admin)))["apiTokens"]
    assert token_id in {t["id"] for t in listed}


async def test_a_token_expires_when_asked(api, org, clock):
    later = (clock.now() + timedelta(days=1)).isoformat()
    _, secret = await make_token(api, org, "READ", expiresAt=later)
    await api.data("{ labels { id } }", token=secret)
    clock.advance(timedelta(days=1))
    body = await api.call("{ labels { id } }", token=secret)
    assert codes(body) == ["UNAUTHENTICATED"]
    assert "expired" in body["errors"][0]["message"]


async def test_bad_token_input_is_refused_with_codes(api, org, clock):
    admin = org.token(org.admin)
    cases = [
        ({"name": "x", "scopes": []}, "NO_SCOPES"),
        ({"name": "  ", "scopes": ["READ"]}, "REQUIRED"),
        ({"name": "x" * 201, "scopes": ["READ"]}, "TOO_LONG"),
        ({"name": "x", "scopes": ["READ"], "expiresAt": clock.now().isoformat()}, "OUT_OF_RANGE"),
    ]
    for fields, code in cases:
        made = (await api.data(CREATE, {"input": fields}, token=admin))["createApiToken"]
        assert made["secret"] is None
        assert [e["code"] for e in made["userErrors"]] == [code]
    made = await api.call(CREATE, {"input": cases[0][0]}, token=org.token(org.learner))
    assert codes(made) == ["FORBIDDEN"]
    assert codes(await api.call("{ labels { id } }", token="cgk_" + "x" * 43)) == [
        "UNAUTHENTICATED"
    ]


async def test_a_learner_cannot_complete_a_course_by_saying_so(api, org):
    enrollment = await enrolled(api, org, org.learner)
    variables = {"input": {"enrollment": enrollment, "progress": 1, "completed": True}}
    refused = await api.call(REPORT, variables, token=org.token(org.learner))
    assert codes(refused) == ["FORBIDDEN"]
    assert "course player" in refused["errors"][0]["message"]
    done = await report(api, org.player, enrollment)
    assert done["enrollment"]["status"] == "COMPLETED"


async def test_an_organization_may_take_learners_own_reports(api, org):
    turned = await ok(api, POLICY, {"on": True}, org.token(org.admin), "updateOrganization")
    assert turned["organization"]["selfReportedProgress"] is True
    refused = await api.call(POLICY, {"on": False}, token=org.token(org.learner))
    assert codes(refused) == ["FORBIDDEN"]
    enrollment = await enrolled(api, org, org.learner)
    done = await report(api, org.token(org.learner), enrollment)
    assert done["enrollment"]["status"] == "COMPLETED"
    other = await enrolled(api, org, org.other_learner)  # still only their own
    refused = await report(api, org.token(org.learner), other)
    assert [e["code"] for e in refused["userErrors"]] == ["NOT_FOUND"]


async def test_the_player_reports_for_any_learner_of_its_organization_only(
    api, db, settings, clock, org
):
    mine = await enrolled(api, org, org.other_learner)
    elsewhere = await make_org(db, settings, clock, "Other Clinic")
    refused = await report(api, elsewhere.player, mine)
    assert [e["code"] for e in refused["userErrors"]] == ["NOT_FOUND"]
    got = await api.call(
        GET_COURSE, {"input": {"course": gid("Course", "0" * 24)}}, token=org.player
    )
    assert codes(got) == ["FORBIDDEN"]
    assert (await report(api, org.player, mine))["enrollment"]["status"] == "COMPLETED"


async def test_an_integration_submits_records_for_review(api, org):
    _, secret = await make_token(api, org, "RECORDS_WRITE")
    cpr = await course(api, org, "CPR")
    cred = await credential(api, org, "CPR", {"course": cpr})
    await assign(api, org, cred["id"], [org.learner])
    fields = {"type": "ADDITIONAL_TRAINING", "title": "CPR (Red Cross)",
              "completedAt": "2026-02-01T10:00:00Z"}  # fmt: skip
    nameless = (await api.data(SUBMIT, {"input": fields}, token=secret))["submitTrainingRecord"]
    assert [(e["field"], e["code"]) for e in nameless["userErrors"]] == [("learner", "REQUIRED")]
    fields["learner"] = gid("User", org.learner.id)
    made = await ok(api, SUBMIT, {"input": fields}, secret, "submitTrainingRecord")
    assert made["record"]["status"] == "PENDING"
    assert made["record"]["submittedBy"] is None
    assert made["record"]["learner"]["email"] == org.learner.email


async def test_an_organization_holds_a_bounded_number_of_tokens(api, org):
    from resolvers.api_tokens import MAX_TOKENS

    for _ in range(MAX_TOKENS - 1):  # the organization's course player holds one
        await make_token(api, org, "READ")
    made = await api.data(
        CREATE, {"input": {"name": "one too many", "scopes": ["READ"]}}, token=org.token(org.admin)
    )
    assert made["createApiToken"]["userErrors"] == [{"field": None, "code": "TOO_MANY"}]
