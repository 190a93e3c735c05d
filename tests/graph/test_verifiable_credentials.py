"""A completed cycle exports as a signed Open Badges 3.0 credential that a third party can
check: with `POST /verify`, and with its own code against the published keys and status list."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from resolvers import contexts
from tests.helpers import REVOKE_RECORD, assign, course, credential, licensed, ok
from tests.verifiable import (
    BASE,
    IMAGE,
    bit,
    earned,
    expanded,
    export,
    parts,
    signature_holds,
    types_in,
    verify,
)

OB = "https://purl.imsglobal.org/spec/vc/ob/vocab.html#"


@pytest.fixture
def settings(settings):
    return replace(settings, public_url=BASE)


async def test_an_open_cycle_has_no_verifiable_credential(api, org):
    made = await credential(api, org, "Fire safety", {"course": await course(api, org, "Fire")})
    (cycle,) = await assign(api, org, made["id"], [org.learner])
    found = await export(api, org.token(org.learner), cycle["id"])
    assert found["completedAt"] is None
    assert found["verifiableCredential"] is None


async def test_a_completed_cycle_exports_an_open_badge(api, org):
    cycle = await earned(api, org)
    found = await export(api, org.token(org.learner), cycle["id"])
    exported = found["verifiableCredential"]
    vc = exported["credential"]
    header, payload, _ = parts(exported["jwt"])

    assert exported["mediaType"] == "application/vc+jwt"
    assert header == {"alg": "EdDSA", "typ": "vc+jwt", "cty": "vc", "kid": exported["keyId"]}
    assert payload == vc, "the JWT's payload is the credential itself"
    assert vc["@context"] == [contexts.CREDENTIALS_V2, contexts.OPEN_BADGES_V3]
    assert vc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert vc["id"].startswith("urn:uuid:")
    assert vc["issuer"] == {
        "id": f"{BASE}/issuers/{org.id}",
        "type": ["Profile"],
        "name": "Acme Health",
    }
    assert vc["validFrom"] == found["validFrom"].replace("+00:00", "Z")
    assert vc["validUntil"] == found["validUntil"].replace("+00:00", "Z")
    achievement = vc["credentialSubject"]["achievement"]
    assert achievement["name"] == vc["name"] == "CPR Certification"
    assert achievement["description"] == "Keep your CPR current."
    assert achievement["criteria"]["narrative"] == (
        "- Complete all of:\n  - CPR Certification online\n  - CPR Certification skills"
    )
    assert achievement["image"] == {"id": IMAGE, "type": "Image"}
    assert [e["name"] for e in vc["evidence"]] == [
        "CPR Certification online",
        "CPR Certification skills",
    ]
    assert {e["genre"] for e in vc["evidence"]} == {"Course completion"}
    assert vc["credentialStatus"] == {
        "id": f"{BASE}/status/{org.id}/0#0",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "0",
        "statusListCredential": f"{BASE}/status/{org.id}/0",
    }


async def test_the_learner_is_named_by_a_salted_hash_of_their_email_only(api, org):
    cycle = await earned(api, org)
    exported = (await export(api, org.token(org.learner), cycle["id"]))["verifiableCredential"]
    (identity,) = exported["credential"]["credentialSubject"]["identifier"]
    salted = (org.learner.email + identity["salt"]).encode()
    assert identity == {
        "type": "IdentityObject",
        "identityHash": "sha256$" + hashlib.sha256(salted).hexdigest(),
        "identityType": "emailAddress",
        "hashed": True,
        "salt": identity["salt"],
    }
    assert len(identity["salt"]) == 32
    assert org.learner.email not in json.dumps(exported["credential"])
    assert org.learner.name not in json.dumps(exported["credential"])


async def test_exporting_twice_gives_the_same_credential(api, org):
    cycle = await earned(api, org)
    first = await export(api, org.token(org.learner), cycle["id"])
    again = await export(api, org.token(org.admin), cycle["id"])
    assert first["verifiableCredential"]["jwt"] == again["verifiableCredential"]["jwt"]


async def test_each_cycle_has_its_own_status_index(api, org):
    first = await earned(api, org, name="CPR")
    second = await earned(api, org, name="BLS")
    indexes = set()
    for cycle in (second, first, second):
        vc = (await export(api, org.token(org.admin), cycle["id"]))["verifiableCredential"]
        indexes.add((cycle["id"], vc["credential"]["credentialStatus"]["statusListIndex"]))
    assert indexes == {(second["id"], "0"), (first["id"], "1")}, "given once, on first export"


async def test_the_credential_expands_with_the_shipped_contexts_dropping_nothing(api, org):
    cycle = await earned(api, org)
    vc = (await export(api, org.token(org.learner), cycle["id"]))["verifiableCredential"]
    found, dropped = expanded(vc["credential"])
    assert dropped == []
    types = types_in(found)
    assert f"{OB}OpenBadgeCredential" in types
    assert f"{OB}AchievementSubject" in types
    assert f"{OB}IdentityObject" in types
    assert all(t.startswith("https://") for t in types), types
    subject = found[0]["https://www.w3.org/2018/credentials#credentialSubject"][0]
    (identity,) = subject[f"{OB}identifier"]
    boolean = "https://www.w3.org/2001/XMLSchema#boolean"
    assert identity[f"{OB}hashed"] == [{"@type": boolean, "@value": True}]
    # and a term no context defines would have been caught
    assert expanded({**vc["credential"], "nickname": "Lee"})[1] == ["nickname"]


async def test_the_shipped_contexts_are_the_published_ones():
    """The VC 2.0 Recommendation publishes its context's SHA-256; the OB 3.0.3 context is the
    1EdTech repository's, whose digest is pinned here."""
    digests = {
        url: hashlib.sha256(contexts.text(url).encode()).hexdigest() for url in contexts.SHIPPED
    }
    assert digests == {
        contexts.CREDENTIALS_V2: "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734",
        contexts.OPEN_BADGES_V3: "ef2fa9c7846dce233cc166b43639027278be4ee44f00bb1d45c75de2dd0cd761",
    }


