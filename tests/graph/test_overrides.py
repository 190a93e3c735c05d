"""Overrides: certifying an open cycle, revoking an earned one (its open renewal withdrawn with
it), revoking a record's approval (completion derived again without it), and unassigning an
open cycle — each shown at any `asOf`, in lists and in `complianceSummary`."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tests.helpers import (
    REVOKE_RECORD,
    assign,
    course,
    credential,
    document_input,
    follow,
    gid,
    label,
    licensed,
    log,
    ok,
    submit,
    take_course,
    ward,
)

CYCLE = """
fragment Cycle on CredentialAssignment {
  id cycle status completedAt validFrom validUntil previous { id }
  certification { at completedAt reason by { email } }
  revocation { at reason by { email } trainingRecord { id } }
  withdrawal { at reason revoked by { email } }
}"""
CERTIFY = (
    """
mutation($input: CertifyAssignmentInput!) {
  certifyAssignment(input: $input) { assignment { ...Cycle } userErrors { field code } }
}"""
    + CYCLE
)
REVOKE = (
    """
mutation($input: RevokeAssignmentInput!) {
  revokeAssignment(input: $input) { assignment { ...Cycle } userErrors { field code } }
}"""
    + CYCLE
)
UNASSIGN = (
    """
mutation($input: UnassignCredentialInput!) {
  unassignCredential(input: $input) { assignment { ...Cycle } userErrors { field code } }
}"""
    + CYCLE
)
NODE = (
    """
query($id: ID!, $asOf: DateTime) { node(id: $id) { ... on CredentialAssignment {
  ...Cycle asOf: status(asOf: $asOf) expiresIn { seconds }
} } }"""
    + CYCLE
)
MINE = (
    """
