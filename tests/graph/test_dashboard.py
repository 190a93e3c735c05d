"""Dashboard queries: compliance counts and the organization-wide assignment list."""

from __future__ import annotations

import base64
import json
from collections import Counter
from datetime import timedelta

from resolvers import demo, tokens
from tests.conftest import START
from tests.helpers import assign, course, credential, gid

SUMMARY = """
query($credential: ID, $asOf: DateTime, $within: PeriodInput) {
  complianceSummary(credential: $credential, asOf: $asOf, expiringWithin: $within) {
    asOf total notYetAvailable notStarted inProgress completed overdue expired
    byStatus { status count }
    expiringWithin { iso8601 } expiringSoon dueSoon pendingRecords
  }
}"""
ASSIGNMENTS = """
query($credential: ID, $status: CredentialStatus, $asOf: DateTime, $dueBefore: DateTime,
      $expiringBefore: DateTime, $orderBy: AssignmentOrder, $first: Int, $after: String) {
  assignments(credential: $credential, status: $status, asOf: $asOf, dueBefore: $dueBefore,
              expiringBefore: $expiringBefore, orderBy: $orderBy, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id status dueDate startDate validUntil learner { name }
                          credential { name } } }
  }
}"""
EVERYTHING = "{ assignments(first: 100) { edges { node { id status dueDate validUntil } } } }"


async def demo_admin(db, clock, settings):
    loaded = await demo.load(db, now=clock.now(), crowd=0)
    return tokens.issue(
        loaded.admin, secret=settings.secret, ttl=settings.token_ttl, now=clock.now()
    )


async def test_summary_counts_match_each_assignments_status(api, db, clock, settings):
    token = await demo_admin(db, clock, settings)
    every = [e["node"] for e in (await api.data(EVERYTHING, token=token))["assignments"]["edges"]]
    expected = Counter(n["status"] for n in every)
    summary = (await api.data(SUMMARY, {}, token=token))["complianceSummary"]
    assert summary["total"] == len(every) == 10
    assert {row["status"]: row["count"] for row in summary["byStatus"]} == {
        s: expected.get(s, 0)
        for s in (
            "NOT_YET_AVAILABLE",
            "NOT_STARTED",
            "IN_PROGRESS",
            "COMPLETED",
            "OVERDUE",
            "EXPIRED",
            "EXEMPT",
            "REVOKED",
        )
    }
    assert summary["overdue"] == expected["OVERDUE"] >= 1
    assert summary["expired"] == expected["EXPIRED"] >= 1
    assert summary["expiringWithin"]["iso8601"] == "P30D"
    assert summary["pendingRecords"] == 0


async def test_summary_at_another_moment(api, db, clock, settings):
    token = await demo_admin(db, clock, settings)
    later = (START + timedelta(days=400)).isoformat()
    summary = (await api.data(SUMMARY, {"asOf": later}, token=token))["complianceSummary"]
    assert summary["asOf"] == later
    assert summary["notYetAvailable"] == 0
    assert summary["completed"] == 0  # Maria's one-year validity has lapsed by then
    assert summary["expired"] == 2


async def test_expiring_and_due_soon(api, db, clock, settings):
    token = await demo_admin(db, clock, settings)
    soon = (await api.data(SUMMARY, {"within": {"amount": 1, "unit": "YEAR"}}, token=token))[
        "complianceSummary"
    ]
    assert soon["expiringSoon"] == 1  # Maria completed 10 days ago with 1 year validity
    assert soon["dueSoon"] == soon["notStarted"] + soon["inProgress"]
    short = (await api.data(SUMMARY, {"within": {"amount": 1, "unit": "DAY"}}, token=token))[
        "complianceSummary"
    ]
    assert short["expiringSoon"] == 0
    assert short["dueSoon"] == 0