async def test_a_third_party_verifies_signature_and_status_with_its_own_code(api, http, org):
    cycle = await earned(api, org)
    vc = (await export(api, org.token(org.learner), cycle["id"]))["verifiableCredential"]
    jwks = (await http.get(f"/issuers/{org.id}/jwks")).json()
    assert signature_holds(vc["jwt"], jwks)

    entry = vc["credential"]["credentialStatus"]
    listed = await http.get(entry["statusListCredential"].removeprefix(BASE))
    assert listed.status_code == 200
    assert listed.headers["content-type"] == "application/vc+jwt"
    assert signature_holds(listed.text, jwks), "the status list is signed by the issuer too"
    _, status_vc, _ = parts(listed.text)
    assert status_vc["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert status_vc["issuer"] == vc["credential"]["issuer"]["id"]
    subject = status_vc["credentialSubject"]
    assert subject["statusPurpose"] == "revocation"
    # a copy kept from before a revocation is not current for long: ten minutes, cached one
    issued = datetime.fromisoformat(status_vc["validFrom"])
    assert datetime.fromisoformat(status_vc["validUntil"]) - issued == timedelta(minutes=10)
    assert subject["ttl"] == 60_000
    assert bit(subject["encodedList"], int(entry["statusListIndex"])) == 0
    assert expanded(status_vc)[1] == [], "its terms are the VC 2.0 context's"


async def test_the_public_route_verifies_it(api, http, org):
    cycle = await earned(api, org)
    vc = (await export(api, org.token(org.learner), cycle["id"]))["verifiableCredential"]
    answer = await verify(http, vc["jwt"])
    assert answer.status_code == 200
    assert answer.json() == {
        "valid": True,
        "message": "the credential is authentic, in force and not revoked",
        "checks": ["signature", "validity", "status"],
        "keyId": vc["keyId"],
        "credential": {
            "id": vc["credential"]["id"],
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "issuer": f"{BASE}/issuers/{org.id}",
            "name": "CPR Certification",
            "validFrom": vc["credential"]["validFrom"],
            "validUntil": vc["credential"]["validUntil"],
        },
    }
    wrapped = json.dumps({"credential": vc["jwt"]})
    assert (await verify(http, wrapped, "application/json")).json()["valid"] is True
    enveloped = json.dumps({"id": f"data:application/vc+jwt,{vc['jwt']}"})
    assert (await verify(http, enveloped, "application/json")).json()["valid"] is True


REVOKE = """
mutation($input: RevokeAssignmentInput!) {
  revokeAssignment(input: $input) { assignment { status } userErrors { field code } }
}"""


async def test_a_revoked_cycle_stops_verifying(api, http, org):
    cycle = await earned(api, org)
    kept = await earned(api, org, name="BLS")
    vc = (await export(api, org.token(org.learner), cycle["id"]))["verifiableCredential"]
    other = (await export(api, org.token(org.learner), kept["id"]))["verifiableCredential"]
    assert (await verify(http, vc["jwt"])).json()["valid"] is True

    revoked = await ok(
        api, REVOKE, {"input": {"assignment": cycle["id"], "reason": "Card was forged"}},
        org.token(org.admin), "revokeAssignment",
    )  # fmt: skip
    assert revoked["assignment"]["status"] == "REVOKED"
    assert (await export(api, org.token(org.learner), cycle["id"]))["verifiableCredential"] is None

    answer = (await verify(http, vc["jwt"])).json()
    assert (answer["valid"], answer["reason"]) == (False, "REVOKED")
    assert (await verify(http, other["jwt"])).json()["valid"] is True

    entry = vc["credential"]["credentialStatus"]
    listed = (await http.get(entry["statusListCredential"].removeprefix(BASE))).text
    encoded = parts(listed)[1]["credentialSubject"]["encodedList"]
    assert bit(encoded, int(entry["statusListIndex"])) == 1
    assert bit(encoded, int(other["credential"]["credentialStatus"]["statusListIndex"])) == 0


async def test_validity_dates_are_checked_with_the_apps_clock(api, http, org, clock):
    cycle = await earned(api, org)
    vc = (await export(api, org.token(org.learner), cycle["id"]))["verifiableCredential"]
    now = clock.now()
    clock.current = now - timedelta(days=1)
    answer = (await verify(http, vc["jwt"])).json()
    assert (answer["valid"], answer["reason"]) == (False, "NOT_YET_VALID")
    clock.current = now + timedelta(days=3 * 365)
    answer = (await verify(http, vc["jwt"])).json()
    assert (answer["valid"], answer["reason"]) == (False, "EXPIRED")
    clock.current = now
    assert (await verify(http, vc["jwt"])).json()["valid"] is True


async def test_withdrawn_evidence_revokes_what_was_exported_and_the_next_edition_verifies(
    api, http, org
):
    """A licence renewed, exported, then found to be the wrong person's: the cycle stays earned
    on the older licence, valid for less. The credential exported on the newer one says more
    than is true, so it is revoked (also in the list a third party reads); the cycle exports
    its next edition — another id and status entry — which verifies, valid as it now is."""
    cycle_id, _, (_, newer) = await licensed(api, org, "2026-01-10", "2026-02-01")
    before = (await export(api, org.token(org.learner), cycle_id))["verifiableCredential"]
    assert (await verify(http, before["jwt"])).json()["valid"] is True
    await ok(api, REVOKE_RECORD, {"input": {"record": newer, "reason": "Wrong person"}},
             org.token(org.admin), "revokeTrainingRecord")  # fmt: skip

    answer = (await verify(http, before["jwt"])).json()
    assert (answer["valid"], answer["reason"]) == (False, "REVOKED")
    entry = before["credential"]["credentialStatus"]
    listed = (await http.get(entry["statusListCredential"].removeprefix(BASE))).text
    encoded = parts(listed)[1]["credentialSubject"]["encodedList"]
    assert bit(encoded, int(entry["statusListIndex"])) == 1

    node = await export(api, org.token(org.learner), cycle_id)
    after = node["verifiableCredential"]
    assert after["credential"]["id"] != before["credential"]["id"]
    assert after["credential"]["validUntil"] < before["credential"]["validUntil"]
    assert after["credential"]["validUntil"] == node["validUntil"].replace("+00:00", "Z")
    index = int(after["credential"]["credentialStatus"]["statusListIndex"])
    assert index != int(entry["statusListIndex"])
    assert bit(encoded, index) == 0
    assert (await verify(http, after["jwt"])).json()["valid"] is True
    again = (await export(api, org.token(org.learner), cycle_id))["verifiableCredential"]
    assert again["credential"] == after["credential"], "the same edition, the same credential"
