"""Bitstring Status Lists (W3C Bitstring Status List v1.0): where verifiers learn that a
credential credgraph issued has been revoked.

Every exported credential — a cycle in one edition — holds an index in its organization's
lists, given once (`store.status_entries`). List `n` of an organization covers indexes
`n * LIST_SIZE` up to the next list's; its credential is served at
`{base}/status/{organization}/{n}`. A list is not stored: it is computed when asked for, a bit
set for each credential whose cycle has since moved to a later edition — revoked, or its
evidence withdrawn so that it no longer holds as long as it said
(`store.assignments.narrowed`). The edition advances in the same write as the change, so a
revocation shows the moment it is stored, and nothing has to be kept in step with it. A
credential whose validity has lapsed is not revoked: its `validUntil` says so.

The encoding is the specification's: a bitstring of `LIST_SIZE` bits whose first index is the
left-most bit (the most significant of the first byte), GZIP-compressed, base64url without
padding, with the multibase prefix `u`.
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import Sequence
from datetime import datetime, timedelta

from resolvers.contexts import CREDENTIALS_V2, moment
from resolvers.links import Links
from store import assignments, status_entries
from store.assignments import Assignment
from store.database import Database
from store.status_entries import Edition

LIST_SIZE = 131_072  # 16 KiB: the specification's minimum, for herd privacy
CACHED = timedelta(minutes=1)  # how long a verifier may keep a list (its `ttl`)
LIFETIME = timedelta(minutes=10)  # how long a signed list stays valid
PURPOSE = "revocation"


def revoked(cycle: Assignment) -> bool:
    """Whether an earned cycle has been withdrawn, which sets its status bit: by an
    administrator (`revokeAssignment`), or with the approved record it rested on
    (`revokeTrainingRecord`). A revocation is made as of the moment it is stored, so a stored
    one is in force."""
    return cycle.revocation is not None


def place_of(index: int) -> tuple[int, int]:
    """The list an index is in, and its position there."""
    return divmod(index, LIST_SIZE)


async def indexes(db: Database, org_id: str, editions: Sequence[Edition]) -> dict[Edition, int]:
    """The credentials' status indexes, given now to those that had none."""
    return await status_entries.place(db, org_id=org_id, editions=editions)


def entry(links: Links, org_id: str, index: int) -> dict[str, str]:
    """A credential's `credentialStatus`: its bit in the organization's revocation list."""
    number, position = place_of(index)
    url = links.status_list(org_id, number)
    return {
        "id": f"{url}#{position}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": PURPOSE,
        "statusListIndex": str(position),
        "statusListCredential": url,
    }


async def revoked_positions(db: Database, org_id: str, number: int) -> set[int]:
    """The positions set in the organization's list `number`: found from the cycles past their
    first edition, not from the list's (up to 131,072) placed ones — anyone may ask, as often
    as they like."""
    current = await assignments.editions(db, org_id=org_id)
    if not current:
        return set()
    placed = await status_entries.indexes_of(db, org_id=org_id, cycle_ids=sorted(current))
    start = number * LIST_SIZE
    return {
        index - start
        for (cycle, edition), index in placed.items()
        if edition < current[cycle] and start <= index < start + LIST_SIZE
    }


def encoded(positions: set[int]) -> str:
    """The list's `encodedList`: `u` + base64url(GZIP(bitstring)), first index left-most."""
    bits = bytearray(LIST_SIZE // 8)
    for position in positions:
        bits[position // 8] |= 0x80 >> (position % 8)
    compressed = gzip.compress(bytes(bits), mtime=0)  # the same list, the same bytes
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode()


def credential(
    links: Links, org_id: str, number: int, positions: set[int], *, issued: datetime
) -> dict:
    """The list as an (unsigned) `BitstringStatusListCredential`, valid from `issued` for
    `LIFETIME` only: a copy kept from before a revocation cannot be shown as current for long.
    Its `ttl` says how long a verifier may cache it (as the route's `Cache-Control` does)."""
    url = links.status_list(org_id, number)
    return {
        "@context": [CREDENTIALS_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": links.issuer(org_id),
        "validFrom": moment(issued),
        "validUntil": moment(issued + LIFETIME),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": PURPOSE,
            "encodedList": encoded(positions),
            "ttl": int(CACHED.total_seconds() * 1000),
        },
    }
