"""The rules that make answers independent of the order evidence arrives in, one test each.

Each test is a scenario an auditor worked out by hand (issue 9): the expected dates below follow
from the rules in the README ("How the answers are computed"), not from the implementation.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from tests.conftest import START
from tests.helpers import (
    PDF,
    assign,
    assignment,
    course,
    credential,
    gid,
    label,
    ok,
    take_course,
)

DAY = timedelta(days=1)

SUBMIT = """
mutation($input: SubmitTrainingRecordInput!) {
  submitTrainingRecord(input: $input) {
    record { id status }
    userErrors { field message code }
  }
}"""
APPROVE = """
mutation($record: ID!) {
  approveTrainingRecord(input: {record: $record}) { record { id status } userErrors { code } }
}"""
CURRENT = """
query($learner: ID!, $asOf: DateTime) {
  node(id: $learner) { ... on User {
    credentials(current: true, asOf: $asOf) { totalCount edges { node {
      cycle status(asOf: $asOf) completedAt validFrom validUntil startDate dueDate
    } } }
  } }
}"""
CYCLES = """
query($learner: ID!) {
  node(id: $learner) { ... on User {
    credentials(first: 20) { edges { node {
      id cycle status completedAt validFrom validUntil startDate dueDate
      completion { satisfied nextSteps { title } }
      tasks { state action record { id status } enrollment { id status } }
    } } }
  } }
}"""
SUMMARY = """
query($asOf: DateTime!, $within: PeriodInput) {
  complianceSummary(asOf: $asOf, expiringWithin: $within) {
    total completed expired notYetAvailable notStarted inProgress overdue expiringSoon dueSoon
  }
}"""


async def record(api, org, learner, *, by_admin: bool = True, **fields) -> dict:
    """Submit a record (a document when it has an issue date); an administrator's is approved."""
    submitter = org.admin if by_admin else learner
    token = org.token(submitter)
    payload = {**fields}
    if "assignment" not in payload:
        payload.setdefault("title", "Outside training")
    if by_admin:
        payload["learner"] = gid("User", learner.id)
    if payload["type"] == "CREDENTIAL_DOCUMENT":
        payload["document"] = None
        data = await api.upload(
            SUBMIT,
            {"input": payload},
            {"variables.input.document": ("licence.pdf", PDF, "application/pdf")},
            token=token,
        )
        return data["submitTrainingRecord"]
    return (await api.data(SUBMIT, {"input": payload}, token=token))["submitTrainingRecord"]


async def approve(api, org, record_id: str) -> None:
    await ok(api, APPROVE, {"record": record_id}, org.token(org.admin), "approveTrainingRecord")


async def cycles(api, org, learner) -> list[dict]:
    data = await api.data(CYCLES, {"learner": gid("User", learner.id)}, token=org.token(org.admin))
    return sorted(
        (e["node"] for e in data["node"]["credentials"]["edges"]), key=lambda a: a["cycle"]
    )


async def current(api, org, learner, as_of: str) -> dict:
    data = await api.data(
        CURRENT, {"learner": gid("User", learner.id), "asOf": as_of}, token=org.token(org.admin)
    )
    (edge,) = data["node"]["credentials"]["edges"]
    return edge["node"]


def licence(lic: str, issue: str, end: str) -> dict:
    return {"type": "CREDENTIAL_DOCUMENT", "label": lic, "issueDate": issue, "endDate": end}


async def licence_credential(api, org, **extra) -> tuple[str, dict]:
    lic = await label(api, org, "RN Licence")
    fields = {"reassignOnCompletion": True, **extra}
    cred = await credential(
        api,
        org,
        "Nursing Licence",
        {"trainingRecord": {"label": lic, "recordType": "CREDENTIAL_DOCUMENT"}},
        **fields,
    )
    return lic, cred


# --- 1. validity follows the best evidence, whenever it arrives -----------------------------