async def test_organization_assignments_filter_sort_and_page(api, db, clock, settings):
    token = await demo_admin(db, clock, settings)
    seen, after = [], None
    while True:
        page = (await api.data(ASSIGNMENTS, {"first": 3, "after": after}, token=token))[
            "assignments"
        ]
        seen += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == page["totalCount"] == 10
    assert len({n["id"] for n in seen}) == 10
    assert [n["dueDate"] for n in seen] == sorted(n["dueDate"] for n in seen)

    descending = (
        await api.data(
            ASSIGNMENTS, {"orderBy": {"field": "START_DATE", "descending": True}}, token=token
        )
    )["assignments"]["edges"]
    starts = [e["node"]["startDate"] for e in descending]
    assert starts == sorted(starts, reverse=True)

    overdue = (await api.data(ASSIGNMENTS, {"status": "OVERDUE"}, token=token))["assignments"]
    assert {e["node"]["learner"]["name"] for e in overdue["edges"]} == {"Tom Becker"}

    horizon = (clock.now() + timedelta(days=400)).isoformat()
    expiring = (
        await api.data(
            ASSIGNMENTS,
            {"expiringBefore": horizon, "orderBy": {"field": "VALID_UNTIL"}},
            token=token,
        )
    )["assignments"]
    assert [e["node"]["learner"]["name"] for e in expiring["edges"]] == ["Maria Santos"]

    due = (
        await api.data(
            ASSIGNMENTS, {"dueBefore": (clock.now() + timedelta(days=75)).isoformat()}, token=token
        )
    )["assignments"]
    assert all(
        e["node"]["status"] in ("NOT_STARTED", "IN_PROGRESS", "OVERDUE") for e in due["edges"]
    )
    assert due["totalCount"] >= 1


async def test_credential_stats_and_scoped_summary(api, db, clock, settings):
    token = await demo_admin(db, clock, settings)
    creds = (
        await api.data(
            "{ credentials { edges { node { id name stats { total completed overdue } } } } }",
            token=token,
        )
    )["credentials"]["edges"]
    by_name = {e["node"]["name"]: e["node"] for e in creds}
    cpr = by_name["CPR Certification"]
    assert cpr["stats"]["total"] == 4
    scoped = (await api.data(SUMMARY, {"credential": cpr["id"]}, token=token))["complianceSummary"]
    assert scoped["total"] == 4
    assert by_name["Infection Prevention"]["stats"]["total"] == 6


async def test_dashboards_are_for_administrators(api, org):
    for document in (SUMMARY, ASSIGNMENTS):
        body = await api.call(document, {}, token=org.token(org.learner))
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def pages_of(api, token, variables, size=3) -> tuple[list[dict], int]:
    """Every node of the list, page by page."""
    seen, after = [], None
    while True:
        page = (
            await api.data(ASSIGNMENTS, {**variables, "first": size, "after": after}, token=token)
        )["assignments"]
        seen += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen, page["totalCount"]
        after = page["pageInfo"]["endCursor"]


async def test_every_order_lists_the_same_cycles(api, db, clock, settings):
    """An order changes where a cycle is, never whether it is there: cycles without a
    validUntil come after those with one, and first when descending."""
    token = await demo_admin(db, clock, settings)
    everyone, total = await pages_of(api, token, {})
    assert total == len(everyone) == 10
    for field in ("DUE_DATE", "START_DATE", "ASSIGNED_AT", "VALID_UNTIL"):
        for descending in (False, True):
            order = {"orderBy": {"field": field, "descending": descending}}
            listed, count = await pages_of(api, token, order)
            assert count == 10
            assert sorted(n["id"] for n in listed) == sorted(n["id"] for n in everyone)
    rising, _ = await pages_of(api, token, {"orderBy": {"field": "VALID_UNTIL"}})
    lacking = [n["validUntil"] is None for n in rising]
    assert lacking == sorted(lacking), "the cycles without one come last"
    assert True in lacking
    assert False in lacking
    dated = [n["validUntil"] for n in rising if n["validUntil"]]
    assert dated == sorted(dated)
    falling, _ = await pages_of(
        api, token, {"orderBy": {"field": "VALID_UNTIL", "descending": True}}
    )
    assert [n["id"] for n in falling] == [n["id"] for n in reversed(rising)]


