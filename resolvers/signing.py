"""Each organization's Ed25519 signing keys: made on first use, rotated by administrators,
sealed at rest, published as a JWKS.

Credentials are secured as VC-JOSE-COSE JWTs (`application/vc+jwt`, `alg: EdDSA`): the JWT's
payload is the credential itself, signed over its exact bytes, so neither issuing nor
verifying needs RDF canonicalization (a Data Integrity `eddsa-rdfc-2022` proof would, through
`pyld`, whose canonical form of the same document must agree byte for byte on both sides).
JOSE is done by PyJWT (already how credgraph signs and checks tokens) over `cryptography`'s
Ed25519: no cryptography of our own.

A private key is stored sealed with AES-256-GCM under a key derived (HKDF-SHA256) from the
server's secret (`CREDGRAPH_SECRET`), bound to its organization and key id, so a copy of the
database alone signs nothing, and a sealed key moved to another organization does not open.
Changing the secret therefore orphans the keys: credentials already issued still verify
(their public keys stay published), and the next signature makes a new key.

The newest key signs; rotation makes a newer one and keeps every older one published, so
whatever they signed still verifies. A key's id (`kid`) is its RFC 7638 JWK thumbprint.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from resolvers import audit
from resolvers.audit import Action
from resolvers.auth import Caller, require_admin
from resolvers.errors import Code, DomainError, invalid
from resolvers.text import required
from store import signing_keys
from store.audit import Change, Event
from store.database import Database
from store.signing_keys import SigningKey

ALGORITHM = "EdDSA"  # RFC 8037: Ed25519 in JOSE
MEDIA_TYPE = "application/vc+jwt"
HEADER_TYPE = "vc+jwt"
NONCE_BYTES = 12
SEALING_INFO = b"credgraph credential signing keys v1"
MAX_REASON = 500


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def thumbprint(public_key: bytes) -> str:
    """The RFC 7638 thumbprint of an Ed25519 public key's JWK: its required members, sorted,
    without whitespace, hashed with SHA-256."""
    members = {"crv": "Ed25519", "kty": "OKP", "x": b64url(public_key)}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode()).digest())


def public_jwk(key: SigningKey) -> dict[str, str]:
    """The key as a verifier finds it in the organization's JWKS."""
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64url(key.public_key),
        "kid": key.kid,
        "use": "sig",
        "alg": ALGORITHM,
    }


def _sealing_key(secret: str) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=SEALING_INFO)
    return AESGCM(derived.derive(secret.encode()))


def _bound_to(org_id: str, kid: str) -> bytes:
    return f"{org_id}/{kid}".encode()


def _seal(private: Ed25519PrivateKey, *, secret: str, org_id: str, kid: str) -> bytes:
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    nonce = os.urandom(NONCE_BYTES)
    return nonce + _sealing_key(secret).encrypt(nonce, raw, _bound_to(org_id, kid))


@dataclass(frozen=True, slots=True)
class Signer:
    """An organization's current key, opened: what signs its credentials."""

    key: SigningKey
    private: Ed25519PrivateKey

    def sign(self, payload: dict[str, Any]) -> str:
        """`payload` as a compact JWS whose header names this key and the VC media type."""
        headers = {"kid": self.key.kid, "typ": HEADER_TYPE, "cty": "vc"}
        # UTF-8 as it is, not `\\uXXXX`-escaped: a name in Japanese takes 3 bytes a character, not 6
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        return jwt.PyJWS().encode(body, self.private, algorithm=ALGORITHM, headers=headers)


class SealedKeyUnreadable(Exception):
    """The current key was sealed under another secret (`CREDGRAPH_SECRET` changed)."""


def _open(key: SigningKey, secret: str) -> Ed25519PrivateKey:
    nonce, sealed = key.sealed_private_key[:NONCE_BYTES], key.sealed_private_key[NONCE_BYTES:]
    try:
        raw = _sealing_key(secret).decrypt(nonce, sealed, _bound_to(key.org_id, key.kid))
    except InvalidTag as error:
        raise SealedKeyUnreadable(key.kid) from error
    return Ed25519PrivateKey.from_private_bytes(raw)