@pytest.mark.parametrize("old_first", [True, False])
async def test_a_renewed_licence_covers_the_nurse_in_either_order(api, org, old_first):
    lic, cred = await licence_credential(api, org)
    await assign(api, org, cred["id"], [org.learner])
    old = licence(lic, "2024-04-10", "2026-04-01")
    new = licence(lic, "2026-03-01", "2028-03-01")
    for fields in (old, new) if old_first else (new, old):
        assert (await record(api, org, org.learner, **fields))["userErrors"] == []

    # After the old licence's end she is covered by the new one, to its validity's end.
    month_later = await current(api, org, org.learner, "2026-04-15T00:00:00Z")
    assert month_later["status"] == "COMPLETED"
    assert month_later["completedAt"] == START.isoformat()
    assert month_later["validFrom"] == "2026-03-01T00:00:00+00:00"
    assert month_later["validUntil"] == "2028-03-01T00:00:00+00:00"
    # The renewal opens completeWithin (90 days) before that and is due when it lapses.
    renewing = await current(api, org, org.learner, "2027-12-10T00:00:00Z")
    assert renewing["status"] == "NOT_STARTED"
    assert renewing["startDate"] == "2027-12-02T00:00:00+00:00"
    assert renewing["dueDate"] == "2028-03-01T00:00:00+00:00"
    lapsed = await current(api, org, org.learner, "2028-03-05T00:00:00Z")
    assert lapsed["status"] == "OVERDUE"


async def test_a_better_alternative_approved_later_extends_validity(api, org, clock):
    lic = await label(api, org, "ACLS")
    c = await course(api, org, "ACLS Online")
    cred = await credential(
        api,
        org,
        "ACLS",
        {
            "any": [
                {"trainingRecord": {"label": lic, "recordType": "CREDENTIAL_DOCUMENT"}},
                {"course": c},
            ]
        },
    )
    (a,) = await assign(api, org, cred["id"], [org.learner])
    await record(api, org, org.learner, **licence(lic, "2026-02-01", "2026-10-01"))
    first = await assignment(api, org.token(org.learner), a["id"])
    assert first["validUntil"] == "2026-10-02T00:00:00+00:00"

    clock.advance(DAY)
    await take_course(api, org.token(org.learner), c, assignment=a["id"])
    later = await assignment(api, org.token(org.learner), a["id"])
    assert later["completedAt"] == START.isoformat()  # never moves
    assert later["validFrom"] == (START + DAY).isoformat()
    assert later["validUntil"] == (START + DAY).replace(year=2028).isoformat()


# --- 2. what completed a cycle does not complete its renewal -------------------------------


async def test_the_drill_that_completed_a_cycle_does_not_complete_its_renewal(api, org, clock):
    drill = await course(api, org, "Fire Drill")
    cred = await credential(
        api,
        org,
        "Weekly Drill",
        {"course": drill},
        completeWithin={"amount": 30, "unit": "DAY"},
        validFor={"amount": 1, "unit": "WEEK"},
        reassignOnCompletion=True,
    )
    (a,) = await assign(api, org, cred["id"], [org.learner])
    token = org.token(org.learner)
    await take_course(api, token, drill, assignment=a["id"])

    first, renewal = await cycles(api, org, org.learner)
    assert first["completedAt"] == START.isoformat()
    assert first["validUntil"] == (START + 7 * DAY).isoformat()
    assert renewal["startDate"] == START.isoformat()
    assert renewal["dueDate"] == (START + 30 * DAY).isoformat()
    assert renewal["completedAt"] is None
    assert renewal["completion"] == {"satisfied": False, "nextSteps": [{"title": "Fire Drill"}]}
    assert renewal["tasks"][0]["state"] == "NOT_STARTED"
    assert renewal["tasks"][0]["action"] == "GET_COURSE"
    assert renewal["status"] == "NOT_STARTED"

    clock.advance(6 * DAY)
    again = await take_course(api, token, drill, assignment=renewal["id"])
    assert again["status"] == "COMPLETED"
    _, renewed, _next = await cycles(api, org, org.learner)
    assert renewed["status"] == "COMPLETED"
    assert renewed["validFrom"] == (START + 6 * DAY).isoformat()
    assert renewed["validUntil"] == (START + 13 * DAY).isoformat()


# --- 3. a record meets a requirement only if it matches it -------------------------------


