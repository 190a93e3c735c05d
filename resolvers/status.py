"""An assignment's time-dependent answers, derived from its stored dates at any moment (`asOf`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from resolvers.periods import Duration


class Status(StrEnum):
    NOT_YET_AVAILABLE = "NOT_YET_AVAILABLE"
    NOT_STARTED = "NOT_STARTED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    OVERDUE = "OVERDUE"
    EXPIRED = "EXPIRED"
    EXEMPT = "EXEMPT"  # excused (leave, role) for the while of an exemption, unless valid
    REVOKED = "REVOKED"  # earned, then withdrawn: from the revocation on, whatever else
    WITHDRAWN = "WITHDRAWN"  # open, then unassigned (or its renewed cycle revoked): in no count


@dataclass(frozen=True, slots=True)
class Timeline:
    """The stored dates of one assignment cycle."""

    start: datetime
    due: datetime
    started_at: datetime | None = None
    completed_at: datetime | None = None
    valid_until: datetime | None = None
    exempt: tuple[tuple[datetime, datetime | None], ...] = ()  # (since, until) of exemptions
    revoked_at: datetime | None = None
    withdrawn_at: datetime | None = None

    def exempt_at(self, as_of: datetime) -> bool:
        return any(
            since <= as_of and (until is None or as_of < until) for since, until in self.exempt
        )

    def completed_by(self, as_of: datetime) -> bool:
        return self.completed_at is not None and self.completed_at <= as_of

    def overridden(self, as_of: datetime) -> Status | None:
        """WITHDRAWN or REVOKED from that moment on; before it, the cycle answers what it was.
        (A cycle is never both; were it so, the withdrawal — out of every list — would win.)"""
        if self.withdrawn_at is not None and self.withdrawn_at <= as_of:
            return Status.WITHDRAWN
        if self.revoked_at is not None and self.revoked_at <= as_of:
            return Status.REVOKED
        return None

    def status(self, as_of: datetime) -> Status:
        """Completed and valid shows as such; anything else an exemption covers is EXEMPT; a
        revocation or a withdrawal, once made, overrides everything."""
        if overridden := self.overridden(as_of):
            return overridden
        found = self._status(as_of)
        if found is not Status.COMPLETED and self.exempt_at(as_of):
            return Status.EXEMPT
        return found

    def _status(self, as_of: datetime) -> Status:
        if self.completed_by(as_of):
            if self.valid_until is not None and self.valid_until <= as_of:
                return Status.EXPIRED
            return Status.COMPLETED
        if as_of < self.start:
            return Status.NOT_YET_AVAILABLE
        if as_of >= self.due:
            return Status.OVERDUE
        if self.started_at is not None and self.started_at <= as_of:
            return Status.IN_PROGRESS
        return Status.NOT_STARTED

    def can_start(self, as_of: datetime) -> bool:
        return as_of >= self.start

    def expires_in(self, as_of: datetime) -> Duration | None:
        """Time left: until the due date before completion, until validity ends after it;
        nothing once revoked or withdrawn."""
        if self.overridden(as_of):
            return None
        if not self.completed_by(as_of):
            return Duration.between(as_of, self.due)
        if self.valid_until is None:
            return None
        return Duration.between(as_of, self.valid_until)
