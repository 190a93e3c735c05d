"""Reminders: due soon, overdue, expiring soon, expired — each sent once per cycle and moment,
to the learner and their managers, across restarts, downtime, crashes and processes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from graph import ids
from resolvers import reminders
from store import notifications as stored_notifications
from store import reminders as claims
from store import users
from tests.helpers import (
    assign,
    course,
    credential,
    document_input,
    gid,
    label,
    ok,
    submit,
    take_course,
    ward,
)

INBOX = "{ me { notifications { edges { node { kind subject { __typename } } } } } }"
DAY = timedelta(days=1)


async def kinds(api, token: str) -> list[str]:
    edges = (await api.data(INBOX, token=token))["me"]["notifications"]["edges"]
    return [e["node"]["kind"] for e in edges if e["node"]["kind"] not in ("CREDENTIAL_ASSIGNED",)]


async def due_in(api, org, clock, days: int, **extra) -> tuple[dict, str]:
    """Lee's cycle of a credential due in `days` days (valid a year once earned)."""
    c = await course(api, org, "CPR")
    cred = await credential(api, org, "CPR", {"course": c}, validFor={"amount": 1, "unit": "YEAR"},
                            **extra)  # fmt: skip
    due = (clock.now() + days * DAY).isoformat()
    start = (clock.now() - 60 * DAY).isoformat()
    (a,) = await assign(api, org, cred["id"], [org.learner], startDate=start, dueDate=due)
    return a, c


async def token_of(db, org, gid: str) -> str:
    """A token issued now (the clock moves in these tests, and tokens expire)."""
    found = await users.get(db, org_id=org.id, id=ids.decode(gid)[1])
    return org.token(found)


async def test_a_learner_and_their_manager_are_reminded_once_at_each_moment(api, db, org, clock):
    _, maya_id, _ = await ward(api, db, org)
    await due_in(api, org, clock, 40)
    sender = reminders.Sender()
    assert await sender.tick(db, now=clock.now()) == 0
    clock.advance(11 * DAY)  # 29 days before the due date
    assert await sender.tick(db, now=clock.now()) == 1
    assert await sender.tick(db, now=clock.now()) == 0  # once
    assert await kinds(api, org.token(org.learner)) == ["DUE_SOON"]
    assert await kinds(api, await token_of(db, org, maya_id)) == ["DUE_SOON"]
    clock.advance(23 * DAY)  # 6 days before
    await sender.tick(db, now=clock.now())
    clock.advance(7 * DAY)  # a day late
    await sender.tick(db, now=clock.now())
    await sender.tick(db, now=clock.now())
    expected = ["OVERDUE", "DUE_SOON", "DUE_SOON"]  # newest first
    assert await kinds(api, org.token(org.learner)) == expected
    assert await kinds(api, await token_of(db, org, maya_id)) == expected
    assert await kinds(api, org.token(org.admin)) == []  # Lee has a manager


async def test_after_downtime_only_the_reminder_that_fits_now_is_sent(api, db, org, clock):
    await due_in(api, org, clock, 40)
    clock.advance(45 * DAY)  # the server was down through both DUE_SOONs and the due date
    await reminders.Sender().tick(db, now=clock.now())
    assert await kinds(api, org.token(org.learner)) == ["OVERDUE"]


async def test_validity_ending_is_reminded_then_the_expiry(api, db, org, clock):
    a, c = await due_in(api, org, clock, 40)
    await take_course(api, org.token(org.learner), c, assignment=a["id"])
    sender = reminders.Sender()
    clock.advance(365 * DAY - 59 * DAY)  # 59 days before validUntil
    await sender.tick(db, now=clock.now())
    clock.advance(60 * DAY)  # expired
    await sender.tick(db, now=clock.now())
    assert await kinds(api, org.token(org.learner)) == [
        "EXPIRED", "EXPIRING_SOON", "CREDENTIAL_COMPLETED"
    ]  # fmt: skip


async def test_two_processes_at_once_send_each_reminder_once(api, db, org, clock):
    await due_in(api, org, clock, -1)
    sent = await asyncio.gather(*(reminders.Sender().tick(db, now=clock.now()) for _ in range(4)))
    assert sorted(sent) == [0, 0, 0, 1]
    assert await kinds(api, org.token(org.learner)) == ["OVERDUE"]