async def test_a_mismatched_record_is_refused_for_a_task(api, org):
    bls = await label(api, org, "BLS")
    other = await label(api, org, "Driving Licence")
    cred = await credential(
        api, org, "BLS", {"trainingRecord": {"label": bls, "recordType": "CREDENTIAL_DOCUMENT"}}
    )
    (a,) = await assign(api, org, cred["id"], [org.learner])
    for_task = {"assignment": a["id"], "requirement": a["tasks"][0]["requirement"]["id"]}

    training = await record(
        api,
        org,
        org.learner,
        by_admin=False,
        type="ADDITIONAL_TRAINING",
        completedAt=(START - DAY).isoformat(),
        **for_task,
    )
    assert [(e["field"], e["code"]) for e in training["userErrors"]] == [
        ("type", "RECORD_MISMATCH")
    ]
    wrong_label = await record(
        api,
        org,
        org.learner,
        by_admin=False,
        **licence(other, "2026-01-01", "2027-01-01"),
        **for_task,
    )
    assert [(e["field"], e["code"]) for e in wrong_label["userErrors"]] == [
        ("label", "RECORD_MISMATCH")
    ]
    assert (await cycles(api, org, org.learner))[0]["status"] == "NOT_STARTED"


async def test_an_approved_record_of_another_type_does_not_count(api, org):
    bls = await label(api, org, "BLS")
    cred = await credential(
        api, org, "BLS", {"trainingRecord": {"label": bls, "recordType": "CREDENTIAL_DOCUMENT"}}
    )
    await assign(api, org, cred["id"], [org.learner])
    done = await record(
        api, org, org.learner, type="ADDITIONAL_TRAINING", label=bls, completedAt=START.isoformat()
    )
    assert done["userErrors"] == []
    (only,) = await cycles(api, org, org.learner)
    assert only["completedAt"] is None
    assert only["tasks"][0]["state"] == "NOT_STARTED"


# --- 4. a document is dated by its issue date -----------------------------------------------


async def test_a_document_cannot_be_dated_by_completed_at(api, org):
    lic, _cred = await licence_credential(api, org)
    refused = await record(
        api,
        org,
        org.learner,
        **licence(lic, "2023-01-10", "2027-01-10"),
        completedAt=(START - 7 * DAY).isoformat(),
    )
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
        ("completedAt", "FIELD_NOT_ALLOWED")
    ]


# --- 5. compliance counts people -----------------------------------------------------------


async def test_compliance_counts_each_person_once(api, org):
    lic, cred = await licence_credential(api, org, validFor={"amount": 1, "unit": "YEAR"})
    await assign(api, org, cred["id"], [org.learner])
    await record(api, org, org.learner, **licence(lic, "2025-05-10", "2027-01-01"))
    await record(api, org, org.learner, **licence(lic, "2026-03-01", "2028-01-01"))
    assert len(await cycles(api, org, org.learner)) == 3  # the history stays

    later = (START + 100 * DAY).isoformat()
    summary = (
        await api.data(
            SUMMARY,
            {"asOf": later, "within": {"amount": 60, "unit": "DAY"}},
            token=org.token(org.admin),
        )
    )["complianceSummary"]
    assert summary == {
        "total": 1,
        "completed": 1,
        "expired": 0,
        "notYetAvailable": 0,
        "notStarted": 0,
        "inProgress": 0,
        "overdue": 0,
        "expiringSoon": 0,
        "dueSoon": 0,
    }


# --- 6. a renewal is due no earlier than the validity it renews ----------------------------


async def test_a_renewal_is_not_due_before_the_credential_lapses(api, org):
    lic, cred = await licence_credential(api, org, completeWithin={"amount": 1, "unit": "MONTH"})
    await assign(api, org, cred["id"], [org.learner])
    await record(api, org, org.learner, **licence(lic, "2025-06-01", "2026-12-30"))
    first, renewal = await cycles(api, org, org.learner)
    assert first["validUntil"] == "2026-12-31T00:00:00+00:00"
    assert renewal["startDate"] == "2026-11-30T00:00:00+00:00"
    assert renewal["dueDate"] == "2026-12-31T00:00:00+00:00"  # not Dec 30 (month clamping)
    still_valid = await current(api, org, org.learner, "2026-12-30T12:00:00Z")
    assert still_valid["status"] == "NOT_STARTED"


# --- 7. duplicates in a group ----------------------------------------------------------------


CREATE = """
mutation($input: CreateCredentialInput!) {
  createCredential(input: $input) { credential { id } userErrors { field code } }
}"""


