"""Dashboard queries: compliance counts and the organization-wide assignment list."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from resolvers import demo, tokens
from tests.conftest import START

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
