"""`POST /verify` refuses what was tampered with, signed by another, or is no credential at all,
with a stable reason — and never a server error, whatever it is sent."""

from __future__ import annotations

import json
from dataclasses import replace

import jwt
import pytest
from bson import ObjectId

from resolvers import signing
from resolvers.verification import MAX_PRESENTED
from store import status_entries
from tests.verifiable import BASE, b64decode, b64encode, earned, export, parts, verify


@pytest.fixture
def settings(settings):
    return replace(settings, public_url=BASE)


@pytest.fixture
async def presented(api, org) -> dict:
    cycle = await earned(api, org)
    return (await export(api, org.token(org.learner), cycle["id"]))["verifiableCredential"]


def reassembled(header: dict, payload: dict, signature: str) -> str:
    encode = lambda part: b64encode(json.dumps(part, separators=(",", ":")).encode())  # noqa: E731
    return f"{encode(header)}.{encode(payload)}.{signature}"


async def reason(http, token: str) -> tuple[int, bool, str | None]:
    answer = await verify(http, token)
    body = answer.json()
    return answer.status_code, body["valid"], body.get("reason")


async def test_a_changed_claim_breaks_the_signature(http, presented):
    header, payload, _ = parts(presented["jwt"])
    signature = presented["jwt"].rsplit(".", 1)[1]
    for changed in (
        {**payload, "name": "Brain Surgery"},
        {**payload, "validUntil": "2099-01-01T00:00:00Z"},
        {**payload, "credentialStatus": {**payload["credentialStatus"], "statusListIndex": "7"}},
    ):
        assert await reason(http, reassembled(header, changed, signature)) == (
            200, False, "BAD_SIGNATURE",
        )  # fmt: skip


async def test_a_changed_signature_is_refused(http, presented):
    body, signature = presented["jwt"].rsplit(".", 1)
    flipped = bytearray(signature.encode())
    flipped[5] = ord("A") if flipped[5] != ord("A") else ord("B")
    assert await reason(http, f"{body}.{flipped.decode()}") == (200, False, "BAD_SIGNATURE")


async def test_another_organizations_key_verifies_nothing_of_this_one(
    api, http, db, org, foreign_org, settings, clock, presented
):
    await earned(api, foreign_org)  # it has a key of its own
    theirs = await signing.signer(db, foreign_org.id, secret=settings.secret, now=clock.now())
    header, payload, _ = parts(presented["jwt"])
    kid = theirs.key.kid
    as_them = jwt.encode(payload, theirs.private, algorithm="EdDSA", headers={"kid": kid})
    assert await reason(http, as_them) == (200, False, "UNKNOWN_KEY")
    posing = jwt.encode(payload, theirs.private, algorithm="EdDSA", headers={"kid": header["kid"]})
    assert await reason(http, posing) == (200, False, "BAD_SIGNATURE")
    renamed = {**payload, "issuer": {**payload["issuer"], "id": f"{BASE}/issuers/{foreign_org.id}"}}
    signature = presented["jwt"].rsplit(".", 1)[1]
    assert await reason(http, reassembled(header, renamed, signature)) == (
        200, False, "UNKNOWN_KEY",
    )  # fmt: skip


async def test_no_algorithm_but_eddsa_reaches_a_key(http, presented, db, org):
    header, payload, _ = parts(presented["jwt"])
    unsigned = reassembled({**header, "alg": "none"}, payload, "")
    assert await reason(http, unsigned) == (200, False, "UNSUPPORTED_ALGORITHM")
    jwks = (await http.get(f"/issuers/{org.id}/jwks")).json()
    public = jwks["keys"][0]["x"].encode()  # an HMAC keyed with the published key
    confused = jwt.encode(payload, public, algorithm="HS256", headers={"kid": header["kid"]})
    assert await reason(http, confused) == (200, False, "UNSUPPORTED_ALGORITHM")