async def test_a_restart_sends_nothing_twice(api, db, org, clock, start_app):
    await due_in(api, org, clock, -1)
    await reminders.Sender().tick(db, now=clock.now())
    async with start_app() as restarted:  # a new process: it knows nothing of the first
        assert await reminders.Sender().tick(restarted.db, now=clock.now()) == 0
    assert await kinds(api, org.token(org.learner)) == ["OVERDUE"]


async def test_a_crash_before_delivery_is_delivered_once_at_the_next_start(
    api, db, org, clock, monkeypatch
):
    await due_in(api, org, clock, -1)
    original = stored_notifications.notify_once

    async def died(*args, **kwargs):
        raise RuntimeError("the process died here")

    monkeypatch.setattr(stored_notifications, "notify_once", died)
    with pytest.raises(RuntimeError):
        await reminders.Sender().tick(db, now=clock.now())
    assert await kinds(api, org.token(org.learner)) == []
    assert len(await claims.pending(db)) == 1
    monkeypatch.setattr(stored_notifications, "notify_once", original)
    assert await reminders.redeliver(db, now=clock.now()) == 1
    assert await reminders.redeliver(db, now=clock.now()) == 0
    assert await reminders.Sender().tick(db, now=clock.now()) == 0
    assert await kinds(api, org.token(org.learner)) == ["OVERDUE"]


async def test_a_delivery_repeated_writes_each_notification_once(api, db, org, clock):
    await due_in(api, org, clock, -1)
    await reminders.Sender().tick(db, now=clock.now())
    (claim,) = [c async for c in _all_claims(db)]
    await reminders.deliver(db, [claim], now=clock.now())  # as a repair after a crash would
    assert await kinds(api, org.token(org.learner)) == ["OVERDUE"]


async def _all_claims(db):
    async for doc in db.db.reminders.find():
        yield claims.Claim.from_doc(doc)


async def test_an_exempt_cycle_is_not_reminded(api, db, org, clock):
    a, _ = await due_in(api, org, clock, -1)
    await ok(
        api,
        "mutation($a: ID!, $r: String!) { exemptAssignment(input: {assignment: $a, reason: $r}) "
        "{ userErrors { code } } }",
        {"a": a["id"], "r": "Leave"},
        org.token(org.admin),
        "exemptAssignment",
    )
    assert await reminders.Sender().tick(db, now=clock.now()) == 0


async def test_a_deactivated_learner_is_not_reminded(api, db, org, clock):
    await due_in(api, org, clock, -1)
    await ok(
        api,
        "mutation($u: ID!) { deactivateUser(input: {user: $u}) { userErrors { code } } }",
        {"u": gid("User", org.learner.id)},
        org.token(org.admin),
        "deactivateUser",
    )
    assert await reminders.Sender().tick(db, now=clock.now()) == 0


async def test_a_credential_says_when_its_learners_are_reminded(api, db, org, clock):
    admin = org.token(org.admin)
    shown = "query($id: ID!) { credential(id: $id) { reminders { beforeDue { iso8601 } " \
        "beforeExpiry { iso8601 } } } }"  # fmt: skip
    a, _ = await due_in(api, org, clock, 40, reminders={
        "beforeDue": [{"amount": 2, "unit": "WEEK"}, {"amount": 1, "unit": "DAY"}],
        "beforeExpiry": [],
    })  # fmt: skip
    assignment = await api.data(
        "query($id: ID!) { node(id: $id) { ... on CredentialAssignment { credential { id } } } }",
        {"id": a["id"]}, token=admin,
    )  # fmt: skip
    credential_id = assignment["node"]["credential"]["id"]
    found = (await api.data(shown, {"id": credential_id}, token=admin))["credential"]
    assert found["reminders"] == {
        "beforeDue": [{"iso8601": "P2W"}, {"iso8601": "P1D"}], "beforeExpiry": []
    }  # fmt: skip
    clock.advance(27 * DAY)  # 13 days before: the two weeks' reminder, not a 30 days' one
    assert await reminders.Sender().tick(db, now=clock.now()) == 1
    defaults = await credential(api, org, "Defaults", {"course": (await course(api, org, "X"))})
    found = (await api.data(shown, {"id": defaults["id"]}, token=admin))["credential"]
    assert found["reminders"] == {
        "beforeDue": [{"iso8601": "P30D"}, {"iso8601": "P7D"}],
        "beforeExpiry": [{"iso8601": "P60D"}, {"iso8601": "P30D"}, {"iso8601": "P7D"}],
    }


