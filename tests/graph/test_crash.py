"""A crash between an approval and what follows from it is repaired, not left half-done."""

from __future__ import annotations

from datetime import timedelta

from resolvers import records as record_resolvers
from tests.helpers import (
    APPROVE,
    SUBMIT,
    assign,
    assignment,
    cpr_setup,
    credential,
    document_input,
    gid,
    label,
    submit,
    take_course,
)


async def died(*args, **kwargs):
    raise RuntimeError("the process died here")


async def test_an_approval_interrupted_before_re_evaluation_is_completed_on_restart(
    api, org, clock, start_app, monkeypatch
):
    bls, cpr, _, a = await cpr_setup(api, org)
    learner = org.token(org.learner)
    await take_course(api, learner, cpr, assignment=a["id"])
    record = (await submit(api, learner, document_input(label=bls, title="BLS")))["record"]

    monkeypatch.setattr(record_resolvers, "settle", died)
    body = await api.call(APPROVE, {"record": record["id"]}, token=org.token(org.admin))
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert (await assignment(api, learner, a["id"]))["status"] == "IN_PROGRESS"
    monkeypatch.undo()
    query = {
        "query": "query($id: ID!) { node(id: $id) { ... on CredentialAssignment"
        " { status completedAt } } }",
        "variables": {"id": a["id"]},
    }
    stale = await api.http.post(
        "/graphql", json=query, headers={"Authorization": f"Bearer {learner}"}
    )

    # The evidence was stored first; the restarted server's reconciliation finishes the work.
    async with start_app() as restarted:
        response = await restarted.http.post(
            "/graphql",
            json=query,
            headers={"Authorization": f"Bearer {learner}", "If-None-Match": stale.headers["etag"]},
        )
    assert response.status_code == 200, "the repair advanced the data version"
    node = response.json()["data"]["node"]
    assert node["status"] == "COMPLETED"
    assert node["completedAt"] == clock.now().isoformat()


async def test_a_decision_the_learner_was_not_told_of_is_told_on_restart(
    api, org, clock, start_app, monkeypatch
):
    bls, *_ = await cpr_setup(api, org)
    learner = org.token(org.learner)
    record = (await submit(api, learner, document_input(label=bls, title="BLS")))["record"]

    monkeypatch.setattr(record_resolvers.notifications, "notify", died)
    body = await api.call(APPROVE, {"record": record["id"]}, token=org.token(org.admin))
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    monkeypatch.undo()
    inbox = "{ me { notifications { edges { node { kind } } } } }"
    kinds = [
        e["node"]["kind"]
        for e in (await api.data(inbox, token=learner))["me"]["notifications"]["edges"]
    ]
    assert "RECORD_APPROVED" not in kinds

    async with start_app():
        pass  # a restart: its repair runs before it serves
    kinds = [
        e["node"]["kind"]
        for e in (await api.data(inbox, token=learner))["me"]["notifications"]["edges"]
    ]
    assert kinds.count("RECORD_APPROVED") == 1


async def test_the_learners_next_event_repairs_it_too(api, org, monkeypatch):
    bls, cpr, _, a = await cpr_setup(api, org)
    learner = org.token(org.learner)
    record = (await submit(api, learner, document_input(label=bls, title="BLS")))["record"]

    monkeypatch.setattr(record_resolvers, "settle", died)
    await api.call(APPROVE, {"record": record["id"]}, token=org.token(org.admin))
    monkeypatch.undo()
    await take_course(api, learner, cpr, assignment=a["id"])
    assert (await assignment(api, learner, a["id"]))["status"] == "COMPLETED"


async def test_an_extension_interrupted_before_re_evaluation_is_derived_on_restart(
    api, org, clock, start_app, monkeypatch
):
    """No cycle is open (the credential does not renew), so only the marker left on the
    evidence tells the start-up pass whom to settle."""
    fire = await label(api, org, "Fire Safety")
    cred = await credential(api, org, "Fire", {"trainingRecord": {"label": fire}})
    (a,) = await assign(api, org, cred["id"], [org.learner])
    admin, learner = org.token(org.admin), org.token(org.learner)

    async def done(days_ago: int) -> dict:
        fields = {
            "type": "ADDITIONAL_TRAINING",
            "learner": gid("User", org.learner.id),
            "label": fire,
            "title": "Fire Safety",
            "completedAt": (clock.now() - timedelta(days=days_ago)).isoformat(),
        }
        return await api.call(SUBMIT, {"input": fields}, token=admin)

    await done(10)
    first = await assignment(api, learner, a["id"])
    assert first["status"] == "COMPLETED"

    monkeypatch.setattr(record_resolvers, "settle", died)
    body = await done(0)
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    monkeypatch.undo()
    assert (await assignment(api, learner, a["id"]))["validUntil"] == first["validUntil"]

    async with start_app():
        pass  # a restart: its repair runs before it serves
    extended = await assignment(api, learner, a["id"])
    assert extended["completedAt"] == first["completedAt"]
    assert extended["validUntil"] == clock.now().replace(year=clock.now().year + 2).isoformat()
