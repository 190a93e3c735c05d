"""Overrides: what a person decides about a cycle's completion against its evidence.

- `certify`: an administrator completes an open cycle from a paper certificate or a migration.
  The date attested (`completedAt`) is held as evidence of that date would be: it must fall in
  the cycle's evidence window and not in the future, and the validity it gives must outlast now
  (and the validity a renewal renews). The cycle completes at that date (never before its
  start), `validFrom` is that date and `validUntil` follows from the version's `validFor`;
  derivation (`resolvers.chains`) then keeps it completed, lets better evidence extend it, and
  opens the renewal as for any completion.
- `revoke`: an administrator withdraws an earned cycle: `REVOKED` from now on (asked `asOf` an
  earlier moment, it answers what it was). A renewal its completion opened and still open is
  withdrawn with it, so the revoked cycle stays the learner's current one until the credential
  is assigned again, which starts a new cycle.
- `revoke_record`: an administrator, or the learner's manager, withdraws a record's approval;
  the learner's cycles are derived again without it (a completion resting on it alone is
  revoked: `resolvers.chains`).
- `unassign`: an administrator withdraws an open cycle: it leaves lists and counts from now on
  and stays in the history; assigning the credential again starts a new cycle.

Each decision is one write conditioned on the cycle's (or record's) revision, so of two racing
decisions about one cycle — two revocations, a revocation and a certification — at most one
applies; the other is judged again on the cycle as the first left it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from resolvers import audit
from resolvers import records as recording
from resolvers.assignments import decided_cycle, revised, settle, tell
from resolvers.audit import Action
from resolvers.auth import Caller, require_admin, require_reviewer, require_viewer
from resolvers.clock import as_utc
from resolvers.cycles import Policy
from resolvers.errors import Code, invalid, not_found
from resolvers.evidence import Bound
from resolvers.text import required
from store import assignments, credentials, records
from store.assignments import Assignment, Revision
from store.audit import Change
from store.database import Database
from store.notifications import NotificationKind
from store.overrides import Certification, Revocation, Withdrawal
from store.records import Record, RecordStatus

MAX_REASON = 2_000


async def certify(
    db: Database,
    viewer: Caller | None,
    assignment_id: str,
    *,
    completed_at: datetime,
    reason: str,
    now: datetime,
) -> Assignment:
    admin = require_admin(viewer)
    reason = required(reason, field="reason", limit=MAX_REASON)
    attested = as_utc(completed_at, field="completedAt")
    if attested > now:
        raise invalid(Code.FUTURE_DATE, "completedAt cannot be in the future", "completedAt")
    cycle = await decided_cycle(db, require_viewer(viewer), assignment_id)
    (credential,) = await credentials.get_many(db, org_id=admin.org_id, ids=[cycle.credential_id])

    def certified(cycle: Assignment) -> Revision:
        _refuse_overridden(cycle)
        if cycle.completed_at is not None or cycle.certification is not None:
            raise invalid(Code.ALREADY_COMPLETED, "this cycle is completed already", "assignment")
        if not Bound(cycle.window_start, cycle.window_after).admits(attested):
            raise invalid(
                Code.OUT_OF_RANGE,
                "completedAt is before this cycle's evidence window: evidence that old "
                "does not count for it",
                "completedAt",
            )
        policy = Policy.of(credential, cycle.version)
        lapses = policy.valid_for.after(attested) if policy.valid_for else None
        outlast = max(now, cycle.previous_valid_until or now)
        if lapses is not None and lapses <= outlast:
            raise invalid(
                Code.OUT_OF_RANGE,
                f"a completion on that date lapses {lapses.isoformat()}: it would complete nothing",
                "completedAt",
            )
        made = audit.on_cycle(
            admin,
            Action.CERTIFY_ASSIGNMENT,
            cycle,
            now=now,
            reason=reason,
            changes=(Change("certifiedCompletedAt", None, attested),),
        )
        certification = Certification(now, admin.id, attested, reason)
        return Revision(certification=certification, event=made)

    return await _overridden(db, cycle, certified, now=now)


async def revoke(
    db: Database, viewer: Caller | None, assignment_id: str, *, reason: str, now: datetime
) -> Assignment:
    admin = require_admin(viewer)
    reason = required(reason, field="reason", limit=MAX_REASON)

    def revoked(cycle: Assignment) -> Revision:
        _refuse_overridden(cycle)
        if cycle.completed_at is None:
            raise invalid(Code.NOT_COMPLETED, "only a completed cycle can be revoked", "assignment")
        at = max(now, cycle.completed_at)
        made = audit.on_cycle(
            admin,
            Action.REVOKE_ASSIGNMENT,
            cycle,
            now=now,
            reason=reason,
            changes=(Change("revokedAt", None, at),),
        )
        return Revision(revocation=Revocation(at, admin.id, reason), event=made)

    cycle = await decided_cycle(db, require_viewer(viewer), assignment_id)
    return await _overridden(db, cycle, revoked, now=now, told=NotificationKind.CREDENTIAL_REVOKED)


async def unassign(
    db: Database, viewer: Caller | None, assignment_id: str, *, reason: str, now: datetime
) -> Assignment:
    admin = require_admin(viewer)
    reason = required(reason, field="reason", limit=MAX_REASON)

    def withdrawn(cycle: Assignment) -> Revision:
        _refuse_overridden(cycle)
        if cycle.completed_at is not None or cycle.certification is not None:
            raise invalid(
                Code.ALREADY_COMPLETED,
                "a completed cycle cannot be unassigned; revoke it instead",
                "assignment",
            )
        made = audit.on_cycle(
            admin,
            Action.UNASSIGN_CREDENTIAL,
            cycle,
            now=now,
            reason=reason,
            changes=(Change("withdrawnAt", None, now),),
        )
        return Revision(withdrawal=Withdrawal(now, admin.id, reason), event=made)

    cycle = await decided_cycle(db, require_viewer(viewer), assignment_id)
    return await _overridden(
        db, cycle, withdrawn, now=now, told=NotificationKind.CREDENTIAL_UNASSIGNED
    )


async def revoke_record(
    db: Database, viewer: Caller | None, record_id: str, *, reason: str, now: datetime
) -> Record:
    """Administrators, and the learner's managers (not for their own records), as for a review:
    to a manager anyone else's record does not exist."""
    caller = require_viewer(viewer)
    reviewer = require_reviewer(caller)
    reason = required(reason, field="reason", limit=MAX_REASON)
    found = await records.get(db, org_id=reviewer.org_id, id=record_id)
    if found is None or not caller.decides_for(found.learner_id):
        raise not_found("the record", field="record")
    made = audit.event(
        reviewer, Action.REVOKE_TRAINING_RECORD, "TrainingRecord", subject_id=record_id,
        now=now, reason=reason,
        changes=(Change("status", RecordStatus.APPROVED.value, RecordStatus.REVOKED.value),),
        related=(found.learner_id,),
    )  # fmt: skip
    revoked = await records.revoke(
        db, record=found, by=reviewer.id, reason=reason, now=now, event=made
    )
    if revoked is None:
        found = await records.get(db, org_id=reviewer.org_id, id=record_id)
        if found is not None and found.status is RecordStatus.REVOKED:
            raise invalid(Code.ALREADY_REVOKED, "this record is revoked already", "record")
        raise invalid(Code.NOT_APPROVED, "only an approved record can be revoked", "record")
    await recording.decided(db, revoked, now)
    return revoked


def _refuse_overridden(cycle: Assignment) -> None:
    """A revoked or withdrawn cycle takes no more overrides: assign the credential again."""
    if cycle.revocation is not None:
        raise invalid(Code.ALREADY_REVOKED, "this cycle is revoked", "assignment")
    if cycle.withdrawal is not None:
        raise invalid(Code.WITHDRAWN, "this cycle was withdrawn", "assignment")


async def _overridden(
    db: Database,
    cycle: Assignment,
    decide: Callable[[Assignment], Revision],
    *,
    now: datetime,
    told: NotificationKind | None = None,
) -> Assignment:
    """Store the decision, derive the learner's cycles again (a certification completes, a
    revocation withdraws its renewal, an unassignment takes a renewal a racing completion stored
    ahead of it), tell the learner, and answer the cycle as derivation left it."""
    stored = await revised(db, cycle, decide)
    await settle(db, org_id=stored.org_id, learner_ids=[stored.learner_id], now=now)
    if told is not None:
        await tell(db, stored, told, now)
    found = await assignments.get(db, org_id=stored.org_id, id=stored.id)
    return found or stored