async def test_a_duplicated_child_is_refused(api, org):
    c1 = await course(api, org, "C1")
    c2 = await course(api, org, "C2")
    criteria = {"atLeast": {"minimum": 2, "of": [{"course": c1}, {"course": c1}, {"course": c2}]}}
    payload = (
        await api.data(
            CREATE,
            {
                "input": {
                    "name": "Dup",
                    "completeWithin": {"amount": 1, "unit": "YEAR"},
                    "criteria": criteria,
                }
            },
            token=org.token(org.admin),
        )
    )["createCredential"]
    assert payload["credential"] is None
    assert payload["userErrors"] == [
        {"field": "criteria.atLeast.of[1]", "code": "CRITERIA_DUPLICATE"}
    ]


# --- 8. lapsed evidence never completes a cycle -------------------------------------------


async def test_lapsed_evidence_does_not_complete_a_back_filled_cycle(api, org):
    fire = await label(api, org, "Fire Safety")
    cred = await credential(api, org, "Fire", {"trainingRecord": {"label": fire}})
    (a,) = await assign(
        api, org, cred["id"], [org.learner], startDate=(START - 540 * DAY).isoformat()
    )
    done = await record(
        api,
        org,
        org.learner,
        type="ADDITIONAL_TRAINING",
        label=fire,
        completedAt=(START - 900 * DAY).isoformat(),
    )
    assert done["userErrors"] == []
    seen = await assignment(api, org.token(org.learner), a["id"])
    assert seen["completedAt"] is None
    assert seen["status"] == "OVERDUE"
    assert seen["completion"]["satisfied"] is False


# --- 9. next steps are the fewest ------------------------------------------------------------


async def test_next_steps_take_a_shared_course_once(api, org):
    c1, c2, c3 = [await course(api, org, f"C{i}") for i in (1, 2, 3)]
    cred = await credential(
        api,
        org,
        "Shared",
        {
            "all": [
                {"any": [{"course": c2}, {"course": c1}]},
                {"any": [{"course": c3}, {"course": c1}]},
            ]
        },
    )
    (a,) = await assign(api, org, cred["id"], [org.learner])
    assert a["completion"]["nextSteps"] == [
        {"id": a["completion"]["nextSteps"][0]["id"], "title": "C1"}
    ]


async def test_next_steps_prefer_a_course_to_the_path_containing_it(api, org):
    c1, c2 = [await course(api, org, f"C{i}") for i in (1, 2)]
    path = await course(api, org, "Path", kind="LEARNING_PATH", courses=[c1, c2])
    cred = await credential(
        api, org, "Path or C1", {"any": [{"learningPath": path}, {"course": c1}]}
    )
    (a,) = await assign(api, org, cred["id"], [org.learner])
    assert [s["title"] for s in a["completion"]["nextSteps"]] == ["C1"]


# --- 10. smaller answers at the margins -----------------------------------------------------


async def test_a_course_under_way_before_the_assignment_makes_it_in_progress(api, org):
    c = await course(api, org, "Hand Hygiene")
    cred = await credential(api, org, "Hygiene", {"course": c})
    await take_course(api, org.token(org.learner), c, finish=False)
    (a,) = await assign(api, org, cred["id"], [org.learner])
    assert a["status"] == "IN_PROGRESS"


async def test_a_pending_matching_record_makes_it_in_progress(api, org):
    bls = await label(api, org, "BLS")
    cred = await credential(api, org, "BLS", {"trainingRecord": {"label": bls}})
    (a,) = await assign(api, org, cred["id"], [org.learner])
    pending = await record(
        api,
        org,
        org.learner,
        by_admin=False,
        type="ADDITIONAL_TRAINING",
        label=bls,
        completedAt=START.isoformat(),
    )
    assert pending["record"]["status"] == "PENDING"
    seen = await assignment(api, org.token(org.learner), a["id"])
    assert seen["status"] == "IN_PROGRESS"
    assert seen["tasks"][0]["state"] == "PENDING_APPROVAL"


