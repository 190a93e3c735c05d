"""Every query a request sends reads through an index, on the embedded database too: it examines
no more documents than it returns, so a learner's answer costs the same in any organization."""

from __future__ import annotations

from resolvers import users
from store.users import Role
from tests.helpers import (
    DASHBOARD,
    DEEP,
    EVENTS,
    assign,
    assign_more,
    catalogue,
    course,
    credential,
)
from tests.imports import csv_bytes, imported

NOT_EXPLAINED = {"lsid", "$db", "$readPreference", "$clusterTime", "txnNumber", "batchSize"}


async def crowd(api, org, db, n: int) -> None:
    """Colleagues with cycles of their own: what a learner's query must not read."""
    people = [
        await users.create_user(
            db, org.as_admin, email=f"c{i}@acme.test", name=f"C{i}", role=Role.LEARNER,
            now=org.clock.now(),
        )
        for i in range(n)
    ]  # fmt: skip
    cpr = await course(api, org, "Crowd course")
    for name in ("One", "Two"):
        cred = await credential(api, org, name, {"course": cpr})
        await assign(api, org, cred["id"], [*people, org.other_learner])


async def examined(db, finds: list[dict]) -> list[tuple[dict, int, int]]:
    """(the find, documents examined, documents returned) of each find, by `explain`."""
    found = []
    for find in finds:
        command = {k: v for k, v in find.items() if k not in NOT_EXPLAINED}
        plan = await db.db.command("explain", command, verbosity="executionStats")
        stats = plan["executionStats"]
        found.append((command, stats["totalDocsExamined"], stats["nReturned"]))
    return found


async def test_a_learners_queries_read_only_the_learners_documents(api, org, db, commands):
    criteria = await catalogue(api, org)
    await assign_more(api, org, criteria, 3)
    await crowd(api, org, db, 40)
    commands.finds.clear()
    data = await api.data(DEEP, token=org.token(org.learner))
    assert data["me"]["credentials"]["totalCount"] == 3
    plans = await examined(db, commands.finds)
    assert {find["find"] for find, _, _ in plans} >= {"assignments", "enrollments", "records"}
    for find, docs, returned in plans:
        assert docs <= returned, find


async def test_a_dashboard_reads_its_organization_once_and_nothing_else(
    api, org, foreign_org, db, commands
):
    await crowd(api, foreign_org, db, 30)  # another tenant's cycles are never examined
    await crowd(api, org, db, 20)
    commands.finds.clear()
    data = await api.data(DASHBOARD, token=org.token(org.admin))
    assert data["complianceSummary"]["total"] == 42
    plans = await examined(db, commands.finds)
    scans = [(docs, returned) for find, docs, returned in plans if find["find"] == "assignments"]
    assert scans == [(42, 42)]
    for find, docs, returned in plans:
        assert docs <= returned, find


SUBMIT = """
mutation($input: SubmitTrainingRecordInput!) {
  submitTrainingRecord(input: $input) { record { id } userErrors { code } }
}"""
APPROVE = """
mutation($record: ID!) {
  approveTrainingRecord(input: {record: $record}) { record { status } userErrors { code } }
}"""


async def test_a_submission_and_its_approval_read_only_what_they_return(api, org, db, commands):
    await crowd(api, org, db, 40)
    commands.finds.clear()
    submitted = await api.data(
        SUBMIT,
        {
            "input": {
                "type": "ADDITIONAL_TRAINING",
                "title": "ACLS",
                "completedAt": "2026-02-01T00:00:00Z",
            }
        },
        token=org.token(org.learner),
    )
    record = submitted["submitTrainingRecord"]["record"]["id"]
    approved = await api.data(APPROVE, {"record": record}, token=org.token(org.admin))
    assert approved["approveTrainingRecord"]["record"]["status"] == "APPROVED"
    for find, docs, returned in await examined(db, commands.finds):
        assert docs <= returned, find


async def test_a_files_rows_already_imported_are_found_through_the_index(
    api, org, db, http, commands
):
    """Uploading a file again looks its rows' keys up: through the unique index, examining the
    rows asked about, not the organization's records (which would time out at volume)."""
    online = await course(api, org, "CPR Online Course")
    cred = await credential(api, org, "CPR Certification", {"course": online})
    await assign(api, org, cred["id"], [org.learner])
    admin = org.token(org.admin)
    rows = [
        f"{org.learner.email},CPR Certification,CPR Online Course,2026-01-{day:02},{hours},,,,"
        for day in range(1, 29) for hours in (1, 2)
    ]  # fmt: skip
    header = "email,credential,requirement,date,hours,provider,title,expires,document"
    await imported(http, admin, csv_bytes(header, *rows))  # 56 records in the organization
    commands.finds.clear()
    again = await imported(http, admin, csv_bytes(header, *rows[:10]))
    assert (again["applied"], again["duplicates"]) == (0, 10)
    lookups = [f for f in commands.finds if f["find"] == "records" and "importKey" in f["filter"]]
    assert lookups
    for find, docs, returned in await examined(db, lookups):
        assert docs <= returned, (find, docs, returned)


async def test_a_page_of_the_feed_reads_what_it_returns_however_far_behind(api, org, db, commands):
    """A consumer from cursor 0 of a long feed: each page reads its window of numbers, not
    every later event (the embedded database sorts in memory whatever the index)."""
    await crowd(api, org, db, 30)  # 62 events
    for kinds in (None, ["CREDENTIAL_ASSIGNED"]):
        commands.finds.clear()
        page = await api.data(EVENTS, {"first": 2, "kinds": kinds}, token=org.token(org.admin))
        assert page["events"]["pageInfo"]["hasNextPage"] is True
        plans = await examined(db, [f for f in commands.finds if f["find"] == "feed"])
        assert plans
        for find, docs, returned in plans:
            assert docs <= max(returned, 1), (find, docs, returned)