async def test_a_credential_of_another_issuer_is_not_ours_to_vouch_for(http, presented):
    header, payload, _ = parts(presented["jwt"])
    elsewhere = {**payload, "issuer": "https://issuer.example.org/profile"}
    signature = presented["jwt"].rsplit(".", 1)[1]
    assert await reason(http, reassembled(header, elsewhere, signature)) == (
        200, False, "UNKNOWN_ISSUER",
    )  # fmt: skip


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"hello",
        b"a.b.c",
        b"\xff\xfe.\x00.\x01",
        b'{"credential": 5}',
        b'{"credential": "not a jwt"}',
        b"[1, 2, 3]",
        b'"eyJhbGciOiJFZERTQSJ9.e30"',
        b"eyJhbGciOiJFZERTQSJ9.bm90IGpzb24.c2ln",  # a payload that is not JSON
        b"eyJhbGciOiJFZERTQSJ9.WzFd.c2ln",  # a JSON payload that is no object
    ],
)
async def test_garbage_is_a_clear_400(http, body):
    answer = await verify(http, body, "text/plain")
    assert answer.status_code == 400
    assert answer.json()["valid"] is False
    assert answer.json()["reason"] == "MALFORMED"


@pytest.mark.parametrize(
    "body",
    [
        b'{"a":' * 12_000,  # JSON nested deeper than Python reads
        b64encode(b"[" * 40_000).encode() + b".e30.c2ln",  # in the header
        b"eyJhbGciOiJFZERTQSJ9." + b64encode(b"[" * 40_000).encode() + b".c2ln",  # payload
    ],
)
async def test_deep_nesting_is_a_clear_400(http, body):
    answer = await verify(http, body, "application/json")
    assert answer.status_code == 400
    assert answer.json()["reason"] == "MALFORMED"


async def test_a_huge_body_is_refused_unread(http):
    answer = await verify(http, b"e" * (MAX_PRESENTED + 1))
    assert answer.status_code == 413
    assert answer.json()["reason"] == "MALFORMED"


async def test_a_signed_payload_that_is_no_credential_is_refused(
    api, http, db, org, settings, clock, presented
):
    ours = await signing.signer(db, org.id, secret=settings.secret, now=clock.now())
    _, payload, _ = parts(presented["jwt"])
    nameless = {k: v for k, v in payload.items() if k != "issuer"}
    for broken in ({**payload, "type": ["Badge"]}, {**payload, "validFrom": "soon"},
                   {**payload, "type": ["VerifiableCredential"]}, nameless,
                   {**payload, "@context": ["https://example.org/ctx"]}):  # fmt: skip
        assert await reason(http, ours.sign(broken)) == (200, False, "NOT_A_CREDENTIAL")
    entry = payload["credentialStatus"]
    status_list = (await http.get(entry["statusListCredential"].removeprefix(BASE))).text
    assert await reason(http, status_list) == (200, False, "NOT_A_CREDENTIAL"), (
        "the issuer's own status list, signed by its key, is no credential of anyone's"
    )
    elsewhere = {**payload["credentialStatus"], "statusListCredential": "https://x.test/l/1"}
    assert await reason(http, ours.sign({**payload, "credentialStatus": elsewhere})) == (
        200, False, "UNKNOWN_STATUS_LIST",
    )  # fmt: skip


async def test_the_published_routes_name_only_what_exists(api, http, db, org):
    assert (await http.get("/issuers/000000000000000000000000/jwks")).status_code == 404
    assert (await http.get("/issuers/not-an-id")).status_code == 404
    assert (await http.get(f"/issuers/{org.id}/jwks")).json() == {"keys": []}
    assert (await http.get(f"/status/{org.id}/0")).status_code == 404, "no list given out yet"
    assert await db.db.signingKeys.count_documents({}) == 0, "and no key made for asking"
    await earned(api, org)
    await export(api, org.token(org.learner), (await earned(api, org, name="BLS"))["id"])
    assert (await http.get(f"/status/{org.id}/0")).status_code == 200
    assert (await http.get(f"/status/{org.id}/1")).status_code == 404
    assert (await http.get(f"/status/{org.id}/99999999999999999999")).status_code == 404
    profile = (await http.get(f"/issuers/{org.id}")).json()
    assert profile["id"] == f"{BASE}/issuers/{org.id}"
    assert profile["name"] == "Acme Health"


