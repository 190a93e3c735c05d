"""What the verifiable credential tests share: a completed cycle to export, and the checks a
third party would make with its own code — the signature with `cryptography` on the JWT's
signing input, the status list's bit decoded by hand, the JSON-LD expanded by `pyld` with
only the contexts credgraph ships."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pyld import jsonld

from resolvers import contexts
from tests.helpers import assign, course, credential, take_course

BASE = "https://credentials.example.test"
IMAGE = "https://cdn.example.test/badges/cpr.png"

EXPORT = """
query($id: ID!) {
  node(id: $id) { ... on CredentialAssignment {
    completedAt validFrom validUntil
    verifiableCredential { jwt mediaType keyId credential }
  } }
}"""

ROTATE = """
mutation($input: RotateSigningKeyInput!) {
  rotateSigningKey(input: $input) {
    signingKey { keyId createdAt keysUrl } userErrors { field code }
  }
}"""


async def earned(api, org, *, name: str = "CPR Certification") -> dict[str, Any]:
    """A learner's completed cycle of a two-course credential: its global id."""
    cpr = await course(api, org, f"{name} online")
    bls = await course(api, org, f"{name} skills")
    made = await credential(
        api,
        org,
        name,
        {"all": [{"course": cpr}, {"course": bls}]},
        instructions="Keep your CPR current.",
        imageUrl=IMAGE,
    )
    (cycle,) = await assign(api, org, made["id"], [org.learner])
    token = org.token(org.learner)
    for each in (cpr, bls):
        await take_course(api, token, each, assignment=cycle["id"])
    return cycle


async def export(api, token: str, cycle_id: str) -> dict[str, Any]:
    return (await api.data(EXPORT, {"id": cycle_id}, token=token))["node"]


async def verify(http, body: bytes | str, content_type: str = "application/vc+jwt"):
    data = body.encode() if isinstance(body, str) else body
    return await http.post("/verify", content=data, headers={"Content-Type": content_type})


def b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def parts(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    header, payload, signature = token.split(".")
    return json.loads(b64decode(header)), json.loads(b64decode(payload)), b64decode(signature)


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signature_holds(token: str, jwks: dict[str, Any]) -> bool:
    """The JWT's EdDSA signature checked with `cryptography` alone against the key its header
    names in the JWKS: no JOSE library between them."""
    header, _, signature = parts(token)
    (jwk,) = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    assert (jwk["kty"], jwk["crv"], header["alg"]) == ("OKP", "Ed25519", "EdDSA")
    key = Ed25519PublicKey.from_public_bytes(b64decode(jwk["x"]))
    signing_input = token.rsplit(".", 1)[0].encode()
    try:
        key.verify(signature, signing_input)
    except Exception:
        return False
    return True


def bit(encoded_list: str, index: int) -> int:
    """A Bitstring Status List's bit by hand: multibase `u` (base64url, no padding), GZIP,
    and the first index the left-most bit of the first byte."""
    assert encoded_list.startswith("u")
    bits = gzip.decompress(b64decode(encoded_list[1:]))
    return (bits[index // 8] >> (7 - index % 8)) & 1


def shipped_only(url: str, options: Any = None) -> dict[str, Any]:
    """A JSON-LD document loader that knows the shipped contexts and nothing else."""
    return {
        "contextUrl": None,
        "documentUrl": url,
        "document": json.loads(contexts.text(url)),
    }


def expanded(document: dict[str, Any]) -> tuple[list[Any], list[str]]:
    """The document expanded with the shipped contexts, and every property expansion dropped
    (a term no context defines)."""
    dropped: list[str] = []
    found = jsonld.expand(
        document,
        {"documentLoader": shipped_only},
        on_property_dropped=lambda name: dropped.append(str(name)),
    )
    return found, dropped


def types_in(node: Any) -> list[str]:
    """Every node's `@type` in an expanded document (a literal's datatype aside)."""
    if isinstance(node, list):
        return [t for item in node for t in types_in(item)]
    if not isinstance(node, dict) or "@value" in node:
        return []
    found = list(node.get("@type", []))
    return found + [t for key, v in node.items() if key != "@type" for t in types_in(v)]
