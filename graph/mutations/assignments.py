"""Assigning credentials to learners (`resolvers.assignments`)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from graph import ids
from graph.context import Info
from graph.errors import UserError, attempt
from graph.types.assignment import CredentialAssignment
from resolvers import assignments
from resolvers.clock import as_utc


@strawberry.input
class AssignCredentialInput:
    credential: strawberry.ID
    learners: list[strawberry.ID]
    start_date: datetime | None = strawberry.field(
        default=None,
        description="When learners may begin; default now. May be in the past (back-filling).",
    )
    due_date: datetime | None = strawberry.field(
        default=None, description="Default: the start date plus the credential's completeWithin."
    )


@strawberry.type
class AssignCredentialPayload:
    assignments: list[CredentialAssignment] = strawberry.field(
        description="One per learner, in input order: the new cycle, or the open or still "
        "valid one when the learner already has it (assigning is idempotent)."
    )
    user_errors: list[UserError]


@strawberry.type
class AssignmentMutations:
    @strawberry.mutation(description="Administrators: assign a credential to learners.")
    async def assign_credential(
        self, info: Info, input: AssignCredentialInput
    ) -> AssignCredentialPayload:
        ctx = info.context
        done, errors = await attempt(
            lambda: assignments.assign(
                ctx.db,
                ctx.viewer,
                credential_id=ids.db_id(input.credential, expect="Credential", field="credential"),
                learner_ids=[
                    ids.db_id(gid, expect="User", field=f"learners[{i}]")
                    for i, gid in enumerate(input.learners)
                ],
                start_date=as_utc(input.start_date, field="startDate")
                if input.start_date
                else None,
                due_date=as_utc(input.due_date, field="dueDate") if input.due_date else None,
                now=ctx.now,
            )
        )
        return AssignCredentialPayload(
            assignments=[CredentialAssignment.from_record(a) for a in done or ()],
            user_errors=errors,
        )
