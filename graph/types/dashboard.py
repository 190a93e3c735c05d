"""Dashboard answers: compliance counts and the organization-wide assignment list."""

from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry

from graph.context import Info
from graph.types.assignment import CredentialStatus
from graph.types.time import Period
from resolvers.dashboard import Compliance
from resolvers.listing import SortField

CURRENT = (
    "Only the cycle of each learner and credential that is current at `asOf` (the latest that "
    "has started by then, else the next to start), as complianceSummary counts them; by default "
    "every cycle."
)


@strawberry.type
class StatusCount:
    status: CredentialStatus
    count: int


@strawberry.type(
    description="Counts at `asOf`, of people: one cycle per learner "
    "and credential, the one current at `asOf` (the latest that has started by then, else the "
    "next to start). Earlier cycles stay listed in the assignment connections."
)
class ComplianceSummary:
    counted_at: strawberry.Private[datetime]
    live: strawberry.Private[bool]  # counted at now, no asOf given
    total: int
    not_yet_available: int
    not_started: int
    in_progress: int
    completed: int
    overdue: int
    expired: int
    by_status: list[StatusCount]
    expiring_within: Period
    expiring_soon: int = strawberry.field(
        description="Completed and valid at asOf, lapsing within expiringWithin."
    )
    due_soon: int = strawberry.field(
        description="Not completed at asOf, due within expiringWithin."
    )
    pending_records: int = strawberry.field(description="Training records awaiting review.")

    @strawberry.field(
        description="The moment counted at: the given asOf, else now. The counts hold until a "
        "date passes, but now moves every second: an answer that shows it, without asOf, is "
        "fresh for this second only."
    )
    def as_of(self, info: Info) -> datetime:
        return info.context.now if self.live else self.counted_at

    @classmethod
    def of(cls, result: Compliance, *, live: bool) -> Self:
        counts = result.summary.by_status
        period = Period.of(result.horizon)
        assert period is not None
        return cls(
            counted_at=result.as_of,
            live=live,
            total=result.summary.total,
            not_yet_available=counts["NOT_YET_AVAILABLE"],
            not_started=counts["NOT_STARTED"],
            in_progress=counts["IN_PROGRESS"],
            completed=counts["COMPLETED"],
            overdue=counts["OVERDUE"],
            expired=counts["EXPIRED"],
            by_status=[StatusCount(status=s, count=n) for s, n in counts.items()],
            expiring_within=period,
            expiring_soon=result.summary.expiring_soon,
            due_soon=result.summary.due_soon,
            pending_records=result.pending_records,
        )


AssignmentOrderField = strawberry.enum(SortField, name="AssignmentOrderField")


@strawberry.input
class AssignmentOrder:
    field: AssignmentOrderField = AssignmentOrderField.DUE_DATE
    descending: bool = False