def forged(*values) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


async def test_a_cursor_works_only_in_the_list_that_gave_it(api, db, clock, settings):
    token = await demo_admin(db, clock, settings)
    by_due = (await api.data(ASSIGNMENTS, {"first": 3}, token=token))["assignments"]
    cursor = by_due["pageInfo"]["endCursor"]
    assert (await api.data(ASSIGNMENTS, {"first": 3, "after": cursor}, token=token))["assignments"][
        "edges"
    ]
    others = [
        {"orderBy": {"field": "VALID_UNTIL", "descending": True}},
        {"orderBy": {"field": "DUE_DATE", "descending": True}},
        {"orderBy": {"field": "START_DATE"}},
        {"status": "COMPLETED"},
    ]
    tag = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))[0]
    made_up = [
        forged(tag, "2026-01-01T00:00:00", "0" * 24),  # no offset: not one of ours
        forged(tag, "9999-01-01T00:00:00+00:00"),
        forged(tag, None, None),
        forged("another list", "2026-01-01T00:00:00+00:00", "0" * 24),
        "not a cursor",
    ]
    for variables in [*({**o, "after": cursor} for o in others), *({"after": m} for m in made_up)]:
        body = await api.call(ASSIGNMENTS, {"first": 3, **variables}, token=token)
        assert body["errors"][0]["extensions"]["code"] == "INVALID_CURSOR", variables


async def test_a_filter_naming_nothing_visible_is_not_found(api, org, foreign_org):
    """As complianceSummary does: another organization's credential or learner is not an
    empty list but `NOT_FOUND`, the same answer as for an id that never existed."""
    c = await course(api, foreign_org, "T")
    theirs = (await credential(api, foreign_org, "Theirs", {"course": c}))["id"]
    stranger = gid("User", foreign_org.learner.id)
    token = org.token(org.admin)
    for document, field in (
        (f'{{ assignments(credential: "{theirs}") {{ totalCount }} }}', "credential"),
        (f'{{ complianceSummary(credential: "{theirs}") {{ total }} }}', "credential"),
        (f'{{ assignments(learner: "{stranger}") {{ totalCount }} }}', "learner"),
    ):
        error = (await api.call(document, token=token))["errors"][0]
        assert error["extensions"]["code"] == "NOT_FOUND", document
        assert error["extensions"]["field"] == field


async def test_deactivated_people_leave_the_counts_and_lists_and_come_back(api, org):
    c = await course(api, org, "C")
    cred = await credential(api, org, "C", {"course": c})
    await assign(api, org, cred["id"], [org.learner, org.other_learner])
    admin = org.token(org.admin)
    switch = "mutation($u: ID!) {{ {0}(input: {{user: $u}}) {{ userErrors {{ code }} }} }}"
    lee = {"u": gid("User", org.learner.id)}

    async def counted() -> tuple[int, int, list[str]]:
        summary = (await api.data(SUMMARY, {}, token=admin))["complianceSummary"]
        listed = (await api.data(ASSIGNMENTS, {}, token=admin))["assignments"]
        names = [edge["node"]["learner"]["name"] for edge in listed["edges"]]
        return summary["total"], listed["totalCount"], names

    assert await counted() == (2, 2, ["Lee Learner", "Olu Other"])
    await api.data(switch.format("deactivateUser"), lee, token=admin)
    assert await counted() == (1, 1, ["Olu Other"])
    theirs = "query($u: ID!) { assignments(learner: $u) { totalCount } }"
    assert (await api.data(theirs, lee, token=admin))["assignments"]["totalCount"] == 1
    await api.data(switch.format("reactivateUser"), lee, token=admin)
    assert await counted() == (2, 2, ["Lee Learner", "Olu Other"])
