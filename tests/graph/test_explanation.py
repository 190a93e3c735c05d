"""Why is this my status: each satisfied node names the evidence it rests on, and the cycle
names what gives its validUntil."""

from __future__ import annotations

from tests.helpers import (
    APPROVE,
    assign,
    course,
    cpr_setup,
    credential,
    document_input,
    label,
    ok,
    submit,
    take_course,
)

EXPLAIN = """
query($id: ID!) { node(id: $id) { ... on CredentialAssignment {
  status validFrom validUntil
  validUntilSetBy { at endsAt enrollment { id } record { title } }
  criteria {
    satisfied
    evidence { at endsAt enrollment { id } record { title } }
    children {
      node { ... on Requirement { title } }
      satisfied
      evidence { at endsAt enrollment { id } record { title } }
    }
  }
} } }"""


async def explained(api, org, assignment_id: str) -> dict:
    return (await api.data(EXPLAIN, {"id": assignment_id}, token=org.token(org.learner)))["node"]


async def test_each_satisfied_node_names_its_evidence_and_the_end_date_that_caps_validity(
    api, org, clock
):
    bls, cpr, _, a = await cpr_setup(api, org)
    learner = org.token(org.learner)
    before = await explained(api, org, a["id"])
    assert before["criteria"]["evidence"] == []
    assert before["validUntilSetBy"] is None

    taken = await take_course(api, learner, cpr, assignment=a["id"])
    half = await explained(api, org, a["id"])
    course_node, card_node = half["criteria"]["children"]
    assert course_node["satisfied"] is True
    assert course_node["evidence"] == [
        {"at": clock.now().isoformat(), "endsAt": None, "enrollment": {"id": taken["id"]},
         "record": None}
    ]  # fmt: skip
    assert card_node["evidence"] == []
    assert half["criteria"]["evidence"] == []  # the whole is not satisfied yet

    card = await submit(
        api, learner, document_input(label=bls, title="BLS card", endDate="2027-01-31")
    )
    await ok(api, APPROVE, {"record": card["record"]["id"]}, org.token(org.admin),
             "approveTrainingRecord")  # fmt: skip
    done = await explained(api, org, a["id"])
    assert done["status"] == "COMPLETED"
    card_evidence = {
        "at": "2026-02-01T00:00:00+00:00",
        "endsAt": "2027-02-01T00:00:00+00:00",
        "enrollment": None,
        "record": {"title": "BLS card"},
    }
    assert done["criteria"]["children"][1]["evidence"] == [card_evidence]
    assert done["criteria"]["evidence"] == [card_evidence, course_node["evidence"][0]]
    assert done["validUntil"] == card_evidence["endsAt"]  # the card ends before 2 years pass
    assert done["validUntilSetBy"] == card_evidence


async def test_without_an_end_date_the_freshest_evidence_sets_validity(api, org, clock):
    bls, cpr, _, a = await cpr_setup(api, org)
    learner = org.token(org.learner)
    card = await submit(api, learner, document_input(label=bls, title="BLS card"))
    await ok(api, APPROVE, {"record": card["record"]["id"]}, org.token(org.admin),
             "approveTrainingRecord")  # fmt: skip
    taken = await take_course(api, learner, cpr, assignment=a["id"])
    done = await explained(api, org, a["id"])
    assert done["validFrom"] == clock.now().isoformat()
    assert done["validUntil"] == "2028-03-02T09:30:00+00:00"
    assert done["validUntilSetBy"] == {
        "at": clock.now().isoformat(), "endsAt": None, "enrollment": {"id": taken["id"]},
        "record": None,
    }  # fmt: skip


async def test_a_learning_path_names_its_courses_and_a_replaced_card_is_not_evidence(
    api, org, clock
):
    parts = [await course(api, org, f"Part {i}") for i in range(2)]
    path = await course(api, org, "Path", kind="LEARNING_PATH", courses=parts)
    card = await label(api, org, "Card")
    cred = await credential(api, org, "Pathway", {"all": [
        {"learningPath": path},
        {"trainingRecord": {"label": card, "recordType": "CREDENTIAL_DOCUMENT"}},
    ]})  # fmt: skip
    (a,) = await assign(api, org, cred["id"], [org.learner])
    lee = org.token(org.learner)
    for part in parts:
        await take_course(api, lee, part)
    admin = org.token(org.admin)
    for title, issued, ends in (("old card", "2026-02-03", "2026-12-03"),
                                ("new card", "2026-02-20", "2028-10-30")):  # fmt: skip
        made = await submit(api, lee, document_input(label=card, title=title, issueDate=issued,
                                                     endDate=ends))  # fmt: skip
        await ok(api, APPROVE, {"record": made["record"]["id"]}, admin, "approveTrainingRecord")
    done = await explained(api, org, a["id"])
    assert done["status"] == "COMPLETED"
    path_node, card_node = done["criteria"]["children"]
    assert [e["enrollment"] is not None for e in path_node["evidence"]] == [True, True]
    assert [e["record"]["title"] for e in card_node["evidence"]] == ["new card"]
    assert done["validUntilSetBy"]["enrollment"] is not None
