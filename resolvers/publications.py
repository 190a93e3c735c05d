"""What credgraph publishes for anyone verifying its credentials, without a token: each
organization's issuer profile, its public keys (a JWKS holding every key it has had) and its
signed Bitstring Status Lists. Nothing here names a learner."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from resolvers import signing, status_lists
from resolvers.links import Links
from resolvers.open_badges import CONTEXTS
from store import organizations, status_entries
from store.database import Database


async def profile(db: Database, links: Links, org_id: str) -> dict[str, Any] | None:
    """The issuer's OB 3.0 `Profile`, as credentials name it; None for no organization."""
    org = await organizations.get(db, id=org_id)
    if org is None:
        return None
    return {"@context": list(CONTEXTS), "id": links.issuer(org.id), "type": ["Profile"],
            "name": org.name}  # fmt: skip


async def keys(db: Database, org_id: str) -> dict[str, Any] | None:
    """The organization's JWKS (empty before its first credential); None for no organization."""
    if await organizations.get(db, id=org_id) is None:
        return None
    return await signing.published(db, org_id)


async def status_list(
    db: Database, links: Links, org_id: str, number: int, *, secret: str, now: datetime
) -> str | None:
    """The organization's status list `number` as a signed `BitstringStatusListCredential`
    (a VC-JOSE JWT), true as of `now`; None unless the organization has placed a cycle in it
    (an address nobody was given: no key is made, nothing is signed for it)."""
    if number * status_lists.LIST_SIZE >= await status_entries.placed(db, org_id=org_id):
        return None
    positions = await status_lists.revoked_positions(db, org_id, number)
    unsigned = status_lists.credential(links, org_id, number, positions, issued=now)
    signer = await signing.signer(db, org_id, secret=secret, now=now)
    return signer.sign(unsigned)
