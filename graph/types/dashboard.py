"""Dashboard answers: compliance counts and the organization-wide assignment list."""

from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry

from graph.context import Info
from graph.enums import SortField, Status
from graph.types.time import Period
from resolvers.dashboard import Compliance

CURRENT = (
    "Only the cycle of each learner and credential that is current at `asOf` (the latest that "
    "has started by then, else the next to start), as complianceSummary counts them; by default "
    "every cycle."
)


@strawberry.type
class StatusCount:
    status: Status
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
    exempt: int = strawberry.field(description="Excused at asOf (an exemption covers it).")
    revoked: int = strawberry.field(
        description="Revoked at asOf: an earned cycle withdrawn, and not assigned again since."
    )
    by_status: list[StatusCount]
    expiring_within: Period
    expiring_soon: int = strawberry.field(
        description="Completed and valid at asOf, lapsing within expiringWithin."
    )
    due_soon: int = strawberry.field(
        description="Under way or not yet started at asOf — available and not yet due, so "
        "not counted in `overdue` — and due within expiringWithin."
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
            not_yet_available=counts[Status.NOT_YET_AVAILABLE],
            not_started=counts[Status.NOT_STARTED],
            in_progress=counts[Status.IN_PROGRESS],
            completed=counts[Status.COMPLETED],
            overdue=counts[Status.OVERDUE],
            expired=counts[Status.EXPIRED],
            exempt=counts[Status.EXEMPT],
            revoked=counts[Status.REVOKED],
            by_status=[  # a withdrawn cycle is no one's current one: never counted
                StatusCount(status=s, count=n)
                for s, n in counts.items()
                if s is not Status.WITHDRAWN
            ],
            expiring_within=period,
            expiring_soon=result.summary.expiring_soon,
            due_soon=result.summary.due_soon,
            pending_records=result.pending_records,
        )


@strawberry.input
class AssignmentOrder:
    field: SortField = SortField.DUE_DATE
    descending: bool = False
