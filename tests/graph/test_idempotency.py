"""Idempotency keys: scoped to the caller and the learner, and bound to the request they made."""

from __future__ import annotations

import asyncio

from tests.helpers import gid

SUBMIT = """
mutation($input: SubmitTrainingRecordInput!) {
  submitTrainingRecord(input: $input) {
    record { id title learner { email } }
    userErrors { field code }
  }
}"""


def training(title: str, **extra) -> dict:
    return {
        "type": "ADDITIONAL_TRAINING",
        "title": title,
        "completedAt": "2026-02-01T00:00:00Z",
        "idempotencyKey": "k-1",
        **extra,
    }


async def send(api, token: str, fields: dict) -> dict:
    return (await api.data(SUBMIT, {"input": fields}, token=token))["submitTrainingRecord"]


async def test_an_administrators_key_reused_for_another_learner_is_another_submission(api, org):
    admin = org.token(org.admin)
    first = await send(api, admin, training("Fire", learner=gid("User", org.learner.id)))
    second = await send(api, admin, training("Fire", learner=gid("User", org.other_learner.id)))
    assert first["userErrors"] == second["userErrors"] == []
    assert first["record"]["id"] != second["record"]["id"]
    assert second["record"]["learner"]["email"] == org.other_learner.email


async def test_a_retry_returns_the_first_record(api, org):
    token = org.token(org.learner)
    first = await send(api, token, training("Fire"))
    again = await send(api, token, training("Fire", learner=gid("User", org.learner.id)))
    assert again["record"]["id"] == first["record"]["id"]


async def test_the_same_key_with_another_request_is_refused(api, org):
    token = org.token(org.learner)
    await send(api, token, training("Fire"))
    other = await send(api, token, training("Hygiene"))
    assert other == {
        "record": None,
        "userErrors": [{"field": "idempotencyKey", "code": "IDEMPOTENCY_KEY_REUSED"}],
    }


async def test_concurrent_retries_make_one_record(api, org):
    token = org.token(org.learner)
    answers = await asyncio.gather(*(send(api, token, training("Fire")) for _ in range(8)))
    assert len({a["record"]["id"] for a in answers}) == 1
    listing = await api.data("{ me { trainingRecords { totalCount } } }", token=token)
    assert listing["me"]["trainingRecords"]["totalCount"] == 1
