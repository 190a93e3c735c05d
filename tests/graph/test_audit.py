"""The audit log: every change an administrator or a manager makes leaves one event, written
with the change — so a crash between the change and the log's copy loses nothing and doubles
nothing — and administrators read it newest first, filtered and paged."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from bson import ObjectId
from pymongo.asynchronous.collection import AsyncCollection

from graph import ids
from resolvers import writes
from store import outbox
from store.errors import StoreError
from tests.helpers import (
    APPROVE,
    EXEMPT,
    EXTEND,
    LOG,
    REMOVE,
    REPORT,
    UPDATE_CREDENTIAL,
    assign,
    course,
    cpr_setup,
    credential,
    document_input,
    gid,
    log,
    ok,
    submit,
    take_course,
    ward,
)

UPDATE_USER = """
mutation($input: UpdateUserInput!) {
  updateUser(input: $input) { user { name } userErrors { code } }
}
"""
DEACTIVATE = """
mutation($input: DeactivateUserInput!) {
  deactivateUser(input: $input) { user { deactivatedAt } userErrors { code } }
}"""
DECLINE = """
mutation($record: ID!) {
  declineTrainingRecord(input: {record: $record, reason: "Unreadable"}) {
    record { status } userErrors { code }
  }
}"""


async def test_each_decision_leaves_one_event_with_its_reason_and_what_changed(api, org, clock):
    admin = org.token(org.admin)
    c = await course(api, org, "Hand hygiene")
    cred = await credential(api, org, "Hygiene", {"course": c})
    (a,) = await assign(api, org, cred["id"], [org.learner])
    clock.advance(timedelta(hours=1))
    await ok(api, EXEMPT, {"input": {"assignment": a["id"], "reason": "Parental leave"}},
             admin, "exemptAssignment")  # fmt: skip
    clock.advance(timedelta(hours=1))
    due = "2027-01-01T00:00:00+00:00"
    await ok(api, EXTEND, {"input": {"assignment": a["id"], "dueDate": due, "reason": "Leave"}},
             admin, "extendDueDate")  # fmt: skip

    events = await log(api, admin, subject=a["id"])
    assert [e["action"] for e in events] == [
        "EXTEND_DUE_DATE", "EXEMPT_ASSIGNMENT", "ASSIGN_CREDENTIAL"
    ]  # fmt: skip
    extended, exempted, assigned = events
    assert {e["actor"]["email"] for e in events} == {org.admin.email}
    assert all(
        e["subject"] == {"__typename": "CredentialAssignment", "id": a["id"]} for e in events
    )
    assert extended["reason"] == "Leave"
    assert extended["changes"] == [{"field": "dueDate", "before": a["dueDate"], "after": due}]
    assert extended["at"] == clock.now().isoformat()
    assert exempted["reason"] == "Parental leave"
    assert exempted["changes"] == [
        {
            "field": "exemption",
            "before": None,
            "after": {"since": (clock.now() - timedelta(hours=1)).isoformat(), "until": None},
        }
    ]
    assigned_fields = {ch["field"]: ch for ch in assigned["changes"]}
    assert assigned_fields["credential"]["after"] == cred["id"]  # ids as global ids
    assert assigned_fields["learner"]["after"] == gid("User", org.learner.id)
    assert all(ch["before"] is None for ch in assigned["changes"])

    # A person's log holds what was done to them and to what concerns them, as a credential's.
    about_lee = await log(api, admin, subject=gid("User", org.learner.id))
    assert [e["action"] for e in about_lee] == [
        "EXTEND_DUE_DATE", "EXEMPT_ASSIGNMENT", "ASSIGN_CREDENTIAL", "CREATE_USER"
    ]  # fmt: skip
    assert [e["action"] for e in await log(api, admin, subject=cred["id"])] == [
        "EXTEND_DUE_DATE", "EXEMPT_ASSIGNMENT", "ASSIGN_CREDENTIAL", "CREATE_CREDENTIAL"
    ]  # fmt: skip


async def test_a_change_of_nothing_leaves_no_event(api, org):
    admin = org.token(org.admin)
    user = gid("User", org.learner.id)
    for _ in range(2):
        await ok(api, UPDATE_USER, {"input": {"user": user, "name": "Lee Renamed"}},
                 admin, "updateUser")  # fmt: skip
        await ok(api, DEACTIVATE, {"input": {"user": user}}, admin, "deactivateUser")
    events = await log(api, admin, subject=user)
    assert [e["action"] for e in events] == ["DEACTIVATE_USER", "UPDATE_USER", "CREATE_USER"]
    assert events[1]["changes"] == [
        {"field": "name", "before": org.learner.name, "after": "Lee Renamed"}
    ]


async def test_a_learners_own_doings_are_not_audited_but_a_managers_for_them_are(api, db, org):
    _, maya, maya_token = await ward(api, db, org)
    bls, _, _, _ = await cpr_setup(api, org)
    before = await log(api, org.token(org.admin))
    await submit(api, org.token(org.learner), document_input(label=bls, title="Mine"))
    assert await log(api, org.token(org.admin)) == before
    made = await submit(
        api,
        maya_token,
        document_input(label=bls, title="For Lee", learner=gid("User", org.learner.id)),
    )
    (event,) = await log(api, org.token(org.admin), actor=maya)
    assert event["action"] == "SUBMIT_TRAINING_RECORD"
    assert event["subjectId"] == made["record"]["id"]
    assert event["actor"]["email"] == "maya@acmehealth.test"


async def test_the_log_is_filtered_and_paged_newest_first(api, org, clock):
    admin = org.token(org.admin)
    clock.advance(timedelta(seconds=1))  # after the fixture's own events
    start = clock.now()
    c = await course(api, org, "Course")
    for n in range(5):
        clock.advance(timedelta(minutes=1))
        await credential(api, org, f"Credential {n}", {"course": c})
    every = await log(api, admin, since=start.isoformat())
    assert [e["action"] for e in every] == ["CREATE_CREDENTIAL"] * 5 + ["CREATE_COURSE"]
    assert [e["at"] for e in every] == sorted((e["at"] for e in every), reverse=True)

    seen, after = [], None
    while True:
        variables = {"since": start.isoformat(), "first": 2, "after": after}
        page = (await api.data(LOG, variables, token=admin))["auditLog"]
        assert page["totalCount"] == 6
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [e["id"] for e in every]

    assert len(await log(api, admin, action="CREATE_COURSE")) == 1
    window = {"since": (start + timedelta(minutes=2)).isoformat(),
              "until": (start + timedelta(minutes=4)).isoformat()}  # fmt: skip
    assert [e["at"] for e in await log(api, admin, **window)] == [
        (start + timedelta(minutes=m)).isoformat() for m in (3, 2)
    ]
    assert await log(api, admin, actor=gid("User", org.learner.id)) == []
    body = await api.call(LOG, {"action": "CREATE_COURSE", "after": after}, token=admin)
    assert body["errors"][0]["extensions"]["code"] == "INVALID_CURSOR"


async def test_only_administrators_read_the_log(api, db, org):
    _, _, maya_token = await ward(api, db, org)
    for token in (org.token(org.learner), maya_token):
        body = await api.call(LOG, token=token)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_racing_decisions_leave_one_event(api, org):
    admin = org.token(org.admin)
    bls, _, _, a = await cpr_setup(api, org)
    record = (await submit(api, org.token(org.learner), document_input(label=bls, title="BLS")))[
        "record"
    ]
    exempt = {"input": {"assignment": a["id"], "reason": "Leave"}}
    await asyncio.gather(
        *(api.call(EXEMPT, exempt, token=admin) for _ in range(4)),
        api.call(APPROVE, {"record": record["id"]}, token=admin),
        api.call(DECLINE, {"record": record["id"]}, token=admin),
    )
    assert [e["action"] for e in await log(api, admin, subject=a["id"])] == [
        "EXEMPT_ASSIGNMENT", "ASSIGN_CREDENTIAL"
    ]  # fmt: skip
    (decision,) = await log(api, admin, subject=record["id"])
    assert decision["action"] in {"APPROVE_TRAINING_RECORD", "DECLINE_TRAINING_RECORD"}
    assert decision in await log(api, admin, subject=gid("User", org.learner.id))


async def died(*args, **kwargs):
    raise RuntimeError("the process died here")


@pytest.mark.parametrize("dies", ["before the copy", "after the copy, before the cleanup"])
async def test_a_crash_between_a_change_and_its_copy_leaves_exactly_one_event(
    api, db, org, start_app, monkeypatch, dies
):
    admin = org.token(org.admin)
    bls, _, _, _ = await cpr_setup(api, org)
    record = (await submit(api, org.token(org.learner), document_input(label=bls, title="BLS")))[
        "record"
    ]
    if dies == "before the copy":
        monkeypatch.setattr(outbox, "copy", died)
    else:
        bulk_write = AsyncCollection.bulk_write

        async def cleanup_dies(self, requests, *args, **kwargs):
            if "outbox" in str(requests):
                await died()
            return await bulk_write(self, requests, *args, **kwargs)

        monkeypatch.setattr(AsyncCollection, "bulk_write", cleanup_dies)

    with pytest.raises(RuntimeError, match="died"):  # no answer: the process is gone
        await api.call(APPROVE, {"record": record["id"]}, token=admin)
    monkeypatch.undo()
    record_id = ObjectId(ids.decode(record["id"])[1])
    stored = await db.db.records.find_one({"_id": record_id})
    assert stored["status"] == "APPROVED", "the change was made"
    waiting = [letter["box"] for letter in stored["outbox"]]
    assert waiting == ["auditEvents", "feedOutbox"], "and its events wait on it"

    async with start_app() as restarted:  # the start-up repair copies it out
        response = await restarted.http.post(
            "/graphql",
            json={"query": LOG, "variables": {"subject": record["id"]}},
            headers={"Authorization": f"Bearer {admin}"},
        )
    events = [e["node"] for e in response.json()["data"]["auditLog"]["edges"]]
    assert [e["action"] for e in events] == ["APPROVE_TRAINING_RECORD"]
    assert "outbox" not in await db.db.records.find_one({"_id": record_id})
    assert await db.db.auditEvents.count_documents({"subject.id": record_id}) == 1


async def test_a_copy_that_fails_fails_no_mutation_and_the_next_repair_makes_it(
    api, db, org, monkeypatch
):
    admin = org.token(org.admin)
    c = await course(api, org, "Course")

    async def unavailable(*args, **kwargs):
        raise StoreError("the database did not answer in time")

    monkeypatch.setattr(outbox, "copy", unavailable)
    made = await credential(api, org, "Hygiene", {"course": c})  # answered, and made
    monkeypatch.undo()
    assert await log(api, admin, subject=made["id"]) == []
    assert await writes.repair(db) == 1  # as the scheduler's tick does
    (event,) = await log(api, admin, subject=made["id"])
    assert event["action"] == "CREATE_CREDENTIAL"
    assert await writes.repair(db) == 0


async def test_racing_removals_of_an_exemption_end_it_once(api, org):
    admin = org.token(org.admin)
    _, _, _, a = await cpr_setup(api, org)
    await ok(api, EXEMPT, {"input": {"assignment": a["id"], "reason": "Leave"}},
             admin, "exemptAssignment")  # fmt: skip
    answers = await asyncio.gather(
        *(api.data(REMOVE, {"input": {"assignment": a["id"], "reason": f"Back {n}"}},
                   token=admin) for n in range(5))
    )  # fmt: skip
    codes = [[e["code"] for e in x["removeExemption"]["userErrors"]] for x in answers]
    assert sorted(codes) == [[]] + [["NOT_EXEMPT"]] * 4
    assert [e["action"] for e in await log(api, admin, subject=a["id"])] == [
        "REMOVE_EXEMPTION", "EXEMPT_ASSIGNMENT", "ASSIGN_CREDENTIAL"
    ]  # fmt: skip


async def test_an_administrators_own_decisions_are_logged(api, org):
    """Their own record approved as submitted, their own course progress reported."""
    admin = org.token(org.admin)
    bls, cpr, _, _ = await cpr_setup(api, org)
    (mine,) = await assign(api, org, (await credential(api, org, "Own", {"course": cpr}))["id"],
                           [org.admin])  # fmt: skip
    made = await submit(api, admin, document_input(label=bls, title="My card"))
    assert made["record"]["status"] == "APPROVED"
    taken = await take_course(api, admin, cpr, assignment=mine["id"], finish=False)
    done = {"input": {"enrollment": taken["id"], "progress": 1.0, "completed": True}}
    await ok(api, REPORT, done, admin, "reportCourseProgress")  # as no learner may
    own = await log(api, admin, actor=gid("User", org.admin.id), since=mine["assignedAt"])
    assert {e["action"] for e in own} >= {"SUBMIT_TRAINING_RECORD", "REPORT_COURSE_PROGRESS"}


async def test_a_manager_who_stops_being_one_leaves_each_group_with_an_event(api, db, org):
    admin = org.token(org.admin)
    group, maya, _ = await ward(api, db, org)
    await ok(api, UPDATE_USER, {"input": {"user": maya, "role": "LEARNER"}}, admin, "updateUser")
    (left, _) = await log(api, admin, subject=group)
    assert left["action"] == "UPDATE_GROUP"
    assert left["reason"] == "no longer a manager"
    assert left["changes"] == [{"field": "managersRemoved", "before": None, "after": [maya]}]
    assert left in await log(api, admin, subject=maya)  # a person's log holds their groups


async def test_an_edit_that_repeats_a_credential_makes_no_version_and_no_event(api, org):
    admin = org.token(org.admin)
    c = await course(api, org, "Course")
    cred = await credential(api, org, "Credential", {"course": c})
    same = {"id": cred["id"], "criteria": {"course": c}, "completeWithin": {"amount": 90,
            "unit": "DAY"}}  # fmt: skip
    await ok(api, UPDATE_CREDENTIAL, {"input": same}, admin, "updateCredential")
    assert [e["action"] for e in await log(api, admin, subject=cred["id"])] == ["CREATE_CREDENTIAL"]


async def test_time_bounds_keep_to_the_millisecond_the_log_keeps(api, org, clock):
    admin = org.token(org.admin)
    clock.advance(timedelta(microseconds=167_000))
    await course(api, org, "At .167")
    moment = clock.now().replace(microsecond=0)
    within = (moment + timedelta(microseconds=167_900)).isoformat()
    beyond = (moment + timedelta(microseconds=167_500)).isoformat()
    assert [e["action"] for e in await log(api, admin, since=within)] == []
    assert "CREATE_COURSE" in [e["action"] for e in await log(api, admin, until=beyond)]