query($current: Boolean) { me { credentials(current: $current) {
  totalCount edges { node { ...Cycle } }
} } }"""
    + CYCLE
)
SUMMARY = """query($asOf: DateTime) {
  complianceSummary(asOf: $asOf) { total notStarted completed revoked }
}"""
INBOX = "{ me { notifications { edges { node { kind } } } } }"
GET_COURSE = """
mutation($input: GetCourseInput!) { getCourse(input: $input) { userErrors { field code } } }"""


def codes(payload: dict) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


async def node(api, org, cycle_id: str, as_of=None) -> dict:
    found = await api.data(NODE, {"id": cycle_id, "asOf": as_of}, token=org.token(org.admin))
    return found["node"]


async def summary(api, org, as_of=None) -> dict:
    found = await api.data(SUMMARY, {"asOf": as_of}, token=org.token(org.admin))
    return found["complianceSummary"]


async def kinds(api, org) -> list[str]:
    edges = (await api.data(INBOX, token=org.token(org.learner)))["me"]["notifications"]["edges"]
    return [edge["node"]["kind"] for edge in edges]


async def renewing(api, org, name: str = "ACLS") -> tuple[str, dict]:
    """A course, and a credential of it valid two years and renewed on completion."""
    c = await course(api, org, f"{name} course")
    made = await credential(api, org, name, {"course": c}, reassignOnCompletion=True)
    return c, made


async def test_certifying_completes_an_open_cycle_as_of_the_date_attested(api, org, clock):
    _, cred = await renewing(api, org)
    start = clock.now() - timedelta(days=60)
    (a,) = await assign(api, org, cred["id"], [org.learner], startDate=start.isoformat())
    attested = clock.now() - timedelta(days=30)
    made = await ok(
        api, CERTIFY, {"input": {"assignment": a["id"], "completedAt": attested.isoformat(),
                                 "reason": "Paper certificate no. 118"}},
        org.token(org.admin), "certifyAssignment",
    )  # fmt: skip
    cycle = made["assignment"]
    assert cycle["status"] == "COMPLETED"
    assert (cycle["completedAt"], cycle["validFrom"]) == (attested.isoformat(),) * 2
    assert cycle["validUntil"] == attested.replace(year=attested.year + 2).isoformat()
    assert cycle["certification"] == {
        "at": clock.now().isoformat(), "completedAt": attested.isoformat(),
        "reason": "Paper certificate no. 118", "by": {"email": org.admin.email},
    }  # fmt: skip
    before = (attested - timedelta(seconds=1)).isoformat()
    assert (await node(api, org, a["id"], before))["asOf"] == "NOT_STARTED"
    mine = (await api.data(MINE, {"current": False}, token=org.token(org.learner)))["me"]
    assert [e["node"]["cycle"] for e in mine["credentials"]["edges"]] == [1, 2]  # renewal opened
    assert "CREDENTIAL_CERTIFIED" in await kinds(api, org)
    again = await api.data(
        CERTIFY, {"input": {"assignment": a["id"], "completedAt": attested.isoformat(),
                            "reason": "twice"}}, token=org.token(org.admin),
    )  # fmt: skip
    assert codes(again["certifyAssignment"]) == [("assignment", "ALREADY_COMPLETED")]


async def test_a_certified_cycle_completes_no_earlier_than_its_start(api, org, clock):
    _, cred = await renewing(api, org)
    (a,) = await assign(api, org, cred["id"], [org.learner])  # starting now
    attested = clock.now() - timedelta(days=100)  # in the window: still fresh at the start
    made = await ok(
        api, CERTIFY, {"input": {"assignment": a["id"], "completedAt": attested.isoformat(),
                                 "reason": "Migrated from the old LMS"}},
        org.token(org.admin), "certifyAssignment",
    )  # fmt: skip
    cycle = made["assignment"]
    assert (cycle["completedAt"], cycle["validFrom"]) == (
        clock.now().isoformat(),
        attested.isoformat(),
    )


async def test_better_evidence_extends_a_certified_cycle(api, org, clock):
    c, cred = await renewing(api, org)
    (a,) = await assign(api, org, cred["id"], [org.learner])
    attested = clock.now() - timedelta(days=200)
    certified = await ok(
        api, CERTIFY, {"input": {"assignment": a["id"], "completedAt": attested.isoformat(),
                                 "reason": "Paper certificate"}},
        org.token(org.admin), "certifyAssignment",
    )  # fmt: skip
    clock.advance(timedelta(days=1))
    await take_course(api, org.token(org.learner), c, assignment=a["id"])
    cycle = await node(api, org, a["id"])
    assert cycle["completedAt"] == certified["assignment"]["completedAt"]  # it does not move
    assert cycle["validFrom"] == clock.now().isoformat()
    assert cycle["validUntil"] > certified["assignment"]["validUntil"]


async def test_bad_certifications_are_refused_with_codes(api, db, org, clock):
    _, _, maya_token = await ward(api, db, org)
    month = {"amount": 1, "unit": "MONTH"}
    c = await course(api, org, "Fire safety")
    cred = await credential(api, org, "Fire safety", {"course": c}, validFor=month)
    started = clock.now() - timedelta(days=100)
    (a,) = await assign(api, org, cred["id"], [org.learner], startDate=started.isoformat())
    admin = org.token(org.admin)
    days = lambda n: (clock.now() - timedelta(days=n)).isoformat()  # noqa: E731
    cases = [
        ({"completedAt": days(1), "reason": " "}, ("reason", "REQUIRED")),
        ({"completedAt": days(-1), "reason": "x"}, ("completedAt", "FUTURE_DATE")),
        ({"completedAt": days(200), "reason": "x"}, ("completedAt", "OUT_OF_RANGE")),  # too old
        ({"completedAt": days(60), "reason": "x"}, ("completedAt", "OUT_OF_RANGE")),  # lapsed
        ({"completedAt": "2026-01-01T00:00:00", "reason": "x"}, ("completedAt", "INVALID_DATE")),
    ]
    for fields, error in cases:
        made = await api.data(CERTIFY, {"input": {"assignment": a["id"], **fields}}, token=admin)
        assert codes(made["certifyAssignment"]) == [error], fields
    wrong = await api.data(
        CERTIFY, {"input": {"assignment": gid("User", org.learner.id), "completedAt": days(1),
                            "reason": "x"}}, token=admin,
    )  # fmt: skip
    assert codes(wrong["certifyAssignment"]) == [("assignment", "INVALID_ID")]
    for token in (maya_token, org.token(org.learner)):  # administrators only
        body = await api.call(
            CERTIFY, {"input": {"assignment": a["id"], "completedAt": days(1), "reason": "x"}},
            token=token,
        )  # fmt: skip
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert (await node(api, org, a["id"]))["status"] == "OVERDUE"


async def test_revoking_an_earned_cycle_withdraws_its_open_renewal(api, org, clock):
    c, cred = await renewing(api, org)
    (a,) = await assign(api, org, cred["id"], [org.learner])
    await take_course(api, org.token(org.learner), c, assignment=a["id"])
    earned = await node(api, org, a["id"])
    clock.advance(timedelta(days=10))
    revoked = await ok(
        api, REVOKE, {"input": {"assignment": a["id"], "reason": "Certificate forged"}},
        org.token(org.admin), "revokeAssignment",
    )  # fmt: skip
    cycle = revoked["assignment"]
    assert cycle["status"] == "REVOKED"
    assert cycle["revocation"] == {
        "at": clock.now().isoformat(), "reason": "Certificate forged",
        "by": {"email": org.admin.email}, "trainingRecord": None,
    }  # fmt: skip
    assert cycle["completedAt"] == earned["completedAt"]  # what it was stays on record
    before = (clock.now() - timedelta(days=1)).isoformat()
    assert (await node(api, org, a["id"], before))["asOf"] == "COMPLETED"
    assert (await node(api, org, a["id"]))["expiresIn"] is None
    mine = (await api.data(MINE, {"current": False}, token=org.token(org.learner)))["me"]
    assert [e["node"]["cycle"] for e in mine["credentials"]["edges"]] == [1]  # renewal left
    renewal = await api.data(
        "{ assignments(status: WITHDRAWN) { edges { node { id cycle status "
        "withdrawal { revoked reason } } } } }", token=org.token(org.admin),
    )  # fmt: skip
    (withdrawn,) = [e["node"] for e in renewal["assignments"]["edges"]]
    assert withdrawn["cycle"] == 2
    assert withdrawn["withdrawal"] == {"revoked": True, "reason": "Certificate forged"}
    current = (await api.data(MINE, {"current": True}, token=org.token(org.learner)))["me"]
    assert [e["node"]["status"] for e in current["credentials"]["edges"]] == ["REVOKED"]
    assert await summary(api, org) == {"total": 1, "notStarted": 0, "completed": 0, "revoked": 1}
    assert (await summary(api, org, before))["completed"] == 1
    assert "CREDENTIAL_REVOKED" in await kinds(api, org)
    again = await api.data(REVOKE, {"input": {"assignment": a["id"], "reason": "x"}},
                           token=org.token(org.admin))  # fmt: skip
    assert codes(again["revokeAssignment"]) == [("assignment", "ALREADY_REVOKED")]

    (fresh,) = await assign(api, org, cred["id"], [org.learner])  # a new cycle
    assert (fresh["cycle"], fresh["status"]) == (3, "NOT_STARTED")  # old evidence: not again
    assert fresh["previous"]["id"] == withdrawn["id"]
    assert await summary(api, org) == {"total": 1, "notStarted": 1, "completed": 0, "revoked": 0}


async def test_only_a_completed_cycle_is_revoked(api, org, clock):
    _, cred = await renewing(api, org)
    (a,) = await assign(api, org, cred["id"], [org.learner])
    made = await api.data(REVOKE, {"input": {"assignment": a["id"], "reason": "x"}},
                          token=org.token(org.admin))  # fmt: skip
    assert codes(made["revokeAssignment"]) == [("assignment", "NOT_COMPLETED")]
    assert (await node(api, org, a["id"]))["revocation"] is None


async def test_racing_decisions_about_one_cycle_never_both_apply(api, org, clock):
    c, cred = await renewing(api, org)
    learners = [org.learner, org.other_learner]
    first, second = await assign(api, org, cred["id"], learners)
    await take_course(api, org.token(org.learner), c, assignment=first["id"])
    admin = org.token(org.admin)
    revokes = await asyncio.gather(*(
        api.data(REVOKE, {"input": {"assignment": first["id"], "reason": f"r{i}"}}, token=admin)
        for i in range(4)
    ))  # fmt: skip
    outcomes = sorted(str(codes(r["revokeAssignment"])) for r in revokes)
    assert outcomes.count("[]") == 1, outcomes
    attested = (clock.now() - timedelta(days=1)).isoformat()
    decisions = await asyncio.gather(
        *(api.data(CERTIFY, {"input": {"assignment": second["id"], "completedAt": attested,
                                       "reason": f"c{i}"}}, token=admin)
          for i in range(2)),
        *(api.data(UNASSIGN, {"input": {"assignment": second["id"], "reason": f"u{i}"}},
                   token=admin)
          for i in range(2)),
    )  # fmt: skip
    applied = [d for d in decisions if not next(iter(d.values()))["userErrors"]]
    assert len(applied) == 1, decisions
    cycle = await node(api, org, second["id"])
    assert (cycle["certification"] is None) != (cycle["withdrawal"] is None)


async def test_unassigning_takes_an_open_cycle_out_of_lists_and_counts(api, org, clock):
    c, cred = await renewing(api, org)
    (a,) = await assign(api, org, cred["id"], [org.learner])
    clock.advance(timedelta(days=3))
    admin = org.token(org.admin)
    made = await ok(api, UNASSIGN, {"input": {"assignment": a["id"], "reason": "Changed role"}},
                    admin, "unassignCredential")  # fmt: skip
    cycle = made["assignment"]
    assert cycle["status"] == "WITHDRAWN"
    assert cycle["withdrawal"] == {"at": clock.now().isoformat(), "reason": "Changed role",
                                   "revoked": False, "by": {"email": org.admin.email}}  # fmt: skip
    mine = (await api.data(MINE, {"current": False}, token=org.token(org.learner)))["me"]
    assert mine["credentials"]["totalCount"] == 0
    listed = await api.data("{ assignments { totalCount } }", token=admin)
    assert listed["assignments"]["totalCount"] == 0
    assert (await summary(api, org))["total"] == 0
    before = (clock.now() - timedelta(days=1)).isoformat()
    assert (await summary(api, org, before))["notStarted"] == 1  # history stays
    assert (await node(api, org, a["id"], before))["asOf"] == "NOT_STARTED"
    assert "CREDENTIAL_UNASSIGNED" in await kinds(api, org)
    got = await api.data(GET_COURSE, {"input": {"course": c, "assignment": a["id"]}},
                         token=org.token(org.learner))  # fmt: skip
    assert codes(got["getCourse"]) == [("assignment", "WITHDRAWN")]
    again = await api.data(UNASSIGN, {"input": {"assignment": a["id"], "reason": "x"}},
                           token=admin)  # fmt: skip
    assert codes(again["unassignCredential"]) == [("assignment", "WITHDRAWN")]

    (fresh,) = await assign(api, org, cred["id"], [org.learner])
    assert (fresh["cycle"], fresh["previous"]["id"]) == (2, a["id"])
    assert (await summary(api, org))["total"] == 1
    await take_course(api, org.token(org.learner), c, assignment=fresh["id"])
    refused = await api.data(UNASSIGN, {"input": {"assignment": fresh["id"], "reason": "x"}},
                             token=admin)  # fmt: skip
    assert codes(refused["unassignCredential"]) == [("assignment", "ALREADY_COMPLETED")]


async def test_revoking_the_record_a_completion_rests_on_revokes_the_cycle(api, db, org, clock):
    _, _, maya_token = await ward(api, db, org)
    cycle_id, _, (record,) = await licensed(api, org, "2026-02-01")
    earned = await node(api, org, cycle_id)
    assert earned["status"] == "COMPLETED"
    clock.advance(timedelta(days=2))
    made = await ok(api, REVOKE_RECORD, {"input": {"record": record, "reason": "Forged card"}},
                    maya_token, "revokeTrainingRecord")  # fmt: skip
    assert made["record"] == {
        "id": record, "status": "REVOKED", "revokedAt": clock.now().isoformat(),
        "revocationReason": "Forged card", "revokedBy": {"email": "maya@acmehealth.test"},
    }  # fmt: skip
    cycle = await node(api, org, cycle_id)
    assert cycle["status"] == "REVOKED"
    assert cycle["revocation"]["trainingRecord"] == {"id": record}
    assert cycle["revocation"]["at"] == clock.now().isoformat()
    assert cycle["completedAt"] == earned["completedAt"]
    before = (clock.now() - timedelta(days=1)).isoformat()
    assert (await node(api, org, cycle_id, before))["asOf"] == "COMPLETED"
    assert {"RECORD_REVOKED", "CREDENTIAL_REVOKED"} <= set(await kinds(api, org))
    again = await api.data(REVOKE_RECORD, {"input": {"record": record, "reason": "x"}},
                           token=org.token(org.admin))  # fmt: skip
    assert codes(again["revokeTrainingRecord"]) == [("record", "ALREADY_REVOKED")]


async def test_a_completion_other_evidence_still_satisfies_stays(api, org, clock):
    cycle_id, _, (_, newer) = await licensed(api, org, "2026-01-10", "2026-02-01")
    earned = await node(api, org, cycle_id)
    assert earned["validFrom"].startswith("2026-02-01")
    await ok(api, REVOKE_RECORD, {"input": {"record": newer, "reason": "Wrong person"}},
             org.token(org.admin), "revokeTrainingRecord")  # fmt: skip
    cycle = await node(api, org, cycle_id)
    assert (cycle["status"], cycle["revocation"]) == ("COMPLETED", None)
    assert cycle["completedAt"] == earned["completedAt"]
    assert cycle["validFrom"].startswith("2026-01-10")  # validity follows what remains
    assert cycle["validUntil"] < earned["validUntil"]
    told, _ = await follow(api, org.token(org.admin))
    changed = [e for e in told if e["kind"] == "CREDENTIAL_VALIDITY_CHANGED"]
    # the newer licence lengthened the validity, and its revocation shortened it again
    assert [(e["subjectId"], e["data"]["validUntil"]) for e in changed] == [
        (cycle_id, earned["validUntil"]),
        (cycle_id, cycle["validUntil"]),
    ]


async def test_who_may_revoke_a_record(api, db, org, clock):
    _, _, maya_token = await ward(api, db, org)
    bls = await label(api, org, "BLS")
    pending = await submit(api, org.token(org.learner), document_input(label=bls, title="BLS"))
    theirs = await submit(
        api, org.token(org.admin),
        document_input(label=bls, title="BLS", learner=gid("User", org.other_learner.id)),
    )  # fmt: skip
    cases = [
        (maya_token, pending["record"]["id"], ("record", "NOT_APPROVED")),
        (maya_token, theirs["record"]["id"], ("record", "NOT_FOUND")),  # not her member
        (org.token(org.admin), pending["record"]["id"], ("record", "NOT_APPROVED")),
        (org.token(org.admin), gid("User", org.learner.id), ("record", "INVALID_ID")),
    ]
    for token, record, error in cases:
        made = await api.data(REVOKE_RECORD, {"input": {"record": record, "reason": "x"}},
                              token=token)  # fmt: skip
        assert codes(made["revokeTrainingRecord"]) == [error]
    blank = await api.data(
        REVOKE_RECORD, {"input": {"record": theirs["record"]["id"], "reason": ""}},
        token=org.token(org.admin),
    )  # fmt: skip
    assert codes(blank["revokeTrainingRecord"]) == [("reason", "REQUIRED")]
    body = await api.call(REVOKE_RECORD, {"input": {"record": pending["record"]["id"],
                                                    "reason": "x"}},
                          token=org.token(org.learner))  # fmt: skip
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]


async def test_overrides_are_audited_and_told_in_the_feed(api, org, clock):
    admin = org.token(org.admin)
    c, cred = await renewing(api, org)
    (a,) = await assign(api, org, cred["id"], [org.learner])
    await take_course(api, org.token(org.learner), c, assignment=a["id"])
    _, cursor = await follow(api, admin)
    clock.advance(timedelta(days=10))
    await ok(api, REVOKE, {"input": {"assignment": a["id"], "reason": "Certificate forged"}},
             admin, "revokeAssignment")  # fmt: skip
    revoked, assigned = await log(api, admin, subject=a["id"])
    assert assigned["action"] == "ASSIGN_CREDENTIAL"
    assert (revoked["action"], revoked["reason"]) == ("REVOKE_ASSIGNMENT", "Certificate forged")
    assert revoked["changes"] == [
        {"field": "revokedAt", "before": None, "after": clock.now().isoformat()}
    ]
    told, _ = await follow(api, admin, after=cursor)
    assert [(e["kind"], e["data"].get("cycle"), e["data"].get("revoked")) for e in told] == [
        ("CREDENTIAL_REVOKED", 1, None), ("CREDENTIAL_UNASSIGNED", 2, True)
    ]  # fmt: skip
