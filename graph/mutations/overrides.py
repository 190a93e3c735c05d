"""Overrides of a cycle's completion: certifying, revoking, unassigning a cycle, and revoking
a record's approval (`resolvers.overrides`)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from graph import ids
from graph.context import Info
from graph.errors import UserError, attempt
from graph.types.assignment import CredentialAssignment
from graph.types.record import TrainingRecord
from resolvers import overrides
from store.assignments import Assignment

REASON = "Why (kept with the decision): required, at most 2000 characters."


@strawberry.input
class CertifyAssignmentInput:
    assignment: strawberry.ID = strawberry.field(description="The open cycle to complete.")
    completed_at: datetime = strawberry.field(
        description="The date the certificate attests: in the cycle's evidence window, not in "
        "the future, and recent enough that its validity has not lapsed."
    )
    reason: str = strawberry.field(description=REASON)


@strawberry.type
class CertifyAssignmentPayload:
    assignment: CredentialAssignment | None = strawberry.field(
        description="The cycle, completed (null on error)."
    )
    user_errors: list[UserError] = strawberry.field(description="Why nothing changed, if not.")


@strawberry.input
class RevokeAssignmentInput:
    assignment: strawberry.ID = strawberry.field(description="The completed cycle to revoke.")
    reason: str = strawberry.field(description=REASON)


@strawberry.type
class RevokeAssignmentPayload:
    assignment: CredentialAssignment | None = strawberry.field(
        description="The cycle, revoked (null on error)."
    )
    user_errors: list[UserError] = strawberry.field(description="Why nothing changed, if not.")


@strawberry.input
class UnassignCredentialInput:
    assignment: strawberry.ID = strawberry.field(description="The open cycle to withdraw.")
    reason: str = strawberry.field(description=REASON)


@strawberry.type
class UnassignCredentialPayload:
    assignment: CredentialAssignment | None = strawberry.field(
        description="The cycle, withdrawn (null on error)."
    )
    user_errors: list[UserError] = strawberry.field(description="Why nothing changed, if not.")


@strawberry.input
class RevokeTrainingRecordInput:
    record: strawberry.ID = strawberry.field(description="The approved record to revoke.")
    reason: str = strawberry.field(description=REASON)


@strawberry.type
class RevokeTrainingRecordPayload:
    record: TrainingRecord | None = strawberry.field(
        description="The record, revoked (null on error)."
    )
    user_errors: list[UserError] = strawberry.field(description="Why nothing changed, if not.")


def _assignment(gid: strawberry.ID) -> str:
    return ids.db_id(gid, expect="CredentialAssignment", field="assignment")


def _shown(found: Assignment | None) -> CredentialAssignment | None:
    return CredentialAssignment.from_record(found) if found else None


@strawberry.type
class OverrideMutations:
    @strawberry.mutation(
        description="Administrators: complete an open cycle by decision (a paper certificate, "
        "a migration), as evidence dated `completedAt` would: validFrom is that date, "
        "validUntil follows from the credential's validity, a renewal opens as for any "
        "completion, and better evidence may still extend it. The learner is told."
    )
    async def certify_assignment(
        self, info: Info, input: CertifyAssignmentInput
    ) -> CertifyAssignmentPayload:
        ctx = info.context
        found, errors = await attempt(
            lambda: overrides.certify(
                ctx.db, ctx.viewer, _assignment(input.assignment),
                completed_at=input.completed_at, reason=input.reason, now=ctx.now,
            )
        )  # fmt: skip
        return CertifyAssignmentPayload(assignment=_shown(found), user_errors=errors)

    @strawberry.mutation(
        description="Administrators: withdraw an earned (completed) cycle: status REVOKED from "
        "now on. A renewal its completion opened, still open, is withdrawn with it, so the "
        "revoked cycle stays the learner's current one until the credential is assigned "
        "again (a new cycle). The learner is told."
    )
    async def revoke_assignment(
        self, info: Info, input: RevokeAssignmentInput
    ) -> RevokeAssignmentPayload:
        ctx = info.context
        found, errors = await attempt(
            lambda: overrides.revoke(
                ctx.db, ctx.viewer, _assignment(input.assignment), reason=input.reason,
                now=ctx.now,
            )
        )  # fmt: skip
        return RevokeAssignmentPayload(assignment=_shown(found), user_errors=errors)

    @strawberry.mutation(
        description="Administrators: withdraw an open (not completed) cycle: it leaves the "
        "learner's list and every count from now on and stays in the history (status "
        "WITHDRAWN); assigning the credential again starts a new cycle. The learner is told."
    )
    async def unassign_credential(
        self, info: Info, input: UnassignCredentialInput
    ) -> UnassignCredentialPayload:
        ctx = info.context
        found, errors = await attempt(
            lambda: overrides.unassign(
                ctx.db, ctx.viewer, _assignment(input.assignment), reason=input.reason,
                now=ctx.now,
            )
        )  # fmt: skip
        return UnassignCredentialPayload(assignment=_shown(found), user_errors=errors)

    @strawberry.mutation(
        description="Administrators, and the learner's managers: withdraw an approved record's "
        "approval (status REVOKED): it counts no longer and the learner's credentials are "
        "derived again without it — a completion that rested on it alone is revoked. The "
        "learner is told."
    )
    async def revoke_training_record(
        self, info: Info, input: RevokeTrainingRecordInput
    ) -> RevokeTrainingRecordPayload:
        ctx = info.context
        found, errors = await attempt(
            lambda: overrides.revoke_record(
                ctx.db, ctx.viewer, ids.db_id(input.record, expect="TrainingRecord",
                                              field="record"),
                reason=input.reason, now=ctx.now,
            )
        )  # fmt: skip
        return RevokeTrainingRecordPayload(
            record=TrainingRecord.from_record(found) if found else None, user_errors=errors
        )
