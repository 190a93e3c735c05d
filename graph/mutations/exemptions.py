"""Exempting a cycle and ending an exemption (`resolvers.exemptions`)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from graph import ids
from graph.context import Info
from graph.errors import UserError, attempt
from graph.types.assignment import CredentialAssignment
from resolvers import exemptions
from store.assignments import Assignment


@strawberry.input
class ExemptAssignmentInput:
    assignment: strawberry.ID
    reason: str = strawberry.field(description="Why: leave, exempt by role, … (kept with it).")
    until: datetime | None = strawberry.field(
        default=None, description="When it ends by itself; open-ended when not given."
    )


@strawberry.type
class ExemptAssignmentPayload:
    assignment: CredentialAssignment | None
    user_errors: list[UserError]


@strawberry.input
class RemoveExemptionInput:
    assignment: strawberry.ID
    reason: str


@strawberry.type
class RemoveExemptionPayload:
    assignment: CredentialAssignment | None
    user_errors: list[UserError]


def _assignment(gid: strawberry.ID) -> str:
    return ids.db_id(gid, expect="CredentialAssignment", field="assignment")


def _shown(found: Assignment | None) -> CredentialAssignment | None:
    return CredentialAssignment.from_record(found) if found else None


@strawberry.type
class ExemptionMutations:
    @strawberry.mutation(
        description="Administrators, and the learner's managers: excuse a cycle from now on "
        "(status EXEMPT, counted apart), until `until` or until removed."
    )
    async def exempt_assignment(
        self, info: Info, input: ExemptAssignmentInput
    ) -> ExemptAssignmentPayload:
        ctx = info.context
        found, errors = await attempt(
            lambda: exemptions.exempt_assignment(
                ctx.db, ctx.viewer, _assignment(input.assignment), reason=input.reason,
                until=input.until, now=ctx.now,
            )
        )  # fmt: skip
        return ExemptAssignmentPayload(assignment=_shown(found), user_errors=errors)

    @strawberry.mutation(
        description="Administrators, and the learner's managers: end the cycle's exemption "
        "now (its record stays: `asOf` a moment it covered still answers EXEMPT)."
    )
    async def remove_exemption(
        self, info: Info, input: RemoveExemptionInput
    ) -> RemoveExemptionPayload:
        ctx = info.context
        found, errors = await attempt(
            lambda: exemptions.remove_exemption(
                ctx.db, ctx.viewer, _assignment(input.assignment), reason=input.reason,
                now=ctx.now,
            )
        )  # fmt: skip
        return RemoveExemptionPayload(assignment=_shown(found), user_errors=errors)
