"""Hours criteria: "24 clock hours, 8 of them in ethics" — completed courses' and approved
records' clock hours, of a label or any, nestable anywhere in the criteria."""

from __future__ import annotations

from tests.helpers import (
    APPROVE,
    assign,
    course,
    credential,
    gid,
    label,
    ok,
    submit,
    take_course,
)

STATE = """
query($id: ID!) { node(id: $id) { ... on CredentialAssignment {
  status
  completion { progress nextSteps { title } }
  tasks { requirement { title kind minimumHours } state action }
  criteria {
    satisfied progress
    children { node { ... on Requirement { title } } satisfied progress
               evidence { at record { title } enrollment { course { title } } } }
  }
} } }"""


async def state(api, org, a) -> dict:
    return (await api.data(STATE, {"id": a["id"]}, token=org.token(org.learner)))["node"]


async def test_clock_hours_of_courses_and_records_meet_hours_requirements(api, org, clock):
    ethics = await label(api, org, "Ethics")
    general = await course(api, org, "Wound care", clockHours=10)
    ethical = await course(api, org, "Ethics in practice", clockHours=6, label=ethics)
    cred = await credential(api, org, "Continuing education", {"all": [
        {"hours": {"minimum": 24}},
        {"hours": {"minimum": 8, "label": ethics}},
    ]})  # fmt: skip
    (a,) = await assign(api, org, cred["id"], [org.learner])
    lee = org.token(org.learner)
    before = await state(api, org, a)
    assert [t["requirement"] for t in before["tasks"]] == [
        {"title": "24 clock hours", "kind": "HOURS", "minimumHours": 24.0},
        {"title": "8 clock hours of Ethics", "kind": "HOURS", "minimumHours": 8.0},
    ]
    assert [t["action"] for t in before["tasks"]] == ["SUBMIT_RECORD", "SUBMIT_RECORD"]
    steps = [s["title"] for s in before["completion"]["nextSteps"]]
    assert steps == ["24 clock hours", "8 clock hours of Ethics"]

    await take_course(api, lee, general, assignment=a["id"])
    await take_course(api, lee, ethical, assignment=a["id"])
    half = await state(api, org, a)
    total, ethic = half["criteria"]["children"]
    assert (total["satisfied"], total["progress"]) == (False, 16 / 24)
    assert (ethic["satisfied"], ethic["progress"]) == (False, 6 / 8)
    assert half["status"] == "IN_PROGRESS"

    record = await submit(api, lee, {
        "type": "ADDITIONAL_TRAINING", "title": "Ethics seminar", "clockHours": 8,
        "label": ethics, "completedAt": clock.now().isoformat(),
    }, content=None)  # fmt: skip
    await ok(api, APPROVE, {"record": record["record"]["id"]}, org.token(org.admin),
             "approveTrainingRecord")  # fmt: skip
    done = await state(api, org, a)
    assert done["status"] == "COMPLETED"
    total, ethic = done["criteria"]["children"]
    assert total["satisfied"]
    assert ethic["satisfied"]
    shown = {(e["record"] or {}).get("title") or e["enrollment"]["course"]["title"]
             for e in ethic["evidence"]}  # fmt: skip
    assert shown == {"Ethics in practice", "Ethics seminar"}
    assert len(total["evidence"]) == 3


async def test_hours_are_validated(api, org):
    for criteria, field, code in (
        ({"hours": {"minimum": 0}}, "criteria.hours.minimum", "OUT_OF_RANGE"),
        ({"hours": {"minimum": 10_001}}, "criteria.hours.minimum", "OUT_OF_RANGE"),
        ({"hours": {"minimum": 8, "label": gid("Label", "0" * 24)}}, "criteria.hours.label",
         None),
    ):  # fmt: skip
        made = await api.data(
            "mutation($input: CreateCredentialInput!) { createCredential(input: $input) "
            "{ credential { id } userErrors { field code } } }",
            {"input": {"name": "CE", "completeWithin": {"amount": 30, "unit": "DAY"},
                       "criteria": criteria}},
            token=org.token(org.admin),
        )  # fmt: skip
        errors = made["createCredential"]["userErrors"]
        assert [e["field"] for e in errors] == [field], errors
        if code:
            assert errors[0]["code"] == code