@dataclass(frozen=True, slots=True)
class _Fresh:
    """A key just generated, not stored yet."""

    private: Ed25519PrivateKey
    public: bytes
    kid: str

    @classmethod
    def generate(cls) -> _Fresh:
        private = Ed25519PrivateKey.generate()
        public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return cls(private, public, thumbprint(public))

    async def stored(
        self,
        db: Database,
        org_id: str,
        number: int,
        *,
        secret: str,
        now: datetime,
        event: Event | None = None,
    ) -> Signer | None:
        """Stored as the organization's key `number`; None when another writer took it."""
        stored = await signing_keys.insert(
            db,
            org_id=org_id,
            number=number,
            kid=self.kid,
            public_key=self.public,
            sealed_private_key=_seal(self.private, secret=secret, org_id=org_id, kid=self.kid),
            now=now,
            event=event,
        )
        return Signer(stored, self.private) if stored else None


async def signer(db: Database, org_id: str, *, secret: str, now: datetime) -> Signer:
    """The organization's current key, made on first use (or when the secret it was sealed
    under has changed: the old one still verifies what it signed)."""
    for _ in range(3):  # a racing writer's key is read on the next turn
        found = await signing_keys.current(db, org_id=org_id)
        if found is not None:
            try:
                return Signer(found, _open(found, secret))
            except SealedKeyUnreadable:
                pass
        number = (found.number if found else 0) + 1
        made = await _Fresh.generate().stored(db, org_id, number, secret=secret, now=now)
        if made is not None:
            return made
    raise DomainError(Code.EDIT_CONFLICT, "the signing key changed meanwhile; try again")


async def rotate(
    db: Database, viewer: Caller | None, *, reason: str, secret: str, now: datetime
) -> SigningKey:
    """Administrators: a new current key. Older keys stay published, so what they signed
    still verifies; from now on the new key signs."""
    admin = require_admin(viewer)
    reason = required(reason, field="reason", limit=MAX_REASON)
    found = await signing_keys.current(db, org_id=admin.org_id)
    fresh = _Fresh.generate()
    event = audit.event(
        admin,
        Action.ROTATE_SIGNING_KEY,
        "SigningKey",
        now=now,
        reason=reason,
        changes=(Change("currentKeyId", found.kid if found else None, fresh.kid),),
    )
    number = (found.number if found else 0) + 1
    made = await fresh.stored(db, admin.org_id, number, secret=secret, now=now, event=event)
    if made is None:
        raise DomainError(
            Code.EDIT_CONFLICT, "another administrator rotated the key meanwhile", field="reason"
        )
    return made.key


async def revoke(
    db: Database, viewer: Caller | None, *, key_id: str, reason: str, now: datetime
) -> SigningKey:
    """Administrators: revoke a key that may have leaked. It leaves the JWKS, and nothing it
    signed verifies any more — forged or genuine: the holders of genuine ones export them
    again, signed by the current key. The current key is rotated out first (`CURRENT_KEY`)."""
    admin = require_admin(viewer)
    reason = required(reason, field="reason", limit=MAX_REASON)
    keys = await signing_keys.listed(db, org_id=admin.org_id)
    found = next((key for key in keys if key.kid == key_id), None)
    if found is None:
        raise invalid(Code.NOT_FOUND, "the organization has no key with this id", "keyId")
    if found is keys[-1]:
        raise invalid(Code.CURRENT_KEY, "the current key signs: rotate it out first", "keyId")
    event = audit.event(
        admin, Action.REVOKE_SIGNING_KEY, "SigningKey", now=now, reason=reason,
        changes=(Change("revoked", False, True),),
    )  # fmt: skip
    revoked = await signing_keys.revoke(
        db, key=found, by=admin.id, reason=reason, now=now, event=event
    )
    if revoked is None:
        raise invalid(Code.ALREADY_REVOKED, "this key is revoked already", "keyId")
    return revoked


async def published(db: Database, org_id: str) -> dict[str, list[dict[str, str]]]:
    """The organization's JWKS: every key it has had and not revoked, newest first."""
    keys = await signing_keys.listed(db, org_id=org_id)
    return {"keys": [public_jwk(k) for k in reversed(keys) if k.revoked_at is None]}


async def verification_key(db: Database, org_id: str, kid: str) -> SigningKey | None:
    """The organization's key `kid`, if it ever had one (revoked or not)."""
    for key in await signing_keys.listed(db, org_id=org_id):
        if key.kid == kid:
            return key
    return None


def public_key(key: SigningKey) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(key.public_key)
