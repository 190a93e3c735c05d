"""Checking a credential someone presents (`POST /verify`): is it one of ours, unaltered, in
force now, and not revoked?

The checks run cheapest and most fundamental first, and the first that fails is the answer,
with a stable reason code:

- `MALFORMED`: not a compact JWS whose header and payload are JSON objects (the route answers
  400: there is nothing to verify);
- `UNSUPPORTED_ALGORITHM`: anything but `EdDSA` (`none`, HMAC and the rest never reach a key);
- `UNKNOWN_ISSUER`: the issuer is not an organization of this server;
- `UNKNOWN_KEY`: that organization never had the key the header names;
- `KEY_REVOKED`: it had, and revoked it (it may have leaked): whatever it signed is suspect;
- `BAD_SIGNATURE`: the signature does not match the header and payload as presented;
- `NOT_A_CREDENTIAL`: a signed payload that is no verifiable credential (types, dates);
- `NOT_YET_VALID` / `EXPIRED`: `validFrom` is after now, `validUntil` is not after now (the
  app's clock);
- `UNKNOWN_STATUS_LIST`: a status entry that is not one of this issuer's revocation lists;
- `REVOKED`: its bit in the issuer's revocation list is set.

Only what the signature covers is believed: the issuer named in the payload is used to find
the keys, and a payload altered to name another issuer finds none that verify it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import jwt

from resolvers import signing, status_lists
from resolvers.contexts import CREDENTIALS_V2
from resolvers.links import Links
from resolvers.open_badges import TYPES
from store.database import Database

# Bytes: a credential is a few KiB, but one of the longest (20,000 characters of instructions
# in a script of three UTF-8 bytes each, two hundred requirements, a long list of evidence) is
# some hundreds; more is not one of ours.
MAX_PRESENTED = 1024 * 1024
COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")  # unsigned: `alg` says


class Reason(StrEnum):
    MALFORMED = "MALFORMED"
    UNSUPPORTED_ALGORITHM = "UNSUPPORTED_ALGORITHM"
    UNKNOWN_ISSUER = "UNKNOWN_ISSUER"
    UNKNOWN_KEY = "UNKNOWN_KEY"
    KEY_REVOKED = "KEY_REVOKED"
    BAD_SIGNATURE = "BAD_SIGNATURE"
    NOT_A_CREDENTIAL = "NOT_A_CREDENTIAL"
    NOT_YET_VALID = "NOT_YET_VALID"
    EXPIRED = "EXPIRED"
    UNKNOWN_STATUS_LIST = "UNKNOWN_STATUS_LIST"
    REVOKED = "REVOKED"


@dataclass(frozen=True, slots=True)
class Verdict:
    """Valid, or the first reason it is not and a sentence saying why."""

    reason: Reason | None = None
    message: str = "the credential is authentic, in force and not revoked"
    credential: dict[str, Any] = field(default_factory=dict)  # the verified payload
    key_id: str | None = None

    @property
    def valid(self) -> bool:
        return self.reason is None

    def to_json(self) -> dict[str, Any]:
        if self.reason is not None:
            return {"valid": self.valid, "reason": self.reason.value, "message": self.message}
        found = self.credential
        return {
            "valid": self.valid,
            "message": self.message,
            "checks": ["signature", "validity", "status"],
            "keyId": self.key_id,
            "credential": {
                "id": found.get("id"),
                "type": found.get("type"),
                "issuer": _issuer_id(found),
                "name": found.get("name"),
                "validFrom": found.get("validFrom"),
                "validUntil": found.get("validUntil"),
            },
        }


def _refused(reason: Reason, message: str) -> Verdict:
    return Verdict(reason, message)


def _issuer_id(credential: dict[str, Any]) -> str | None:
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def _strict(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose every name is given once: another reader, taking the first of two
    where Python takes the last, would see another credential under the same signature."""
    found = dict(pairs)
    if len(found) != len(pairs):
        raise ValueError("a name given twice")
    return found


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _payload(token: str) -> dict[str, Any] | None:
    """The JWS's payload as a JSON object, unverified; None when it is none."""
    try:
        raw = jwt.PyJWS().decode_complete(token, options={"verify_signature": False})["payload"]
        found = json.loads(raw, object_pairs_hook=_strict, parse_constant=_not_json)
    except (jwt.PyJWTError, ValueError, RecursionError):  # nesting deeper than Python reads
        return None
    return found if isinstance(found, dict) else None


