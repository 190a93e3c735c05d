"""What dashboards poll: compliance counts of people, from the same read of the scope's cycles
as the lists beside them (`resolvers.listing`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from resolvers import kept, listing
from resolvers.auth import Caller, require_reader
from resolvers.listing import LoadScope
from resolvers.periods import Period, PeriodUnit
from store import records
from store.database import Database
from store.records import RecordStatus

DEFAULT_HORIZON = Period(30, PeriodUnit.DAY)


@dataclass(frozen=True, slots=True)
class Compliance:
    as_of: datetime
    horizon: Period
    summary: listing.Summary
    pending_records: int
    changes: datetime | None  # the first moment the counts may change without a write


async def compliance_summary(
    db: Database,
    cycles: LoadScope,
    viewer: Caller,
    *,
    credential_id: str | None,
    as_of: datetime,
    expiring_within: Period | None,
) -> Compliance:
    """Counts per status at `as_of`, what lapses or falls due within the horizon, the queue."""
    caller = require_reader(viewer)
    within = caller.within  # a manager's members, or everyone
    horizon = expiring_within or DEFAULT_HORIZON
    found = await cycles((credential_id, None))
    if within is not None:
        found = [c for c in found if c.learner_id in within]
    summary, changes = kept.summary(
        (caller.org_id, credential_id, within), found, as_of=as_of, horizon=horizon
    )
    return Compliance(
        as_of=as_of,
        horizon=horizon,
        summary=summary,
        pending_records=await records.count(
            db,
            org_id=caller.org_id,
            learner_ids=None if within is None else sorted(within),
            status=RecordStatus.PENDING,
            credential_id=credential_id,
        ),
        changes=changes,
    )
