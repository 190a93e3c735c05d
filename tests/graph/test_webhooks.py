"""Webhooks: a receiver on loopback gets every event at least once and in order, each signed,
while it fails, times out and recovers; one that fails for a day is paused and the
administrators told; receivers on private networks are refused."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import timedelta
from itertools import pairwise

import pytest

from graph.types.feed import FeedEvent
from resolvers import webhooks
from store import webhooks as stored_webhooks
from tests.helpers import (
    APPROVE,
    assign,
    course,
    cpr_setup,
    credential,
    document_input,
    follow,
    ok,
    submit,
)
from tests.receiver import Receiver

CREATE = """
mutation($input: CreateWebhookInput!) {
  createWebhook(input: $input) {
    webhook { id url kinds position pausedAt } secret userErrors { field code message }
  }
}"""
DEVELOPMENT = """
mutation { updateOrganization(input: {developmentMode: true}) {
  organization { developmentMode } userErrors { code }
} }"""
DELIVERIES = """
query($webhook: ID!) { webhookDeliveries(webhook: $webhook, first: 50) {
  totalCount edges { node { cursor kind attempt status error } }
} }"""
WEBHOOK = """
query($id: ID!) { node(id: $id) { ... on Webhook { pausedAt pauseReason failingSince position } } }
"""
RESUME = """
mutation($webhook: ID!) { resumeWebhook(input: {webhook: $webhook}) {
  webhook { pausedAt } userErrors { code }
} }"""
INBOX = "{ me { notifications { edges { node { kind subject { ... on Webhook { id } } } } } } }"


async def hooked(api, org, url: str, **extra) -> tuple[str, str]:
    admin = org.token(org.admin)
    await ok(api, DEVELOPMENT, {}, admin, "updateOrganization")
    made = await ok(api, CREATE, {"input": {"url": url, **extra}}, admin, "createWebhook")
    return made["webhook"]["id"], made["secret"]


async def dispatched(db, clock, rounds: int = 1) -> None:
    """As the dispatcher does, `rounds` times, each past the last one's retry delay."""
    for _ in range(rounds):
        await webhooks.dispatch(db, now=clock.now(), render=FeedEvent.payload)
        clock.advance(webhooks.LAST_RETRY + timedelta(seconds=1))


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does: recompute the signature over the timestamp and the body."""
    fields = dict(part.split("=", 1) for part in headers["Credgraph-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(fields["v1"], expected.hexdigest())


async def test_a_receiver_gets_every_event_in_order_signed_despite_failures(
    api, db, org, clock, monkeypatch
):
    monkeypatch.setattr(webhooks, "TIMEOUT", 0.3)
    admin = org.token(org.admin)
    bls, _, _, _ = await cpr_setup(api, org)  # before the webhook: not sent
    with Receiver.running() as receiver:
        hook, secret = await hooked(api, org, receiver.url)
        _, start = await follow(api, admin)
        receiver.answers = [500, 0.6, 503]  # fails, times out, fails: then recovers
        card = document_input(label=bls, title="BLS")
        record = (await submit(api, org.token(org.learner), card))["record"]
        await ok(api, APPROVE, {"record": record["id"]}, admin, "approveTrainingRecord")
        await dispatched(db, clock, rounds=6)

    wanted, _ = await follow(api, admin, after=start)
    assert [e["cursor"] for e in receiver.acknowledged] == [e["cursor"] for e in wanted]
    assert [e["id"] for e in receiver.acknowledged] == [e["id"] for e in wanted]
    assert [e["kind"] for e in receiver.acknowledged] == ["RECORD_SUBMITTED", "RECORD_APPROVED"]
    assert receiver.acknowledged[0]["subjectId"] == record["id"]
    assert all(verify(secret, r.headers, r.body) for r in receiver.received)
    assert not verify("whsec_another", receiver.received[0].headers, receiver.received[0].body)
    first = [r for r in receiver.received if r.event["cursor"] == wanted[0]["cursor"]]
    # (the receiver notes a delivery it answered too late after the ones that followed it)
    assert sorted(r.headers["Credgraph-Delivery-Attempt"] for r in first) == ["1", "2", "3", "4"]
    assert len({r.headers["Credgraph-Event-Id"] for r in first}) == 1

    attempts = (await api.data(DELIVERIES, {"webhook": hook}, token=admin))["webhookDeliveries"]
    tried = [(d["attempt"], d["status"]) for d in reversed([e["node"] for e in attempts["edges"]])]
    assert tried == [(1, 500), (2, None), (3, 503), (4, 200), (1, 200)]
    timed_out = attempts["edges"][-2]["node"]
    assert "0.3 s" in timed_out["error"]
    node = (await api.data(WEBHOOK, {"id": hook}, token=admin))["node"]
    assert node == {"pausedAt": None, "pauseReason": None, "failingSince": None,
                    "position": wanted[-1]["cursor"]}  # fmt: skip


async def test_retries_wait_longer_each_time(api, db, org, clock):
    with Receiver.running() as receiver:
        hook, _ = await hooked(api, org, receiver.url)
        receiver.answers = [500] * 10
        c = await course(api, org, "Course")
        await credential(api, org, "Credential", {"course": c})  # no feed event: a definition
        (a,) = await assign(api, org, (await credential(api, org, "Other", {"course": c}))["id"],
                            [org.learner])  # fmt: skip
        await webhooks.dispatch(db, now=clock.now(), render=FeedEvent.payload)
        for _ in range(4):
            tried = len(receiver.received)
            while len(receiver.received) == tried:  # nothing goes before the retry is due
                clock.advance(timedelta(seconds=5))
                await webhooks.dispatch(db, now=clock.now(), render=FeedEvent.payload)
        assert {r.event["subjectId"] for r in receiver.received} == {a["id"]}
        node = (await api.data(WEBHOOK, {"id": hook}, token=org.token(org.admin)))["node"]
        assert node["failingSince"] is not None
    gaps = [r.headers["Credgraph-Signature"].split(",")[0] for r in receiver.received]
    seconds = [int(t.removeprefix("t=")) for t in gaps]
    waits = [b - a for a, b in pairwise(seconds)]
    assert all(later > earlier for earlier, later in pairwise(waits)), waits
    assert waits[0] >= webhooks.FIRST_RETRY.total_seconds() * 0.75


async def test_a_receiver_failing_for_a_day_is_paused_and_the_administrators_told(
    api, db, org, clock
):
    admin = org.token(org.admin)
    with Receiver.running() as receiver:
        hook, _ = await hooked(api, org, receiver.url)
        receiver.answers = [500] * 100
        c = await course(api, org, "Course")
        cred = await credential(api, org, "Credential", {"course": c})
        await assign(api, org, cred["id"], [org.learner])
        await dispatched(db, clock, rounds=30)  # an hour apart: past a day
        admin = org.token(org.admin)
        node = (await api.data(WEBHOOK, {"id": hook}, token=admin))["node"]
        assert node["pausedAt"] is not None
        assert "HTTP 500" in node["pauseReason"]
        tried = len(receiver.received)
        await dispatched(db, clock, rounds=3)
        assert len(receiver.received) == tried, "a paused webhook sends nothing"
        inbox = (await api.data(INBOX, token=admin))["me"]["notifications"]["edges"]
        assert {"kind": "WEBHOOK_PAUSED", "subject": {"id": hook}} in [e["node"] for e in inbox]

        receiver.answers = []  # recovered
        resumed = await ok(api, RESUME, {"webhook": hook}, admin, "resumeWebhook")
        assert resumed["webhook"]["pausedAt"] is None
        await dispatched(db, clock)
        assert [e["kind"] for e in receiver.acknowledged] == ["CREDENTIAL_ASSIGNED"]


async def test_kinds_keep_a_webhook_to_some_events(api, db, org, clock):
    admin = org.token(org.admin)
    bls, _, _, _ = await cpr_setup(api, org)
    with Receiver.running() as receiver:
        await hooked(api, org, receiver.url, kinds=["RECORD_APPROVED"])
        token = org.token(org.learner)
        for title in ("One", "Two"):
            made = await submit(api, token, document_input(label=bls, title=title))
            await ok(api, APPROVE, {"record": made["record"]["id"]}, admin, "approveTrainingRecord")
        await dispatched(db, clock)
    assert [(e["kind"], e["data"]["title"]) for e in receiver.acknowledged] == [
        ("RECORD_APPROVED", "One"), ("RECORD_APPROVED", "Two")
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("url", "development"),
    [
        ("http://127.0.0.1:9/hook", False),  # this machine, outside development mode
        ("https://localhost/hook", False),
        ("https://10.0.0.7/hook", True),  # private networks, in any mode
        ("https://169.254.169.254/latest/meta-data", True),
        ("https://[fd00::1]/hook", True),
        ("https://[::127.0.0.1]/hook", True),  # IPv4 carried in IPv6: compatible, NAT64, 6to4
        ("https://[64:ff9b::a00:1]/hook", True),
        ("https://[2002:7f00:1::]/hook", True),
        ("https://[::ffff:10.0.0.1]/hook", True),
        ("https://224.0.0.1/hook", True),  # multicast
        ("http://hooks.example.com/x", True),  # not https
        ("ftp://hooks.example.com/x", True),
        ("https://user:pw@hooks.example.com/x", True),
        ("https://hooks.example.com/x?token=1", True),
        ("https://hooks.example.com/\nx", True),
        ("https://" + "a" * 2_000 + ".com", True),
    ],
)
async def test_receivers_that_may_not_be_reached_are_refused(api, org, url, development):
    admin = org.token(org.admin)
    if development:
        await ok(api, DEVELOPMENT, {}, admin, "updateOrganization")
    body = await api.data(CREATE, {"input": {"url": url}}, token=admin)
    assert body["createWebhook"]["userErrors"][0]["code"] == "INVALID_URL"
    assert body["createWebhook"]["webhook"] is None


async def test_a_receiver_dripping_its_answer_is_cut_off_at_the_deadline(
    api, db, org, clock, monkeypatch
):
    monkeypatch.setattr(webhooks, "TIMEOUT", 0.5)
    with Receiver.running() as receiver:
        hook, _ = await hooked(api, org, receiver.url)
        receiver.answers = ["drip"]
        c = await course(api, org, "Course")
        await assign(api, org, (await credential(api, org, "C", {"course": c}))["id"],
                     [org.learner])  # fmt: skip
        started = time.monotonic()
        await webhooks.dispatch(db, now=clock.now(), render=FeedEvent.payload)
        assert time.monotonic() - started < 3  # not the minute its drip would take
    attempts = await api.data(DELIVERIES, {"webhook": hook}, token=org.token(org.admin))
    (cut,) = [e["node"] for e in attempts["webhookDeliveries"]["edges"]]
    assert (cut["status"], cut["error"]) == (None, "no answer within 0.5 s")


async def test_a_round_that_listed_a_webhook_before_another_tried_it_sends_nothing(
    api, db, org, clock, monkeypatch
):
    """Two processes' rounds: the second listed the webhook as due before the first's attempt
    failed and put the next one off; it must not try again at once."""
    with Receiver.running() as receiver:
        await hooked(api, org, receiver.url)
        receiver.answers = [500] * 10
        c = await course(api, org, "Course")
        await assign(api, org, (await credential(api, org, "C", {"course": c}))["id"],
                     [org.learner])  # fmt: skip
        listed = await stored_webhooks.due(db, now=clock.now())

        async def as_listed_before(*args: object, **kwargs: object) -> list:
            return listed

        await webhooks.dispatch(db, now=clock.now(), render=FeedEvent.payload)
        monkeypatch.setattr(stored_webhooks, "due", as_listed_before)
        await webhooks.dispatch(db, now=clock.now(), render=FeedEvent.payload)
    assert [r.headers["Credgraph-Delivery-Attempt"] for r in receiver.received] == ["1"]
