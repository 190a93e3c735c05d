"""An organization's signing keys: made on first use, stored sealed, rotated by administrators
without breaking what older keys signed."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from resolvers import signing
from tests.helpers import ok
from tests.verifiable import BASE, ROTATE, earned, export, parts, signature_holds, verify

AUDIT = """
{ auditLog(action: ROTATE_SIGNING_KEY) { edges { node {
  action reason subject { __typename } actor { email } changes { field before after }
} } } }"""


@pytest.fixture
def settings(settings):
    return replace(settings, public_url=BASE)


async def test_a_credential_issued_before_a_rotation_still_verifies(api, http, db, org):
    cycle = await earned(api, org)
    before = (await export(api, org.token(org.learner), cycle["id"]))["verifiableCredential"]

    rotated = await ok(
        api, ROTATE, {"input": {"reason": "yearly rotation"}}, org.token(org.admin),
        "rotateSigningKey",
    )  # fmt: skip
    new_key = rotated["signingKey"]
    assert new_key["keyId"] != before["keyId"]
    assert new_key["keysUrl"] == f"{BASE}/issuers/{org.id}/jwks"

    after = (await export(api, org.token(org.learner), cycle["id"]))["verifiableCredential"]
    assert after["keyId"] == parts(after["jwt"])[0]["kid"] == new_key["keyId"]
    assert after["credential"] == before["credential"], "the same credential, newly signed"
    jwks = (await http.get(f"/issuers/{org.id}/jwks")).json()
    assert [k["kid"] for k in jwks["keys"]] == [new_key["keyId"], before["keyId"]]
    for exported in (before, after):
        assert signature_holds(exported["jwt"], jwks)
        assert (await verify(http, exported["jwt"])).json()["valid"] is True

    logged = await api.data(AUDIT, token=org.token(org.admin))
    assert logged["auditLog"]["edges"] == [{"node": {
        "action": "ROTATE_SIGNING_KEY", "reason": "yearly rotation", "subject": None,
        "actor": {"email": org.admin.email},
        "changes": [{"field": "currentKeyId", "before": before["keyId"],
                     "after": new_key["keyId"]}],
    }}]  # fmt: skip


async def test_only_administrators_rotate(api, org):
    payload = await api.call(
        ROTATE, {"input": {"reason": "mine now"}}, token=org.token(org.learner)
    )
    assert payload["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    refused = await api.data(ROTATE, {"input": {"reason": "  "}}, token=org.token(org.admin))
    assert refused["rotateSigningKey"]["userErrors"] == [{"field": "reason", "code": "REQUIRED"}]


async def test_the_private_key_is_stored_sealed_under_the_servers_secret(
    api, http, db, org, settings, clock
):
    cycle = await earned(api, org)
    before = (await export(api, org.token(org.learner), cycle["id"]))["verifiableCredential"]
    stored = await db.db.signingKeys.find_one({"orgId": {"$exists": True}})
    current = await signing.signer(db, org.id, secret=settings.secret, now=clock.now())
    raw = current.private.private_bytes_raw()
    assert raw not in bytes(stored["sealedPrivateKey"]), "never in clear"
    assert set(stored) >= {"publicKey", "sealedPrivateKey", "kid", "number"}

    # Another secret opens nothing: the next signature is by a new key, the old one still
    # verifies what it signed.
    moved = await signing.signer(db, org.id, secret="another-secret-entirely", now=clock.now())
    assert moved.key.kid != before["keyId"]
    assert moved.key.number == 2
    assert (await verify(http, before["jwt"])).json()["valid"] is True


async def test_racing_first_uses_make_one_key(db, org, settings, clock):
    made = await asyncio.gather(
        *(signing.signer(db, org.id, secret=settings.secret, now=clock.now()) for _ in range(8))
    )
    assert len({m.key.kid for m in made}) == 1
    assert await db.db.signingKeys.count_documents({}) == 1


REVOKE_KEY = """
mutation($input: RevokeSigningKeyInput!) {
  revokeSigningKey(input: $input) { signingKey { keyId revokedAt } userErrors { field code } }
}"""


async def test_a_leaked_key_is_revoked_and_nothing_it_signed_verifies(api, http, db, org):
    """A key that may have leaked: rotated out, then revoked. What it signed — forged or
    genuine — verifies no more; the holder exports again, signed by the current key."""
    admin = org.token(org.admin)
    cycle = await earned(api, org)
    leaked = (await export(api, org.token(org.learner), cycle["id"]))["verifiableCredential"]

    def revoke(key_id: str, reason: str = "found in a public repository"):
        return api.data(REVOKE_KEY, {"input": {"keyId": key_id, "reason": reason}}, token=admin)

    refused = (await revoke(leaked["keyId"]))["revokeSigningKey"]
    assert refused["userErrors"] == [{"field": "keyId", "code": "CURRENT_KEY"}]
    await ok(api, ROTATE, {"input": {"reason": "leak"}}, admin, "rotateSigningKey")
    revoked = (await revoke(leaked["keyId"]))["revokeSigningKey"]
    assert revoked["userErrors"] == []
    assert revoked["signingKey"]["keyId"] == leaked["keyId"]
    assert revoked["signingKey"]["revokedAt"] is not None

    answer = (await verify(http, leaked["jwt"])).json()
    assert (answer["valid"], answer["reason"]) == (False, "KEY_REVOKED")
    jwks = (await http.get(f"/issuers/{org.id}/jwks")).json()
    assert leaked["keyId"] not in [k["kid"] for k in jwks["keys"]]
    again = (await export(api, org.token(org.learner), cycle["id"]))["verifiableCredential"]
    assert again["keyId"] != leaked["keyId"]
    assert (await verify(http, again["jwt"])).json()["valid"] is True

    twice = (await revoke(leaked["keyId"]))["revokeSigningKey"]
    assert twice["userErrors"] == [{"field": "keyId", "code": "ALREADY_REVOKED"}]
    unknown = (await revoke("no-such-key"))["revokeSigningKey"]
    assert unknown["userErrors"] == [{"field": "keyId", "code": "NOT_FOUND"}]
    forbidden = await api.call(
        REVOKE_KEY, {"input": {"keyId": again["keyId"], "reason": "x"}},
        token=org.token(org.learner),
    )  # fmt: skip
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    logged = await api.data(
        "{ auditLog(action: REVOKE_SIGNING_KEY) { edges { node { reason } } } }", token=admin
    )
    assert logged["auditLog"]["edges"] == [{"node": {"reason": "found in a public repository"}}]
