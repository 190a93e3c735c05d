"""The `signingKeys` collection: each organization's Ed25519 keys for the credentials it issues.

Keys are numbered per organization (1, 2, …); the highest number is the one that signs, and
every earlier one stays so that what it signed still verifies — unless it is revoked (a key
that may have leaked), after which nothing it signed verifies. A unique index on the number
makes creation atomic: two requests making an organization's first key (or two rotations)
race on the same number, and one of them is refused (`insert` answers False) and reads the
winner's. The private key is stored sealed (`resolvers.signing` seals it with a key derived
from the server's secret); the public key in clear, as it is published.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from store import organizations, outbox
from store.audit import Event
from store.database import Database
from store.errors import boundary
from store.ids import oid


@dataclass(frozen=True, slots=True)
class SigningKey:
    id: str
    org_id: str
    number: int
    kid: str  # the key's RFC 7638 thumbprint: the `kid` of its signatures and its JWK
    public_key: bytes  # raw Ed25519, 32 bytes
    sealed_private_key: bytes  # nonce and ciphertext (`resolvers.signing`)
    created_at: datetime
    revoked_at: datetime | None = None

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> SigningKey:
        return cls(
            id=str(doc["_id"]),
            org_id=str(doc["orgId"]),
            number=doc["number"],
            kid=doc["kid"],
            public_key=bytes(doc["publicKey"]),
            sealed_private_key=bytes(doc["sealedPrivateKey"]),
            created_at=doc["createdAt"],
            revoked_at=(doc.get("revocation") or {}).get("at"),
        )


@boundary
async def current(db: Database, *, org_id: str) -> SigningKey | None:
    """The organization's newest key: the one that signs."""
    doc = await db.db.signingKeys.find_one({"orgId": oid(org_id)}, sort=[("number", -1)])
    return SigningKey.from_doc(doc) if doc else None


@boundary
async def listed(db: Database, *, org_id: str) -> list[SigningKey]:
    """Every key the organization has had, oldest first: all of them verify."""
    cursor = db.db.signingKeys.find({"orgId": oid(org_id)}).sort("number", 1)
    return [SigningKey.from_doc(doc) async for doc in cursor]


@boundary
async def insert(
    db: Database,
    *,
    org_id: str,
    number: int,
    kid: str,
    public_key: bytes,
    sealed_private_key: bytes,
    now: datetime,
    event: Event | None = None,
) -> SigningKey | None:
    """Store the organization's key `number`; None when another writer stored that number
    first. A new current key changes every credential's signature: the version advances."""
    doc, letters = outbox.stamped(
        {
            "_id": ObjectId(),
            "orgId": oid(org_id),
            "number": number,
            "kid": kid,
            "publicKey": public_key,
            "sealedPrivateKey": sealed_private_key,
            "createdAt": now,
        },
        event,
    )
    try:
        await db.db.signingKeys.insert_one(doc)
    except DuplicateKeyError:
        return None
    await organizations.touch(db, id=org_id)
    await outbox.written(db, letters)
    return SigningKey.from_doc(doc)


@boundary
async def revoke(
    db: Database, *, key: SigningKey, by: str, reason: str, now: datetime, event: Event | None
) -> SigningKey | None:
    """Revoke a key that is not revoked yet; None when it is (or another request revoked it
    meanwhile). What it signed stops verifying: the version advances."""
    revocation = {"at": now, "by": oid(by), "reason": reason}
    doc = await db.db.signingKeys.find_one_and_update(
        {"orgId": oid(key.org_id), "_id": oid(key.id), "revocation": None},
        outbox.carried({"$set": {"revocation": revocation}}, event),
        return_document=ReturnDocument.AFTER,
    )
    if doc is None:
        return None
    await organizations.touch(db, id=key.org_id)
    await outbox.written(db, [event])
    return SigningKey.from_doc(doc)
