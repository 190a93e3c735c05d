"""The event feed: a consumer that keeps its cursor sees every change once, in one order that
never changes — whoever wrote, however many processes at once, across crashes and restarts —
and the moments that come with time (overdue, expired) once each."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from resolvers import reminders, writes
from store import feed, outbox
from tests.generated import CREATE_TOKEN
from tests.helpers import (
    APPROVE,
    EVENTS,
    EXEMPT,
    EXTEND,
    assign,
    course,
    cpr_setup,
    credential,
    document_input,
    follow,
    ok,
    submit,
    take_course,
    ward,
)


async def test_a_consumer_from_the_start_sees_every_change_once_in_order(
    api, org, clock, start_app
):
    admin = org.token(org.admin)
    bls, cpr, _, a = await cpr_setup(api, org)
    learner = org.token(org.learner)
    await take_course(api, learner, cpr, assignment=a["id"])
    record = (await submit(api, learner, document_input(label=bls, title="BLS")))["record"]
    clock.advance(timedelta(minutes=1))
    await ok(api, APPROVE, {"record": record["id"]}, admin, "approveTrainingRecord")

    seen, cursor = await follow(api, admin)
    assert [e["kind"] for e in seen] == [
        "CREDENTIAL_ASSIGNED", "RECORD_SUBMITTED", "RECORD_APPROVED", "CREDENTIAL_COMPLETED",
        "CREDENTIAL_ASSIGNED",  # the renewal the completion opened
    ]  # fmt: skip
    assert [int(e["cursor"]) for e in seen] == list(range(1, 6))
    assigned, submitted, approved, completed, renewal = seen
    assert assigned["subjectId"] == a["id"] == completed["subjectId"]
    assert assigned["credential"] == {"name": "CPR Certification"}
    assert assigned["learner"] == {"email": org.learner.email}
    assert submitted["subject"] == {"__typename": "TrainingRecord", "id": record["id"]}
    assert approved["at"] == clock.now().isoformat()
    assert completed["data"]["validFrom"] <= completed["at"] < completed["data"]["validUntil"]
    assert renewal["data"]["cycle"] == 2

    # A restart later, the consumer goes on from its cursor: only what is new.
    async with start_app() as restarted:
        exempt = {"input": {"assignment": renewal["subjectId"], "reason": "Leave"}}
        response = await restarted.http.post(
            "/graphql", json={"query": EXEMPT, "variables": exempt},
            headers={"Authorization": f"Bearer {admin}"},
        )  # fmt: skip
        assert response.json()["data"]["exemptAssignment"]["userErrors"] == []
    later, _ = await follow(api, admin, after=cursor)
    assert [(e["kind"], e["cursor"]) for e in later] == [("EXEMPTED", "6")]
    assert [e["kind"] for e in (await follow(api, admin, kinds=["EXEMPTED"]))[0]] == ["EXEMPTED"]


async def test_moments_that_come_with_time_are_told_once(api, db, org, clock):
    admin = org.token(org.admin)
    c = await course(api, org, "Fire safety")
    cred = await credential(api, org, "Fire", {"course": c})
    (a,) = await assign(api, org, cred["id"], [org.learner])
    _, cursor = await follow(api, admin)
    clock.advance(timedelta(days=91))  # past its due date
    admin = org.token(org.admin)
    sender = reminders.Sender()
    for _ in range(3):
        await sender.tick(db, now=clock.now())
    await reminders.Sender().tick(db, now=clock.now())  # another process, as fresh
    overdue, cursor = await follow(api, admin, after=cursor)
    assert [(e["kind"], e["subjectId"]) for e in overdue] == [("OVERDUE", a["id"])]
    later = "2027-01-01T00:00:00+00:00"
    await ok(api, EXTEND, {"input": {"assignment": a["id"], "dueDate": later, "reason": "Ill"}},
             admin, "extendDueDate")  # fmt: skip
    extended, _ = await follow(api, admin, after=cursor)
    assert [e["kind"] for e in extended] == ["DUE_DATE_EXTENDED"]
    assert extended[0]["data"]["toDueDate"] == later


async def test_concurrent_writers_leave_a_feed_without_gaps_or_repeats(api, db, org):
    bls, _, _, _ = await cpr_setup(api, org)
    token = org.token(org.learner)
    await asyncio.gather(
        *(submit(api, token, document_input(label=bls, title=f"Card {n}")) for n in range(12))
    )
    await asyncio.gather(*(feed.sequence(db, org_id=org.id) for _ in range(4)))
    seen, _ = await follow(api, org.token(org.admin))
    assert [int(e["cursor"]) for e in seen] == list(range(1, len(seen) + 1))
    titles = [e["data"]["title"] for e in seen if e["kind"] == "RECORD_SUBMITTED"]
    assert sorted(titles) == sorted(f"Card {n}" for n in range(12))
    assert await db.db.feedOutbox.count_documents({}) == 0


async def died(*args, **kwargs):
    raise RuntimeError("the process died here")


@pytest.mark.parametrize("dies", ["before the copy", "before the numbering"])
async def test_a_crash_loses_no_event_and_repeats_none(api, db, org, start_app, monkeypatch, dies):
    admin = org.token(org.admin)
    c = await course(api, org, "Course")
    cred = await credential(api, org, "Credential", {"course": c})
    if dies == "before the copy":
        monkeypatch.setattr(outbox, "copy", died)
    else:
        monkeypatch.setattr(feed, "sequence", died)
    with pytest.raises(RuntimeError, match="died"):
        await assign(api, org, cred["id"], [org.learner, org.other_learner])
    monkeypatch.undo()
    assert await db.db.feed.count_documents({}) == 0
    async with start_app():  # the start-up repair finishes the copy and the numbering
        pass
    seen, _ = await follow(api, admin)
    assert sorted(e["learner"]["email"] for e in seen) == sorted(
        [org.learner.email, org.other_learner.email]
    )
    assert {e["kind"] for e in seen} == {"CREDENTIAL_ASSIGNED"}
    await writes.repair(db)  # again: nothing more
    assert len((await follow(api, admin))[0]) == 2


@pytest.mark.parametrize("told", ["before", "after"])
async def test_events_a_crash_appended_but_left_waiting_are_not_appended_again(api, db, org, told):
    """A sequencer that died between appending events and taking them out of the outbox leaves
    them in both: the next appends what is new, in order, and only takes those out — whether
    they come before the new events or after them."""
    admin = org.token(org.admin)
    c = await course(api, org, "Course")
    first = await credential(api, org, "First", {"course": c})
    await assign(api, org, first["id"], [org.learner, org.other_learner])
    appended = await db.db.feed.find({}).to_list(None)
    assert len(appended) == 2
    moved = timedelta(days=36_500 if told == "after" else 0)
    await db.db.feedOutbox.insert_many(
        [
            {**{k: v for k, v in doc.items() if k != "seq"}, "at": doc["at"] + moved,
             "queuedAt": doc["at"]}
            for doc in appended
        ]
    )  # fmt: skip
    second = await credential(api, org, "Second", {"course": c})
    await assign(api, org, second["id"], [org.learner])
    seen, _ = await follow(api, admin)
    assert [int(e["cursor"]) for e in seen] == [1, 2, 3]
    assert [e["credential"]["name"] for e in seen] == ["First", "First", "Second"]
    assert await db.db.feedOutbox.count_documents({}) == 0


async def test_only_administrators_and_read_tokens_read_the_feed(api, db, org):
    _, _, maya = await ward(api, db, org)
    for token in (org.token(org.learner), maya, org.player):
        body = await api.call(EVENTS, token=token)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    made = await ok(api, CREATE_TOKEN, {"input": {"name": "Warehouse", "scopes": ["READ"]}},
                    org.token(org.admin), "createApiToken")  # fmt: skip
    reader = made["secret"]
    assert (await api.data(EVENTS, token=reader))["events"]["edges"] == []
    for cursor in ("x", "-1", "1e3", "\u0661", "9" * 40, "1"):  # "1": past the last event
        body = await api.call(EVENTS, {"after": cursor}, token=org.token(org.admin))
        assert body["errors"][0]["extensions"]["code"] == "INVALID_CURSOR"
