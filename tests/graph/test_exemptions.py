"""Exemptions: a cycle excused shows EXEMPT (counted apart) while an exemption covers the
moment asked, unless it is completed and valid then; removing one ends it, keeping its record."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from graph import ids
from tests.helpers import EXEMPT, REMOVE, assign, course, credential, gid, ok, take_course, ward

STATUS = """
query($id: ID!, $asOf: DateTime) { node(id: $id) { ... on CredentialAssignment {
  status(asOf: $asOf)
} } }"""
SUMMARY = "query($asOf: DateTime) { complianceSummary(asOf: $asOf) { total overdue exempt } }"


def codes(payload: dict) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


async def overdue_cycle(api, org, clock, learner=None) -> tuple[dict, str]:
    c = await course(api, org, f"Course {learner.name if learner else ''}")
    cred = await credential(api, org, f"Credential {learner.name if learner else ''}",
                            {"course": c})  # fmt: skip
    start = (clock.now() - timedelta(days=100)).isoformat()
    due = (clock.now() - timedelta(days=10)).isoformat()
    (a,) = await assign(api, org, cred["id"], [learner or org.learner], startDate=start,
                        dueDate=due)  # fmt: skip
    return a, c


async def status(api, org, a, as_of=None) -> str:
    found = await api.data(STATUS, {"id": a["id"], "asOf": as_of}, token=org.token(org.admin))
    return found["node"]["status"]


async def test_an_exempt_cycle_is_counted_apart_until_its_exemption_ends(api, org, clock):
    a, _ = await overdue_cycle(api, org, clock)
    admin = org.token(org.admin)
    before = (await api.data(SUMMARY, {"asOf": None}, token=admin))["complianceSummary"]
    assert (before["overdue"], before["exempt"]) == (1, 0)
    until = (clock.now() + timedelta(days=30)).isoformat()
    made = await ok(
        api, EXEMPT, {"input": {"assignment": a["id"], "reason": "Parental leave",
                                "until": until}}, admin, "exemptAssignment",
    )  # fmt: skip
    assert made["assignment"]["status"] == "EXEMPT"
    (exemption,) = made["assignment"]["exemptions"]
    assert exemption == {"since": clock.now().isoformat(), "until": until,
                         "reason": "Parental leave", "endedReason": None,
                         "by": {"email": org.admin.email}}  # fmt: skip
    now = (await api.data(SUMMARY, {"asOf": None}, token=admin))["complianceSummary"]
    assert (now["total"], now["overdue"], now["exempt"]) == (1, 0, 1)
    assert await status(api, org, a, (clock.now() - timedelta(seconds=1)).isoformat()) == "OVERDUE"
    assert await status(api, org, a, until) == "OVERDUE"  # it ends by itself
    listed = await api.data("{ assignments(status: EXEMPT) { totalCount } }", token=admin)
    assert listed["assignments"]["totalCount"] == 1
    again = await api.data(EXEMPT, {"input": {"assignment": a["id"], "reason": "x"}}, token=admin)
    assert codes(again["exemptAssignment"]) == [("assignment", "ALREADY_EXEMPT")]


async def test_removing_an_exemption_ends_it_now_and_keeps_its_record(api, org, clock):
    a, _ = await overdue_cycle(api, org, clock)
    admin = org.token(org.admin)
    exempted_at = clock.now()
    await ok(api, EXEMPT, {"input": {"assignment": a["id"], "reason": "Leave"}}, admin,
             "exemptAssignment")  # fmt: skip
    clock.advance(timedelta(days=3))
    removed = await ok(api, REMOVE, {"input": {"assignment": a["id"], "reason": "Back"}}, admin,
                       "removeExemption")  # fmt: skip
    assert removed["assignment"]["status"] == "OVERDUE"
    (exemption,) = removed["assignment"]["exemptions"]
    assert exemption["until"] == clock.now().isoformat()
    assert exemption["endedReason"] == "Back"
    during = (exempted_at + timedelta(days=1)).isoformat()
    assert await status(api, org, a, during) == "EXEMPT"  # asOf still sees it
    again = await api.data(REMOVE, {"input": {"assignment": a["id"], "reason": "x"}}, token=admin)
    assert codes(again["removeExemption"]) == [("assignment", "NOT_EXEMPT")]


async def test_a_completed_cycle_shows_completed_while_exempt(api, org, clock):
    a, c = await overdue_cycle(api, org, clock)
    await ok(api, EXEMPT, {"input": {"assignment": a["id"], "reason": "Leave"}},
             org.token(org.admin), "exemptAssignment")  # fmt: skip
    await take_course(api, org.token(org.learner), c, assignment=a["id"])
    assert await status(api, org, a) == "COMPLETED"
    later = (clock.now() + timedelta(days=800)).isoformat()  # lapsed: excused again
    assert await status(api, org, a, later) == "EXEMPT"


async def test_managers_exempt_their_members_only_and_learners_not_at_all(api, db, org, clock):
    _, _, maya = await ward(api, db, org)
    mine, _ = await overdue_cycle(api, org, clock, org.learner)
    theirs, _ = await overdue_cycle(api, org, clock, org.other_learner)
    done = await ok(api, EXEMPT, {"input": {"assignment": mine["id"], "reason": "Leave"}}, maya,
                    "exemptAssignment")  # fmt: skip
    assert done["assignment"]["status"] == "EXEMPT"
    refused = await api.data(EXEMPT, {"input": {"assignment": theirs["id"], "reason": "x"}},
                             token=maya)  # fmt: skip
    assert codes(refused["exemptAssignment"]) == [("assignment", "NOT_FOUND")]
    body = await api.call(EXEMPT, {"input": {"assignment": mine["id"], "reason": "x"}},
                          token=org.token(org.learner))  # fmt: skip
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]


async def test_bad_exemptions_are_refused_with_codes(api, org, clock):
    a, _ = await overdue_cycle(api, org, clock)
    admin = org.token(org.admin)
    past = (clock.now() - timedelta(days=1)).isoformat()
    cases = [
        ({"assignment": a["id"], "reason": " "}, ("reason", "REQUIRED")),
        ({"assignment": a["id"], "reason": "x" * 2001}, ("reason", "TOO_LONG")),
        ({"assignment": a["id"], "reason": "x", "until": past}, ("until", "OUT_OF_RANGE")),
        ({"assignment": gid("CredentialAssignment", "0" * 24), "reason": "x"},
         ("assignment", "NOT_FOUND")),
        ({"assignment": gid("User", org.learner.id), "reason": "x"}, ("assignment", "INVALID_ID")),
    ]  # fmt: skip
    for fields, error in cases:
        made = (await api.data(EXEMPT, {"input": fields}, token=admin))["exemptAssignment"]
        assert made["assignment"] is None
        assert codes(made) == [error]
    assert await status(api, org, a) == "OVERDUE"


async def test_two_exemptions_at_once_make_one(api, org, clock):
    a, _ = await overdue_cycle(api, org, clock)
    admin = org.token(org.admin)
    made = await asyncio.gather(*(
        api.data(EXEMPT, {"input": {"assignment": a["id"], "reason": f"r{i}"}}, token=admin)
        for i in range(4)
    ))  # fmt: skip
    outcomes = sorted(str(codes(m["exemptAssignment"])) for m in made)
    assert outcomes.count("[]") == 1, outcomes
    found = await api.data(
        "query($id: ID!) { node(id: $id) { ... on CredentialAssignment "
        "{ exemptions { reason } } } }",
        {"id": a["id"]}, token=admin,
    )  # fmt: skip
    assert len(found["node"]["exemptions"]) == 1


async def test_an_exemption_racing_a_later_one_is_refused(api, db, org, clock):
    """Two requests a moment apart: the later one, stored first, blocks the earlier."""
    from resolvers import exemptions
    from resolvers.auth import Caller

    a, _ = await overdue_cycle(api, org, clock)
    _, db_id = ids.decode(a["id"])
    stored = await exemptions.exempt_assignment(
        db, Caller.person(org.admin), db_id, reason="first", until=None,
        now=clock.now() + timedelta(milliseconds=1),
    )  # fmt: skip
    assert len(stored.exemptions) == 1
    late = await api.data(EXEMPT, {"input": {"assignment": a["id"], "reason": "second"}},
                          token=org.token(org.admin))  # fmt: skip
    assert codes(late["exemptAssignment"]) == [("assignment", "ALREADY_EXEMPT")]
