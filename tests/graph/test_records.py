"""Training records through HTTP with real multipart uploads, end to end."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import timedelta

import pytest

from tests.conftest import MAX_DOCUMENT, START
from tests.helpers import (
    APPROVE,
    PDF,
    PNG,
    assign,
    assignment,
    course,
    cpr_setup,
    credential,
    document_input,
    gid,
    submit,
    take_course,
)

DAY = timedelta(days=1)

DECLINE = """
mutation($record: ID!, $reason: String!) {
  declineTrainingRecord(input: {record: $record, reason: $reason}) {
    record { id status reviewNote } userErrors { field code }
  }
}"""
QUEUE = """
query($status: TrainingRecordStatus, $type: TrainingRecordType, $learner: ID) {
  trainingRecords(status: $status, type: $type, learner: $learner) {
    totalCount edges { node { id title status learner { email } } }
  }
}"""
INBOX = """
query($unread: Boolean!) { me { notifications(unreadOnly: $unread) {
  totalCount edges { node { id kind readAt subject {
    __typename ... on TrainingRecord { id title } ... on CredentialAssignment { id status } } } }
} } }"""
MARK = """
mutation($input: MarkNotificationsReadInput!) {
  markNotificationsRead(input: $input) { marked userErrors { code } }
}"""


async def stored(db) -> tuple[int, int, int]:
    return (
        await db.db.records.count_documents({}),
        await db.db["documents.files"].count_documents({}),
        await db.db["documents.chunks"].count_documents({}),
    )


async def test_the_cpr_credential_end_to_end(api, http, org, clock):
    _bls, cpr, _cred, a = await cpr_setup(api, org)
    learner = org.token(org.learner)
    clock.advance(DAY)
    await take_course(api, learner, cpr, assignment=a["id"])
    task = (await assignment(api, learner, a["id"]))["tasks"][1]
    assert (task["state"], task["action"]) == ("NOT_STARTED", "SUBMIT_RECORD")

    clock.advance(DAY)
    payload = await submit(
        api,
        learner,
        document_input(
            assignment=a["id"], requirement=task["requirement"]["id"], endDate="2027-06-30"
        ),
    )
    assert payload["userErrors"] == []
    record = payload["record"]
    assert record["title"] == "BLS card"
    assert record["label"] == {"name": "BLS"}
    assert record["status"] == "PENDING"
    assert record["requirement"]["title"] == "BLS card"
    assert record["document"]["contentType"] == "application/pdf"
    assert record["document"]["size"] == len(PDF)
    assert record["document"]["sha256"] == hashlib.sha256(PDF).hexdigest()

    waiting = await assignment(api, learner, a["id"])
    assert waiting["tasks"][1]["state"] == "PENDING_APPROVAL"
    assert waiting["tasks"][1]["action"] == "NONE"
    assert waiting["status"] == "IN_PROGRESS"

    admin_inbox = (await api.data(INBOX, {"unread": True}, token=org.token(org.admin)))["me"]
    (note,) = admin_inbox["notifications"]["edges"]
    assert note["node"]["kind"] == "RECORD_SUBMITTED"
    assert note["node"]["subject"]["id"] == record["id"]

    clock.advance(DAY)
    approved = (
        await api.data(
            APPROVE, {"record": record["id"], "note": "Looks good"}, token=org.token(org.admin)
        )
    )["approveTrainingRecord"]
    assert approved["userErrors"] == []
    assert approved["record"]["status"] == "APPROVED"
    assert approved["record"]["reviewedBy"]["email"] == org.admin.email

    done = await assignment(api, learner, a["id"])
    assert done["status"] == "COMPLETED"
    assert done["completedAt"] == clock.now().isoformat()
    # the freshest evidence is the course completion; the card's end date caps validity
    assert done["validFrom"] == (START + DAY).isoformat()
    assert done["validUntil"] == "2027-07-01T00:00:00+00:00"
    assert done["tasks"][1]["state"] == "COMPLETE"

    kinds = [
        e["node"]["kind"]
        for e in (await api.data(INBOX, {"unread": False}, token=learner))["me"]["notifications"][
            "edges"
        ]
    ]
    assert "RECORD_APPROVED" in kinds
    assert "CREDENTIAL_COMPLETED" in kinds
    renewal = [
        e
        for e in (
            await api.data(
                "{ me { credentials { edges { node { cycle previous { id } } } } } }", token=learner
            )
        )["me"]["credentials"]["edges"]
        if e["node"]["cycle"] == 2
    ]
    assert renewal[0]["node"]["previous"]["id"] == a["id"]


async def test_additional_training_completes_a_course_requirement(api, org, clock):
    c = await course(api, org, "Fire Safety")
    cred = await credential(api, org, "Fire", {"course": c})
    (a,) = await assign(api, org, cred["id"], [org.learner])
    task = a["tasks"][0]
    payload = await submit(
        api,
        org.token(org.learner),
        {
            "type": "ADDITIONAL_TRAINING",
            "assignment": a["id"],
            "requirement": task["requirement"]["id"],
            "completedAt": (START - DAY).isoformat(),
            "provider": "County Fire Service",
            "clockHours": 3,
            "lessonStatus": "PASSED",
        },
        content=None,
    )
    assert payload["userErrors"] == []
    assert payload["record"]["title"] == "Fire Safety"
    await api.data(APPROVE, {"record": payload["record"]["id"]}, token=org.token(org.admin))
    done = await assignment(api, org.token(org.learner), a["id"])
    assert done["status"] == "COMPLETED"
    assert done["validFrom"] == (START - DAY).isoformat()


async def test_an_administrator_submits_for_a_learner_approved_at_once(api, db, org):
    bls, _, _, a = await cpr_setup(api, org)
    payload = await submit(
        api,
        org.token(org.admin),
        document_input(learner=gid("User", org.learner.id), label=bls, title="BLS card"),
    )
    record = payload["record"]
    assert record["status"] == "APPROVED"
    assert record["learner"]["email"] == org.learner.email
    assert record["submittedBy"]["email"] == org.admin.email
    assert record["reviewedBy"]["email"] == org.admin.email
    task = (await assignment(api, org.token(org.learner), a["id"]))["tasks"][1]
    assert task["state"] == "COMPLETE"


async def test_concurrent_reviews_have_exactly_one_winner(api, org):
    bls, _, _, _ = await cpr_setup(api, org)
    record = (await submit(api, org.token(org.learner), document_input(label=bls, title="BLS")))[
        "record"
    ]
    token = org.token(org.admin)
    calls = [
        api.data(APPROVE, {"record": record["id"]}, token=token)
        if i % 2
        else api.data(DECLINE, {"record": record["id"], "reason": "blurry"}, token=token)
        for i in range(20)
    ]
    results = await asyncio.gather(*calls)
    payloads = [r.get("approveTrainingRecord") or r.get("declineTrainingRecord") for r in results]
    winners = [p for p in payloads if p["userErrors"] == []]
    losers = [p for p in payloads if p["userErrors"]]
    assert len(winners) == 1
    assert len(losers) == 19
    assert all(p["userErrors"] == [{"field": "record", "code": "ALREADY_REVIEWED"}] for p in losers)
    final = (await api.data(QUEUE, {}, token=token))["trainingRecords"]["edges"][0]["node"]
    assert final["status"] == winners[0]["record"]["status"]


async def test_a_pdf_that_is_not_a_pdf_stores_nothing(api, db, org):
    bls, *_ = await cpr_setup(api, org)
    payload = await submit(
        api,
        org.token(org.learner),
        document_input(label=bls, title="BLS"),
        content=b"<html><script>alert(1)</script></html>",
        name="card.pdf",
    )
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        ("document", "INVALID_DOCUMENT")
    ]
    assert payload["record"] is None
    assert await stored(db) == (0, 0, 0)


async def test_an_oversized_upload_stores_nothing(api, db, org):
    bls, *_ = await cpr_setup(api, org)
    huge = PNG + b"\x00" * MAX_DOCUMENT
    payload = await submit(
        api,
        org.token(org.learner),
        document_input(label=bls, title="BLS"),
        content=huge,
        name="scan.png",
        kind="image/png",
    )
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        ("document", "DOCUMENT_TOO_LARGE")
    ]
    assert await stored(db) == (0, 0, 0)


@pytest.mark.parametrize(
    ("fields", "with_file", "expected"),
    [
        ({"type": "CREDENTIAL_DOCUMENT", "title": "BLS"}, True, ("issueDate", "REQUIRED")),
        (
            {"type": "CREDENTIAL_DOCUMENT", "title": "BLS", "issueDate": "2026-01-01"},
            False,
            ("document", "REQUIRED"),
        ),
        (
            {
                "type": "CREDENTIAL_DOCUMENT",
                "title": "BLS",
                "issueDate": "2026-01-10",
                "endDate": "2026-01-09",
            },
            True,
            ("endDate", "END_BEFORE_ISSUE"),
        ),
        (
            {"type": "CREDENTIAL_DOCUMENT", "title": "BLS", "issueDate": "2026-12-01"},
            True,
            ("issueDate", "FUTURE_DATE"),
        ),
        (
            {
                "type": "ADDITIONAL_TRAINING",
                "title": "First Aid",
                "completedAt": "2026-12-01T00:00:00Z",
            },
            False,
            ("completedAt", "FUTURE_DATE"),
        ),
        ({"type": "ADDITIONAL_TRAINING", "title": "First Aid"}, False, ("completedAt", "REQUIRED")),
        (
            {"type": "ADDITIONAL_TRAINING", "title": " ", "completedAt": "2026-01-01T00:00:00Z"},
            False,
            ("title", "REQUIRED"),
        ),
        (
            {
                "type": "ADDITIONAL_TRAINING",
                "title": "X",
                "completedAt": "2026-01-01T00:00:00Z",
                "label": gid("Label", "0" * 24),
            },
            False,
            ("label", "UNKNOWN_LABEL"),
        ),
    ],
)
async def test_bad_submissions_store_nothing(api, db, org, fields, with_file, expected):
    payload = await submit(api, org.token(org.learner), fields, content=PDF if with_file else None)
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [expected]
    assert await stored(db) == (0, 0, 0)


async def test_retry_with_the_same_idempotency_key_returns_the_first_record(api, db, org):
    bls, *_ = await cpr_setup(api, org)
    fields = document_input(label=bls, title="BLS", idempotencyKey="upload-42")
    first = await submit(api, org.token(org.learner), fields)
    again = await submit(api, org.token(org.learner), fields)
    assert again["record"]["id"] == first["record"]["id"]
    assert await stored(db) == (1, 1, 1)


async def test_learner_rules(api, http, org):
    bls, *_ = await cpr_setup(api, org)
    token = org.token(org.learner)
    record = (await submit(api, token, document_input(label=bls, title="BLS")))["record"]
    body = await api.call(APPROVE, {"record": record["id"]}, token=token)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    for_other = await submit(
        api,
        token,
        document_input(label=bls, title="BLS", learner=gid("User", org.other_learner.id)),
    )
    assert [(e["field"], e["code"]) for e in for_other["userErrors"]] == [(None, "FORBIDDEN")]
    url = record["document"]["url"]
    other = await http.get(url, headers={"Authorization": f"Bearer {org.token(org.other_learner)}"})
    assert other.status_code == 404
    anonymous = await http.get(url)
    assert anonymous.status_code == 401
    seen = (await api.data(QUEUE, {}, token=org.token(org.other_learner)))["trainingRecords"]
    assert seen["totalCount"] == 0
    body = await api.call(
        QUEUE, {"learner": gid("User", org.learner.id)}, token=org.token(org.other_learner)
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_another_organizations_administrator_sees_nothing(api, http, org, foreign_org):
    bls, *_ = await cpr_setup(api, org)
    record = (await submit(api, org.token(org.learner), document_input(label=bls, title="BLS")))[
        "record"
    ]
    stranger = foreign_org.token(foreign_org.admin)
    assert (await api.data(QUEUE, {}, token=stranger))["trainingRecords"]["totalCount"] == 0
    body = await api.call(
        "query($id: ID!) { node(id: $id) { id } }", {"id": record["id"]}, token=stranger
    )
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (
        await http.get(record["document"]["url"], headers={"Authorization": f"Bearer {stranger}"})
    ).status_code == 404
    review = (await api.data(APPROVE, {"record": record["id"]}, token=stranger))[
        "approveTrainingRecord"
    ]
    assert review["userErrors"] == [{"field": "record", "code": "NOT_FOUND"}]


async def test_document_download(api, http, org):
    bls, *_ = await cpr_setup(api, org)
    record = (
        await submit(
            api,
            org.token(org.learner),
            document_input(label=bls, title="BLS"),
            name="Führerschein scan.pdf",
        )
    )["record"]
    url = record["document"]["url"]
    assert url == f"/documents/{record['id']}", "relative: never built from the Host header"
    for token in (org.token(org.learner), org.token(org.admin)):
        response = await http.get(url, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        assert response.content == PDF
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["etag"] == f'"{hashlib.sha256(PDF).hexdigest()}"'
        assert response.headers["x-content-type-options"] == "nosniff"
        assert (
            "filename*=UTF-8''F%C3%BChrerschein%20scan.pdf"
            in response.headers["content-disposition"]
        )
    cached = await http.get(
        url,
        headers={
            "Authorization": f"Bearer {org.token(org.admin)}",
            "If-None-Match": response.headers["etag"],
        },
    )
    assert cached.status_code == 304
    assert cached.content == b""


async def test_resubmitting_a_declined_record_keeps_history(api, org):
    bls, *_ = await cpr_setup(api, org)
    token = org.token(org.learner)
    first = (await submit(api, token, document_input(label=bls, title="BLS")))["record"]
    too_soon = await submit(
        api, token, document_input(label=bls, title="BLS", resubmits=first["id"])
    )
    assert [e["code"] for e in too_soon["userErrors"]] == ["NOT_DECLINED"]
    no_reason = (
        await api.data(DECLINE, {"record": first["id"], "reason": "  "}, token=org.token(org.admin))
    )["declineTrainingRecord"]
    assert no_reason["userErrors"] == [{"field": "reason", "code": "REQUIRED"}]
    declined = (
        await api.data(
            DECLINE,
            {"record": first["id"], "reason": "Card is expired"},
            token=org.token(org.admin),
        )
    )["declineTrainingRecord"]
    assert declined["record"]["reviewNote"] == "Card is expired"
    second = await submit(api, token, document_input(label=bls, title="BLS", resubmits=first["id"]))
    assert second["userErrors"] == []
    assert second["record"]["previous"] == {"id": first["id"], "status": "DECLINED"}
    history = (await api.data(QUEUE, {}, token=token))["trainingRecords"]
    assert [e["node"]["status"] for e in history["edges"]] == ["DECLINED", "PENDING"]


async def test_review_queue_oldest_first_and_filters(api, org, clock):
    bls, *_ = await cpr_setup(api, org)
    for who, title in ((org.learner, "A"), (org.other_learner, "B"), (org.learner, "C")):
        clock.advance(timedelta(minutes=5))
        await submit(api, org.token(who), document_input(label=bls, title=title))
    admin = org.token(org.admin)
    queue = (await api.data(QUEUE, {"status": "PENDING"}, token=admin))["trainingRecords"]
    assert [e["node"]["title"] for e in queue["edges"]] == ["A", "B", "C"]
    mine = (await api.data(QUEUE, {"learner": gid("User", org.learner.id)}, token=admin))[
        "trainingRecords"
    ]
    assert [e["node"]["title"] for e in mine["edges"]] == ["A", "C"]
    none = (await api.data(QUEUE, {"type": "ADDITIONAL_TRAINING"}, token=admin))["trainingRecords"]
    assert none["totalCount"] == 0
    own = await api.data(
        "{ me { trainingRecords { totalCount } } }", token=org.token(org.other_learner)
    )
    assert own["me"]["trainingRecords"]["totalCount"] == 1


async def test_notifications_can_be_marked_read(api, org):
    bls, *_ = await cpr_setup(api, org)
    for title in ("A", "B"):
        await submit(api, org.token(org.learner), document_input(label=bls, title=title))
    admin = org.token(org.admin)
    unread = (await api.data(INBOX, {"unread": True}, token=admin))["me"]["notifications"]
    assert unread["totalCount"] == 2
    first = unread["edges"][0]["node"]["id"]
    marked = (await api.data(MARK, {"input": {"ids": [first]}}, token=admin))[
        "markNotificationsRead"
    ]
    assert marked["marked"] == 1
    assert (await api.data(INBOX, {"unread": True}, token=admin))["me"]["notifications"][
        "totalCount"
    ] == 1
    marked = (await api.data(MARK, {"input": {"all": True}}, token=admin))["markNotificationsRead"]
    assert marked["marked"] == 1
    assert (await api.data(INBOX, {"unread": True}, token=admin))["me"]["notifications"][
        "totalCount"
    ] == 0
    # someone else's notifications stay someone else's
    body = await api.call(
        "query($id: ID!) { node(id: $id) { id } }", {"id": first}, token=org.token(org.learner)
    )
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_huge_upload_is_refused_before_it_is_read(http, db, org):
    huge = PNG + b"\x00" * (MAX_DOCUMENT + 2 * 1024 * 1024)
    response = await http.post(
        "/graphql",
        data={
            "operations": json.dumps(
                {"query": "mutation($f: Upload!) { __typename }", "variables": {"f": None}}
            ),
            "map": '{"0": ["variables.f"]}',
        },
        files={"0": ("scan.png", huge, "image/png")},
        headers={"Authorization": f"Bearer {org.token(org.learner)}"},
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert await stored(db) == (0, 0, 0)


async def test_submitting_for_a_task_starts_the_credential(api, org):
    *_, a = await cpr_setup(api, org)
    learner = org.token(org.learner)
    assert (await assignment(api, learner, a["id"]))["status"] == "NOT_STARTED"
    task = (await assignment(api, learner, a["id"]))["tasks"][1]
    payload = await submit(
        api, learner, document_input(assignment=a["id"], requirement=task["requirement"]["id"])
    )
    assert payload["userErrors"] == []
    assert (await assignment(api, learner, a["id"]))["status"] == "IN_PROGRESS"
