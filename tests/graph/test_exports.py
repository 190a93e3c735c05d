"""`GET /exports/assignments.csv`: the `assignments` query's cycles as a streamed CSV file."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from resolvers import exports
from tests.conftest import START
from tests.helpers import assign, course, credential, gid, ok, ward

CREATE_TOKEN = """
mutation($scopes: [ApiTokenScope!]!) {
  createApiToken(input: {name: "Reports", scopes: $scopes}) { secret userErrors { code } }
}"""
LISTED = """
query($status: CredentialStatus, $asOf: DateTime) {
  assignments(status: $status, asOf: $asOf, first: 100) {
    edges { node { id status learner { email } } }
  }
}"""
CREATE_USER = """
mutation($name: String!, $email: String!) {
  createUser(input: {email: $email, name: $name, role: LEARNER}) { user { id } userErrors { code } }
}"""
EXTEND = """
mutation($input: ExtendDueDateInput!) {
  extendDueDate(input: $input) { assignment { id } userErrors { code } }
}"""


def rows(response) -> list[dict[str, str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff"), "Excel reads UTF-8 with its byte order mark"
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


async def setup(api, org) -> dict:
    cpr = await course(api, org, "CPR")
    cred = await credential(api, org, "CPR Certification", {"course": cpr})
    lee, olu = await assign(api, org, cred["id"], [org.learner, org.other_learner])
    return {"credential": cred["id"], "lee": lee["id"], "olu": olu["id"]}


async def token_with(api, org, scope: str) -> str:
    made = await ok(api, CREATE_TOKEN, {"scopes": [scope]}, org.token(org.admin), "createApiToken")
    return made["secret"]


async def test_export_lists_what_the_assignments_query_lists_at_as_of(api, http, org):
    made = await setup(api, org)
    admin = org.token(org.admin)
    later = (START + timedelta(days=120)).isoformat()
    await ok(
        api, EXTEND,
        {"input": {"assignment": made["lee"], "dueDate": (START + timedelta(days=200)).isoformat(),
                   "reason": "leave"}},
        admin, "extendDueDate",
    )  # fmt: skip
    listed = await api.data(LISTED, {"status": "OVERDUE", "asOf": later}, token=admin)
    response = await http.get(
        "/exports/assignments.csv",
        params={"status": "OVERDUE", "asOf": later, "credential": made["credential"]},
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment;")
    found = rows(response)
    expected = [
        (e["node"]["id"], e["node"]["learner"]["email"]) for e in listed["assignments"]["edges"]
    ]
    assert [(r["assignment_id"], r["learner_email"]) for r in found] == expected
    assert expected == [(made["olu"], org.other_learner.email)]  # Lee's was extended
    (row,) = found
    assert row["status"] == "OVERDUE"
    assert row["credential"] == "CPR Certification"
    assert row["as_of"] == (START + timedelta(days=120)).isoformat().replace("+00:00", "Z")
    assert row["due_date"] == (START + timedelta(days=90)).isoformat().replace("+00:00", "Z")
    assert row["extensions"] == "0"
    assert row["exempt"] == "no"

    everyone = rows(
        await http.get(
            "/exports/assignments.csv", params={"asOf": later},
            headers={"Authorization": f"Bearer {admin}"},
        )
    )  # fmt: skip
    lee = next(r for r in everyone if r["assignment_id"] == made["lee"])
    assert (lee["status"], lee["extensions"]) == ("NOT_STARTED", "1")
    assert lee["original_due_date"] == row["due_date"]
    assert lee["due_date"] == (START + timedelta(days=200)).isoformat().replace("+00:00", "Z")


async def test_export_defuses_cells_a_spreadsheet_would_run(api, http, org):
    name = '=HYPERLINK("http://evil.example","x")'
    made = await ok(
        api, CREATE_USER, {"name": name, "email": "eve@acmehealth.test"}, org.token(org.admin),
        "createUser",
    )  # fmt: skip
    cpr = await course(api, org, "CPR")
    cred = await credential(api, org, "+Danger", {"course": cpr})
    await ok(
        api,
        """mutation($input: AssignCredentialInput!) {
          assignCredential(input: $input) { userErrors { code } } }""",
        {"input": {"credential": cred["id"], "learners": [made["user"]["id"]]}},
        org.token(org.admin),
        "assignCredential",
    )
    response = await http.get(
        "/exports/assignments.csv", headers={"Authorization": f"Bearer {org.token(org.admin)}"}
    )
    (row,) = rows(response)
    assert row["learner_name"] == '\'=HYPERLINK("http://evil.example","x")'
    assert row["credential"] == "'+Danger"


async def test_export_walks_pages_with_round_trips_per_page_not_per_row(
    api, http, org, commands, monkeypatch
):
    await setup(api, org)
    cpr = await course(api, org, "BLS")
    cred = await credential(api, org, "BLS", {"course": cpr})
    await assign(api, org, cred["id"], [org.learner, org.other_learner])
    monkeypatch.setattr(exports, "PAGE", 1)
    admin = {"Authorization": f"Bearer {org.token(org.admin)}"}
    commands.names.clear()
    one_by_one = rows(await http.get("/exports/assignments.csv", headers=admin))
    reads_by_one = [t for t in commands.targets if t[0] == "find"]
    monkeypatch.setattr(exports, "PAGE", 500)
    commands.targets.clear()
    whole = rows(await http.get("/exports/assignments.csv", headers=admin))
    reads_whole = [t for t in commands.targets if t[0] == "find"]
    assert one_by_one == whole
    assert len(whole) == 4
    # two to sign in; a page: cycles, learners, groups, credentials; one to find no more
    assert [name for _, name in reads_whole] == [
        "users", "organizations", "assignments", "users", "groups", "credentials", "assignments"
    ]  # fmt: skip
    assert len(reads_by_one) > len(reads_whole)


async def test_export_is_for_whoever_may_list_assignments(api, db, http, org, foreign_org):
    await setup(api, org)
    url = "/exports/assignments.csv"

    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    assert (await http.get(url)).status_code == 401
    assert (await http.get(url, headers=bearer("nonsense"))).status_code == 401
    refused = await http.get(url, headers=bearer(org.token(org.learner)))
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    player = await token_with(api, org, "COURSE_PLAYER")
    assert (await http.get(url, headers=bearer(player))).status_code == 403
    reader = await token_with(api, org, "READ")
    assert len(rows(await http.get(url, headers=bearer(reader)))) == 2
    _, _, maya = await ward(api, db, org)  # manages Lee only
    theirs = rows(await http.get(url, headers=bearer(maya)))
    assert [r["learner_email"] for r in theirs] == [org.learner.email]
    assert theirs[0]["groups"] == "Ward 5"
    other = await http.get(
        url, params={"learner": gid("User", org.other_learner.id)}, headers=bearer(maya)
    )
    assert other.status_code == 404
    assert rows(await http.get(url, headers=bearer(foreign_org.token(foreign_org.admin)))) == []


async def test_export_refuses_bad_filters_before_the_download(api, http, org):
    await setup(api, org)
    admin = {"Authorization": f"Bearer {org.token(org.admin)}"}
    cases = {
        "status=LOST": "OUT_OF_RANGE",
        "asOf=yesterday": "INVALID_DATE",
        "asOf=2026-01-01T00:00:00": "INVALID_DATE",
        "credential=nonsense": "INVALID_ID",
        f"credential={gid('Credential', org.id)}": "NOT_FOUND",
        "current=maybe": "OUT_OF_RANGE",
        "sort=name": "FIELD_NOT_ALLOWED",
        "status=": "REQUIRED",  # a script's unset variable: not everyone
        "credential=": "REQUIRED",
        "status=OVERDUE&status=COMPLETED": "OUT_OF_RANGE",
    }
    for query, code in cases.items():
        response = await http.get(f"/exports/assignments.csv?{query}", headers=admin)
        assert response.status_code in (400, 404), (query, response.text)
        assert response.json()["errors"][0]["extensions"]["code"] == code, query


async def test_export_leaves_out_deactivated_people(api, db, http, org):
    made = await setup(api, org)
    await ok(
        api,
        """mutation($user: ID!) { deactivateUser(input: {user: $user}) { userErrors { code } } }""",
        {"user": gid("User", org.other_learner.id)},
        org.token(org.admin),
        "deactivateUser",
    )
    admin = {"Authorization": f"Bearer {org.token(org.admin)}"}
    found = rows(await http.get("/exports/assignments.csv", headers=admin))
    assert [r["assignment_id"] for r in found] == [made["lee"]]
