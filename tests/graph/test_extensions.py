"""Due-date extensions: granted directly or on request, kept in the cycle's history, told to
the learner; decided once, by whoever reviews the learner."""

from __future__ import annotations

from datetime import timedelta

from store import assignments as stored_assignments
from tests.helpers import EXTEND, assign, course, credential, gid, ok, take_course, ward

DAY = timedelta(days=1)
CYCLE = """
query($id: ID!) { node(id: $id) { ... on CredentialAssignment {
  status dueDate originalDueDate
  extensions { fromDueDate toDueDate reason by { email } request { id } }
  extensionRequests { id status requestedDueDate reviewNote reviewedBy { email } }
} } }"""
REQUEST = """
mutation($input: RequestExtensionInput!) {
  requestExtension(input: $input) {
    request { id status requestedDueDate requestedBy { email } }
    userErrors { field code }
  }
}"""
GRANT = """
mutation($input: GrantExtensionInput!) {
  grantExtension(input: $input) { request { id status reviewNote } userErrors { field code } }
}"""
DENY = """
mutation($input: DenyExtensionInput!) {
  denyExtension(input: $input) { request { id status reviewNote } userErrors { field code } }
}"""
WAITING = "{ extensionRequests { edges { node { id requestedBy { email } } } } }"
INBOX = "{ me { notifications { edges { node { kind } } } } }"


def codes(payload: dict) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


async def kinds(api, token: str) -> list[str]:
    edges = (await api.data(INBOX, token=token))["me"]["notifications"]["edges"]
    return [e["node"]["kind"] for e in edges if e["node"]["kind"] != "CREDENTIAL_ASSIGNED"]


async def overdue(api, org, clock, learner=None) -> tuple[dict, str]:
    who = learner or org.learner
    c = await course(api, org, f"Course of {who.name}")
    cred = await credential(api, org, f"Credential of {who.name}", {"course": c})
    start = (clock.now() - 100 * DAY).isoformat()
    due = (clock.now() - 10 * DAY).isoformat()
    (a,) = await assign(api, org, cred["id"], [who], startDate=start, dueDate=due)
    return a, c


async def ask(api, token: str, a: dict, due: str, reason: str) -> dict:
    """A learner's request for `due`, waiting."""
    variables = {"input": {"assignment": a["id"], "dueDate": due, "reason": reason}}
    return await ok(api, REQUEST, variables, token, "requestExtension")


async def cycle(api, org, a) -> dict:
    return (await api.data(CYCLE, {"id": a["id"]}, token=org.token(org.admin)))["node"]


async def test_an_administrator_extends_a_due_date_and_the_original_stays(api, org, clock):
    a, _ = await overdue(api, org, clock)
    admin = org.token(org.admin)
    original = (clock.now() - 10 * DAY).isoformat()
    later = (clock.now() + 20 * DAY).isoformat()
    done = await ok(
        api,
        EXTEND,
        {"input": {"assignment": a["id"], "dueDate": later, "reason": "Broken leg"}},
        admin,
        "extendDueDate",
    )
    assert done["assignment"] == {"status": "NOT_STARTED", "dueDate": later}
    found = await cycle(api, org, a)
    assert found["originalDueDate"] == original
    assert found["extensions"] == [
        {
            "fromDueDate": original,
            "toDueDate": later,
            "reason": "Broken leg",
            "by": {"email": org.admin.email},
            "request": None,
        }
    ]
    assert await kinds(api, org.token(org.learner)) == ["EXTENSION_GRANTED"]
    sooner = await api.data(
        EXTEND, {"input": {"assignment": a["id"], "dueDate": original, "reason": "x"}}, token=admin
    )
    assert codes(sooner["extendDueDate"]) == [("dueDate", "OUT_OF_RANGE")]


async def test_a_completed_cycle_is_extended_no_more(api, org, clock):
    a, c = await overdue(api, org, clock)
    await take_course(api, org.token(org.learner), c, assignment=a["id"])
    later = (clock.now() + 20 * DAY).isoformat()
    refused = await api.data(
        EXTEND,
        {"input": {"assignment": a["id"], "dueDate": later, "reason": "x"}},
        token=org.token(org.admin),
    )
    assert codes(refused["extendDueDate"]) == [("assignment", "ALREADY_COMPLETED")]


async def test_a_learner_asks_and_their_manager_grants(api, db, org, clock):
    _, _, maya = await ward(api, db, org)
    a, _ = await overdue(api, org, clock)
    lee = org.token(org.learner)
    wanted = (clock.now() + 14 * DAY).isoformat()
    asked = await ask(api, lee, a, wanted, "On leave")
    request = asked["request"]
    assert request["status"] == "PENDING"
    again = await api.data(
        REQUEST, {"input": {"assignment": a["id"], "dueDate": wanted, "reason": "x"}}, token=lee
    )
    assert codes(again["requestExtension"]) == [("assignment", "EXTENSION_PENDING")]
    assert await kinds(api, maya) == ["EXTENSION_REQUESTED"]
    assert await kinds(api, org.token(org.admin)) == []  # Lee has a manager
    for token in (maya, lee, org.token(org.admin)):
        listed = (await api.data(WAITING, token=token))["extensionRequests"]["edges"]
        assert [e["node"]["id"] for e in listed] == [request["id"]]
    granted = await ok(
        api,
        GRANT,
        {"input": {"request": request["id"], "note": "Approved"}},
        maya,
        "grantExtension",
    )
    assert granted["request"]["status"] == "GRANTED"
    found = await cycle(api, org, a)
    assert found["dueDate"] == wanted
    assert found["status"] == "NOT_STARTED"
    assert found["extensions"][0]["request"] == {"id": request["id"]}
    assert found["extensionRequests"][0]["reviewedBy"] == {"email": "maya@acmehealth.test"}
    assert await kinds(api, lee) == ["EXTENSION_GRANTED"]
    twice = await api.data(GRANT, {"input": {"request": request["id"]}}, token=maya)
    assert codes(twice["grantExtension"]) == [("request", "ALREADY_REVIEWED")]
    assert (await api.data(WAITING, token=maya))["extensionRequests"]["edges"] == []


