"""Dates have a range, 1900 to 2200, checked where they enter; nothing inside it overflows."""

from __future__ import annotations

import pytest

from tests.helpers import ASSIGN, assign, course, credential, gid, take_course

EXTREMES = [
    "0001-01-01T00:00:00+05:00",
    "0001-01-01T00:00:00-05:00",
    "9999-12-31T23:59:59-05:00",
    "9999-12-31T23:59:59+05:00",
    "1899-12-31T23:59:59Z",
    "2201-01-01T00:00:00Z",
]
QUERIES = [
    "query($t: DateTime) { me { credentials(asOf: $t) { totalCount } } }",
    "query($t: DateTime) { complianceSummary(asOf: $t) { total } }",
    "query($t: DateTime) { assignments(dueBefore: $t) { totalCount } }",
    "query($t: DateTime) { assignments(expiringBefore: $t) { totalCount } }",
    "query($t: DateTime) { me { credentials { edges { node { status(asOf: $t) } } } } }",
    "query($t: DateTime) { me { credentials { edges { node {"
    " expiresIn(asOf: $t) { seconds } } } } } }",
]


def codes(body: dict) -> set[str]:
    return {e["extensions"]["code"] for e in body.get("errors", [])}


@pytest.mark.parametrize("moment", EXTREMES)
@pytest.mark.parametrize("query", QUERIES)
async def test_moments_outside_the_range_are_invalid_dates(api, org, query, moment):
    c = await course(api, org, "C")
    cred = await credential(api, org, "C", {"course": c})
    await assign(api, org, cred["id"], [org.admin])
    body = await api.call(query, {"t": moment}, token=org.token(org.admin))
    assert codes(body) == {"INVALID_DATE"}, body


@pytest.mark.parametrize("moment", EXTREMES)
async def test_an_assignment_outside_the_range_is_refused(api, org, moment):
    c = await course(api, org, "C")
    cred = await credential(api, org, "C", {"course": c})
    learner = gid("User", org.learner.id)
    for key in ("startDate", "dueDate"):
        payload = (
            await api.data(
                ASSIGN,
                {"input": {"credential": cred["id"], "learners": [learner], key: moment}},
                token=org.token(org.admin),
            )
        )["assignCredential"]
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(key, "INVALID_DATE")]


async def test_a_due_date_computed_past_the_range_is_refused(api, org):
    c = await course(api, org, "C")
    cred = await credential(api, org, "C", {"course": c})
    payload = (
        await api.data(
            ASSIGN,
            {
                "input": {
                    "credential": cred["id"],
                    "learners": [gid("User", org.learner.id)],
                    "startDate": "2200-12-01T00:00:00Z",
                }
            },
            token=org.token(org.admin),
        )
    )["assignCredential"]
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [("dueDate", "INVALID_DATE")]


async def test_the_edges_of_the_range_are_accepted(api, org):
    c = await course(api, org, "C")
    cred = await credential(api, org, "C", {"course": c})
    await assign(api, org, cred["id"], [org.learner])
    for moment in ("1900-01-01T00:00:00Z", "2200-12-31T23:59:59.999Z"):
        body = await api.call(QUERIES[-1], {"t": moment}, token=org.token(org.learner))
        assert "errors" not in body, body


SUBMIT = """
mutation($input: SubmitTrainingRecordInput!) {
  submitTrainingRecord(input: $input) { record { id } userErrors { field code } }
}"""


@pytest.mark.parametrize("moment", EXTREMES)
async def test_a_completion_outside_the_range_is_refused(api, org, moment):
    payload = (
        await api.data(
            SUBMIT,
            {"input": {"type": "ADDITIONAL_TRAINING", "title": "T", "completedAt": moment}},
            token=org.token(org.learner),
        )
    )["submitTrainingRecord"]
    assert payload["userErrors"] == [{"field": "completedAt", "code": "INVALID_DATE"}]


@pytest.mark.parametrize("unit", ["DAY", "WEEK", "MONTH", "YEAR"])
async def test_a_period_over_a_hundred_years_is_refused(api, org, unit):
    c = await course(api, org, "C")
    amount = {"DAY": 36_526, "WEEK": 5_219, "MONTH": 1_201, "YEAR": 101}[unit]
    create = """
    mutation($input: CreateCredentialInput!) {
      createCredential(input: $input) { credential { id } userErrors { field code } }
    }"""
    fields = {
        "name": "Long",
        "completeWithin": {"amount": 1, "unit": "DAY"},
        "validFor": {"amount": amount, "unit": unit},
        "criteria": {"course": c},
    }
    payload = (await api.data(create, {"input": fields}, token=org.token(org.admin)))[
        "createCredential"
    ]
    assert payload["userErrors"] == [{"field": "validFor.amount", "code": "OUT_OF_RANGE"}]


async def test_a_century_of_validity_counts_down_in_seconds_past_32_bits(api, org):
    c = await course(api, org, "C")
    cred = await credential(api, org, "C", {"course": c}, validFor={"amount": 100, "unit": "YEAR"})
    (a,) = await assign(api, org, cred["id"], [org.learner])
    await take_course(api, org.token(org.learner), c, assignment=a["id"])
    query = (
        "query($id: ID!) { node(id: $id) { ... on CredentialAssignment"
        " { expiresIn { seconds } } } }"
    )
    body = await api.data(query, {"id": a["id"]}, token=org.token(org.learner))
    assert body["node"]["expiresIn"]["seconds"] > 2**31