async def test_anyones_status_and_verify_read_no_more_for_a_fuller_list(
    http, db, org, presented, commands
):
    """`/status` and `/verify` answer anyone: what they read grows with the revocations, never
    with the cycles placed in the list (up to 131,072 each)."""

    async def reads() -> list[tuple[str, str]]:
        commands.targets.clear()
        assert (await http.get(f"/status/{org.id}/0")).status_code == 200
        assert (await verify(http, presented["jwt"])).json()["valid"] is True
        return list(commands.targets)

    few = await reads()
    others = [(str(ObjectId()), 0) for _ in range(500)]  # credentials placed, none revoked
    await status_entries.place(db, org_id=org.id, editions=others)
    assert await reads() == few


async def test_one_credential_has_one_spelling(http, db, org, settings, clock, presented):
    """Padding, a name given twice, a number JSON has not: each another reading of the bytes
    the signature covers, refused before any key is looked up."""
    token = presented["jwt"]
    head, body, signature = token.split(".")
    assert await reason(http, f"{head}.{body}.{signature}==") == (400, False, "MALFORMED")
    assert await reason(http, f"{head}=.{body}.{signature}") == (400, False, "MALFORMED")
    ours = await signing.signer(db, org.id, secret=settings.secret, now=clock.now())
    _, payload, _ = parts(token)
    signed = ours.sign(payload)
    twice = signed.split(".")
    raw = b64decode(twice[1]).decode()
    for spelled in (raw[:-1] + ',"name":"Other"}', raw[:-1] + ',"weight":NaN}'):
        forged = f"{twice[0]}.{b64encode(spelled.encode())}.{twice[2]}"
        assert await reason(http, forged) == (400, False, "MALFORMED")


async def test_text_in_any_script_is_carried_as_utf8_and_verifies(api, http, org):
    """Names and instructions in Japanese are not escaped six bytes a character."""
    cycle = await earned(api, org, name="心肺蘇生法の認定")
    vc = (await export(api, org.token(org.learner), cycle["id"]))["verifiableCredential"]
    _, payload, _ = parts(vc["jwt"])
    assert payload["name"] == "心肺蘇生法の認定"
    assert "心肺蘇生法".encode() in b64decode(vc["jwt"].split(".")[1])
    assert (await verify(http, vc["jwt"])).json()["valid"] is True


async def test_any_origin_reads_the_public_routes_and_nothing_else(api, http, org, presented):
    """A browser wallet on any site verifies and reads lists and keys; the API stays closed
    to origins not configured. Every address answers in JSON, and a list has one address."""
    wallet = {"Origin": "https://wallet.example"}
    asked = await http.options(
        "/verify", headers={**wallet, "Access-Control-Request-Method": "POST",
                            "Access-Control-Request-Headers": "content-type"},
    )  # fmt: skip
    assert asked.status_code == 204
    assert asked.headers["access-control-allow-origin"] == "*"
    assert "content-type" in asked.headers["access-control-allow-headers"].lower()
    checked = await http.post("/verify", content=presented["jwt"], headers=wallet)
    assert (checked.json()["valid"], checked.headers["access-control-allow-origin"]) == (True, "*")
    listed = presented["credential"]["credentialStatus"]["statusListCredential"]
    for path in (listed.removeprefix(BASE), f"/issuers/{org.id}/jwks", f"/issuers/{org.id}"):
        answer = await http.get(path, headers=wallet)
        assert (answer.status_code, answer.headers["access-control-allow-origin"]) == (200, "*")
    api_call = await http.post("/graphql", json={"query": "{ __typename }"}, headers=wallet)
    assert "access-control-allow-origin" not in api_call.headers
    for path, status in ((f"/status/{org.id}/00", 404), (f"/status/{org.id}/-1", 404),
                         ("/nowhere", 404), ("/verify", 405)):  # fmt: skip
        answer = await http.get(path)
        assert answer.status_code == status, path
        assert answer.json()["errors"][0]["extensions"]["code"] in (
            "NOT_FOUND",
            "METHOD_NOT_ALLOWED",
        )