async def test_a_denial_says_why_and_moves_nothing(api, org, clock):
    a, _ = await overdue(api, org, clock)
    lee = org.token(org.learner)
    asked = await ask(api, lee, a, (clock.now() + 14 * DAY).isoformat(), "Busy")
    admin = org.token(org.admin)
    unexplained = await api.data(
        DENY, {"input": {"request": asked["request"]["id"], "note": " "}}, token=admin
    )
    assert codes(unexplained["denyExtension"]) == [("note", "REQUIRED")]
    denied = await ok(
        api,
        DENY,
        {"input": {"request": asked["request"]["id"], "note": "Not a reason"}},
        admin,
        "denyExtension",
    )
    assert denied["request"] == {
        "id": asked["request"]["id"],
        "status": "DENIED",
        "reviewNote": "Not a reason",
    }
    assert (await cycle(api, org, a))["status"] == "OVERDUE"
    assert await kinds(api, lee) == ["EXTENSION_DENIED"]


async def test_who_may_extend_and_ask(api, db, org, clock):
    _, _, maya = await ward(api, db, org)
    mine, _ = await overdue(api, org, clock, org.learner)
    theirs, _ = await overdue(api, org, clock, org.other_learner)
    later = (clock.now() + 20 * DAY).isoformat()
    refused = await api.data(
        EXTEND, {"input": {"assignment": theirs["id"], "dueDate": later, "reason": "x"}}, token=maya
    )
    assert codes(refused["extendDueDate"]) == [("assignment", "NOT_FOUND")]
    body = await api.call(
        EXTEND,
        {"input": {"assignment": mine["id"], "dueDate": later, "reason": "x"}},
        token=org.token(org.learner),
    )
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    foreign = await api.data(
        REQUEST,
        {"input": {"assignment": theirs["id"], "dueDate": later, "reason": "x"}},
        token=org.token(org.learner),
    )
    assert codes(foreign["requestExtension"]) == [("assignment", "NOT_FOUND")]
    bad = await api.data(
        GRANT, {"input": {"request": gid("ExtensionRequest", "0" * 24)}}, token=maya
    )
    assert codes(bad["grantExtension"]) == [("request", "NOT_FOUND")]


async def test_a_grant_interrupted_before_its_cycle_moved_is_applied_at_the_next_start(
    api, org, clock, start_app, monkeypatch
):
    a, _ = await overdue(api, org, clock)
    lee = org.token(org.learner)
    wanted = (clock.now() + 14 * DAY).isoformat()
    asked = await ask(api, lee, a, wanted, "Leave")

    async def died(*args, **kwargs):
        raise RuntimeError("the process died here")

    monkeypatch.setattr(stored_assignments, "revise", died)
    body = await api.call(
        GRANT, {"input": {"request": asked["request"]["id"]}}, token=org.token(org.admin)
    )
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert (await cycle(api, org, a))["status"] == "OVERDUE"
    monkeypatch.undo()
    async with start_app():  # the start-up repair applies the grant
        pass
    found = await cycle(api, org, a)
    assert found["dueDate"] == wanted
    assert len(found["extensions"]) == 1
    async with start_app():  # and only once
        pass
    assert len((await cycle(api, org, a))["extensions"]) == 1


async def test_a_grant_that_could_change_nothing_is_refused(api, org, clock):
    a, c = await overdue(api, org, clock)
    lee = org.token(org.learner)
    wanted = (clock.now() + 14 * DAY).isoformat()
    asked = await ask(api, lee, a, wanted, "Leave")
    admin = org.token(org.admin)
    beyond = (clock.now() + 30 * DAY).isoformat()
    await ok(api, EXTEND, {"input": {"assignment": a["id"], "dueDate": beyond, "reason": "x"}},
             admin, "extendDueDate")  # fmt: skip
    moot = await api.data(GRANT, {"input": {"request": asked["request"]["id"]}}, token=admin)
    assert codes(moot["grantExtension"]) == [("request", "OUT_OF_RANGE")]
    await take_course(api, lee, c, assignment=a["id"])
    done = await api.data(GRANT, {"input": {"request": asked["request"]["id"]}}, token=admin)
    assert codes(done["grantExtension"]) == [("request", "ALREADY_COMPLETED")]
    waiting = (await api.data(WAITING, token=admin))["extensionRequests"]["edges"]
    assert len(waiting) == 1  # still to be decided: denied, say
