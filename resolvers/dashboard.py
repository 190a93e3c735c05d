"""What dashboards poll: compliance counts computed by the database, not in Python."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from resolvers.auth import require_admin
from resolvers.periods import Period, PeriodUnit
from store import compliance
from store.database import Database
from store.users import User

DEFAULT_HORIZON = Period(30, PeriodUnit.DAY)


@dataclass(frozen=True, slots=True)
class Compliance:
    as_of: datetime
    horizon: Period
    summary: compliance.Summary


async def compliance_summary(
    db: Database,
    viewer: User,
    *,
    credential_id: str | None,
    as_of: datetime,
    expiring_within: Period | None,
) -> Compliance:
    """Counts per status at `as_of`, what lapses or falls due within the horizon, the queue."""
    admin = require_admin(viewer)
    horizon = expiring_within or DEFAULT_HORIZON
    summary = await compliance.summary(
        db,
        org_id=admin.org_id,
        credential_id=credential_id,
        as_of=as_of,
        horizon=horizon.after(as_of),
    )
    return Compliance(as_of=as_of, horizon=horizon, summary=summary)