@pytest.mark.parametrize(
    ("reminders_input", "error"),
    [
        ({"beforeDue": [{"amount": d, "unit": "DAY"} for d in range(1, 7)], "beforeExpiry": []},
         ("reminders.beforeDue", "TOO_MANY")),
        ({"beforeDue": [], "beforeExpiry": [{"amount": 2, "unit": "YEAR"}]},
         ("reminders.beforeExpiry", "OUT_OF_RANGE")),
    ],
)  # fmt: skip
async def test_bad_reminders_are_refused(api, org, reminders_input, error):
    c = await course(api, org, "CPR")
    made = await api.data(
        "mutation($input: CreateCredentialInput!) { createCredential(input: $input) "
        "{ credential { id } userErrors { field code } } }",
        {"input": {"name": "CPR", "completeWithin": {"amount": 30, "unit": "DAY"},
                   "criteria": {"course": c}, "reminders": reminders_input}},
        token=org.token(org.admin),
    )  # fmt: skip
    assert made["createCredential"]["userErrors"] == [{"field": error[0], "code": error[1]}]


async def test_the_server_sends_them_by_itself(api, org, clock, start_app):
    await due_in(api, org, clock, -1)
    async with start_app(reminder_every=0.05):
        for _ in range(100):
            if await kinds(api, org.token(org.learner)):
                break
            await asyncio.sleep(0.05)
    assert await kinds(api, org.token(org.learner)) == ["OVERDUE"]


async def licence(api, org, bls: str, end: str, issued: str = "2026-01-10") -> dict:
    fields = document_input(label=bls, title="Nursing licence", issueDate=issued, endDate=end,
                            learner=gid("User", org.learner.id))  # fmt: skip
    made = await submit(api, org.token(org.admin), fields)  # approved at once: an administrator's
    assert made["record"]["status"] == "APPROVED", made
    return made["record"]


async def test_a_licence_ending_is_reminded_unless_a_later_one_replaces_it(api, db, org, clock):
    rn = await label(api, org, "RN")
    ends = (clock.now() + 50 * DAY).date().isoformat()  # past the 60 days' reminder already
    await licence(api, org, rn, ends)
    sender = reminders.Sender()
    assert await sender.tick(db, now=clock.now()) == 1
    assert await sender.tick(db, now=clock.now()) == 0
    inbox = (await api.data(INBOX, token=org.token(org.learner)))["me"]["notifications"]["edges"]
    newest = inbox[0]["node"]
    assert (newest["kind"], newest["subject"]["__typename"]) == (
        "DOCUMENT_EXPIRING",
        "TrainingRecord",
    )
    later = (clock.now() + 800 * DAY).date().isoformat()
    await licence(api, org, rn, later, issued=clock.now().date().isoformat())  # renewed
    clock.advance(25 * DAY)  # the first's 30 days' reminder: it is replaced, so nothing
    assert await sender.tick(db, now=clock.now()) == 0


async def test_an_extended_due_date_is_reminded_of_again(api, db, org, clock):
    a, _ = await due_in(api, org, clock, -1)
    sender = reminders.Sender()
    await sender.tick(db, now=clock.now())
    later = (clock.now() + 3 * DAY).isoformat()
    await ok(
        api,
        "mutation($input: ExtendDueDateInput!) { extendDueDate(input: $input) "
        "{ userErrors { code } } }",
        {"input": {"assignment": a["id"], "dueDate": later, "reason": "Leave"}},
        org.token(org.admin),
        "extendDueDate",
    )
    clock.advance(4 * DAY)  # the new due date passed too
    assert await sender.tick(db, now=clock.now()) == 1
    overdue = [k for k in await kinds(api, org.token(org.learner)) if k == "OVERDUE"]
    assert len(overdue) == 2