async def verify(db: Database, token: str, *, links: Links, now: datetime) -> Verdict:
    """The verdict on a presented compact JWS."""
    if not COMPACT.fullmatch(token):  # padding, whitespace: another spelling of one JWS
        return _refused(Reason.MALFORMED, "not a compact JWS (three unpadded base64url parts)")
    try:
        header = jwt.get_unverified_header(token)
    except (jwt.PyJWTError, RecursionError):
        return _refused(Reason.MALFORMED, "not a compact JWS (header.payload.signature)")
    unverified = _payload(token)
    if unverified is None:
        return _refused(Reason.MALFORMED, "the JWS payload is not a JSON object")
    if header.get("alg") != signing.ALGORITHM:
        return _refused(Reason.UNSUPPORTED_ALGORITHM, "only EdDSA (Ed25519) signatures are ours")
    issuer = _issuer_id(unverified)
    if issuer is None:
        return _refused(Reason.NOT_A_CREDENTIAL, "it names no issuer")
    org_id = links.issuer_org(issuer)
    if org_id is None:
        return _refused(Reason.UNKNOWN_ISSUER, "the issuer is not an organization of this server")
    kid = header.get("kid")
    key = await signing.verification_key(db, org_id, kid) if isinstance(kid, str) else None
    if key is None:
        return _refused(Reason.UNKNOWN_KEY, "the issuer has no key with the header's kid")
    try:
        jwt.PyJWS().decode(token, key=signing.public_key(key), algorithms=[signing.ALGORITHM])
    except jwt.InvalidSignatureError:
        return _refused(Reason.BAD_SIGNATURE, "the signature does not match the credential")
    except jwt.PyJWTError:
        return _refused(Reason.MALFORMED, "the JWS could not be read")
    if key.revoked_at is not None:
        return _refused(
            Reason.KEY_REVOKED,
            "the issuer revoked the key that signed it (it may have leaked): ask the holder "
            "for the credential exported again",
        )
    verdict = _in_force(unverified, now)  # what the signature covers: now it is believed
    if verdict is not None:
        return verdict
    verdict = await _not_revoked(db, unverified, links=links, org_id=org_id)
    return verdict or Verdict(credential=unverified, key_id=kid)


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        found = datetime.fromisoformat(value)
    except ValueError:
        return None
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)


def _in_force(credential: dict[str, Any], now: datetime) -> Verdict | None:
    types, contexts = credential.get("type"), credential.get("@context")
    if not isinstance(contexts, list) or contexts[:1] != [CREDENTIALS_V2]:
        return _refused(Reason.NOT_A_CREDENTIAL, f"its first @context is not {CREDENTIALS_V2}")
    if not isinstance(types, list) or not set(TYPES) <= set(types):
        return _refused(
            Reason.NOT_A_CREDENTIAL, "it is not an OpenBadgeCredential (a status list is not one)"
        )
    valid_from = _moment(credential.get("validFrom"))
    if valid_from is None:
        return _refused(Reason.NOT_A_CREDENTIAL, "it has no validFrom date-time")
    if valid_from > now:
        return _refused(Reason.NOT_YET_VALID, f"it is valid only from {credential['validFrom']}")
    if "validUntil" in credential:
        valid_until = _moment(credential["validUntil"])
        if valid_until is None:
            return _refused(Reason.NOT_A_CREDENTIAL, "its validUntil is not a date-time")
        if valid_until <= now:
            return _refused(Reason.EXPIRED, f"it was valid until {credential['validUntil']}")
    return None


async def _not_revoked(
    db: Database, credential: dict[str, Any], *, links: Links, org_id: str
) -> Verdict | None:
    entries = credential.get("credentialStatus", [])
    for entry in entries if isinstance(entries, list) else [entries]:
        place = _place(entry, links, org_id)
        if place is None:
            return _refused(
                Reason.UNKNOWN_STATUS_LIST, "a status entry is not one of the issuer's lists"
            )
        number, position = place
        if position in await status_lists.revoked_positions(db, org_id, number):
            return _refused(Reason.REVOKED, "the issuer has revoked it")
    return None


def _place(entry: Any, links: Links, org_id: str) -> tuple[int, int] | None:
    """(list number, position) of a revocation entry in the issuer's own lists; else None."""
    if not isinstance(entry, dict) or entry.get("type") != "BitstringStatusListEntry":
        return None
    if entry.get("statusPurpose") != status_lists.PURPOSE:
        return None
    found = links.status_list_of(str(entry.get("statusListCredential")))
    position = str(entry.get("statusListIndex"))
    if found is None or found[0] != org_id or not re.fullmatch(r"0|[1-9][0-9]{0,6}", position):
        return None
    if int(position) >= status_lists.LIST_SIZE:
        return None
    return found[1], int(position)
