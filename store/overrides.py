"""Overrides of a cycle by a person's decision, stored on its `assignments` document:
completed by an administrator (`Certification`), its completion withdrawn (`Revocation`), or
withdrawn while open (`Withdrawal`). Each keeps when, by whom and why, so that a status asked
`asOf` an earlier moment still answers what the cycle was then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from store.ids import oid


@dataclass(frozen=True, slots=True)
class Certification:
    """A cycle completed by an administrator's decision (a paper certificate, a migration):
    `completed_at` is the date it attests, held as evidence of that date would be."""

    at: datetime
    by: str
    completed_at: datetime
    reason: str

    @classmethod
    def from_doc(cls, doc: dict[str, Any] | None) -> Certification | None:
        if not doc:
            return None
        return cls(doc["at"], str(doc["by"]), doc["completedAt"], doc["reason"])

    def to_doc(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "by": oid(self.by),
            "completedAt": self.completed_at,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Revocation:
    """An earned cycle withdrawn from `at` on: by an administrator (`revokeAssignment`), or by
    the revocation of the approved record its completion rested on (`record_id`; `by` and
    `reason` are that revocation's)."""

    at: datetime
    by: str
    reason: str
    record_id: str | None = None

    @classmethod
    def from_doc(cls, doc: dict[str, Any] | None) -> Revocation | None:
        if not doc:
            return None
        record = doc.get("recordId")
        return cls(doc["at"], str(doc["by"]), doc["reason"], str(record) if record else None)

    def to_doc(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "by": oid(self.by),
            "reason": self.reason,
            "recordId": oid(self.record_id) if self.record_id else None,
        }


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """An open cycle withdrawn from `at` on: unassigned by an administrator, or (`revoked`) a
    renewal withdrawn with the revoked completion that opened it. It stays in the history."""

    at: datetime
    by: str
    reason: str
    revoked: bool = False

    @classmethod
    def from_doc(cls, doc: dict[str, Any] | None) -> Withdrawal | None:
        if not doc:
            return None
        return cls(doc["at"], str(doc["by"]), doc["reason"], doc.get("revoked", False))

    @classmethod
    def after(cls, revocation: Revocation) -> Withdrawal:
        return cls(revocation.at, revocation.by, revocation.reason, revoked=True)

    def to_doc(self) -> dict[str, Any]:
        return {"at": self.at, "by": oid(self.by), "reason": self.reason, "revoked": self.revoked}
