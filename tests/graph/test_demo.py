from __future__ import annotations

from resolvers import demo, tokens

OVERVIEW = """
{ credentials { edges { node {
    name criteriaExpression completeWithin { iso8601 } validFor { iso8601 } reassignOnCompletion
    assignments { edges { node { status learner { name } } } }
} } } }
"""


async def test_demo_has_learners_in_every_status(api, db, clock, settings):
    loaded = await demo.load(db, now=clock.now(), crowd=12)
    assert loaded.created
    again = await demo.load(db, now=clock.now(), crowd=12)
    assert not again.created
    assert again.admin.id == loaded.admin.id

    token = tokens.issue(
        loaded.admin, secret=settings.secret, ttl=settings.token_ttl, now=clock.now()
    )
    creds = {
        e["node"]["name"]: e["node"]
        for e in (await api.data(OVERVIEW, token=token))["credentials"]["edges"]
    }
    cpr = creds["CPR Certification"]
    assert cpr["criteriaExpression"] == (
        "CPR Online Course AND Basic Life Support (BLS) credential document"
    )
    assert (cpr["completeWithin"]["iso8601"], cpr["validFor"]["iso8601"]) == ("P90D", "P2Y")
    assert cpr["reassignOnCompletion"] is True
    infection = creds["Infection Prevention"]
    assert infection["criteriaExpression"] == (
        "(Hand Hygiene AND Standard Precautions) OR "
        "(Infection Control Refresher AND Sterile Technique)"
    )
    statuses = {e["node"]["status"] for c in creds.values() for e in c["assignments"]["edges"]}
    assert statuses == {
        "NOT_YET_AVAILABLE",
        "NOT_STARTED",
        "IN_PROGRESS",
        "COMPLETED",
        "OVERDUE",
        "EXPIRED",
    }