async def test_a_half_done_learning_path_task_is_in_progress(api, org):
    c1, c2 = [await course(api, org, f"C{i}") for i in (1, 2)]
    path = await course(api, org, "Path", kind="LEARNING_PATH", courses=[c1, c2])
    cred = await credential(api, org, "Path", {"learningPath": path})
    (a,) = await assign(api, org, cred["id"], [org.learner])
    await take_course(api, org.token(org.learner), c1)
    seen = await assignment(api, org.token(org.learner), a["id"])
    assert seen["tasks"][0]["state"] == "IN_PROGRESS"
    assert seen["status"] == "IN_PROGRESS"


async def test_an_approved_record_that_does_not_count_is_still_the_tasks_record(api, org):
    bls = await label(api, org, "BLS")
    cred = await credential(api, org, "BLS", {"trainingRecord": {"label": bls}})
    (a,) = await assign(api, org, cred["id"], [org.learner])
    failed = await record(
        api,
        org,
        org.learner,
        type="ADDITIONAL_TRAINING",
        label=bls,
        completedAt=START.isoformat(),
        lessonStatus="FAILED",
    )
    (only,) = await cycles(api, org, org.learner)
    assert only["tasks"][0]["state"] == "NOT_STARTED"
    assert only["tasks"][0]["action"] == "SUBMIT_RECORD"
    assert only["tasks"][0]["record"] == {"id": failed["record"]["id"], "status": "APPROVED"}
    assert a["id"] == only["id"]


async def test_expires_in_is_not_zero_before_the_due_instant(api, org):
    c = await course(api, org, "C")
    cred = await credential(api, org, "C", {"course": c})
    (a,) = await assign(api, org, cred["id"], [org.learner])
    half_second_left = (START + 90 * DAY - timedelta(milliseconds=500)).isoformat()
    seen = await assignment(api, org.token(org.learner), a["id"], as_of=half_second_left)
    assert seen["asOf"] == "NOT_STARTED"
    assert seen["expiresAsOf"]["seconds"] == 1


async def test_earlier_evidence_completes_a_future_cycle_only_when_it_starts(api, org):
    c = await course(api, org, "C")
    cred = await credential(api, org, "C", {"course": c})
    await take_course(api, org.token(org.learner), c)
    starts = START + 10 * DAY
    (a,) = await assign(api, org, cred["id"], [org.learner], startDate=starts.isoformat())
    assert a["status"] == "NOT_YET_AVAILABLE"
    assert a["canStart"] is False
    assert a["completedAt"] == starts.isoformat()
    assert a["validFrom"] == START.isoformat()
    on_the_day = await assignment(api, org.token(org.learner), a["id"], as_of=starts.isoformat())
    assert on_the_day["asOf"] == "COMPLETED"


# --- racing evidence --------------------------------------------------------------------------


async def test_concurrent_approvals_settle_to_the_answers_of_one_at_a_time(api, org):
    lic, cred = await licence_credential(api, org, validFor={"amount": 1, "unit": "YEAR"})
    await assign(api, org, cred["id"], [org.learner, org.other_learner])
    licences = [
        licence(lic, issued, ends)
        for issued, ends in (
            ("2025-03-01", "2026-03-10"),
            ("2025-06-01", "2026-05-31"),
            ("2025-09-01", "2026-09-30"),
            ("2026-01-05", "2026-12-31"),
            ("2026-02-20", "2027-06-30"),
        )
    ]
    pending = [
        (await record(api, org, org.learner, by_admin=False, **fields))["record"]["id"]
        for fields in licences
    ]
    await asyncio.gather(*(approve(api, org, record_id) for record_id in pending))
    for fields in licences:
        await record(api, org, org.other_learner, **fields)

    moments = ["2026-03-05T00:00:00Z", "2026-06-01T00:00:00Z", "2026-12-01T00:00:00Z"]
    moments += ["2027-03-01T00:00:00Z", "2027-07-01T00:00:00Z"]
    for as_of in moments:
        raced, calm = [
            await current(api, org, who, as_of) for who in (org.learner, org.other_learner)
        ]
        assert raced["status"] == calm["status"], as_of
        if calm["status"] == "COMPLETED":
            keys = ("completedAt", "validFrom", "validUntil")
        else:
            keys = ("startDate", "dueDate")
        assert [raced[k] for k in keys] == [calm[k] for k in keys], as_of
    assert (await current(api, org, org.learner, moments[0]))["validUntil"] == (
        "2027-02-20T00:00:00+00:00"
    )
