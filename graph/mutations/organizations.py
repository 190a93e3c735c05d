"""The caller's organization and its policies (`resolvers.organizations`)."""

from __future__ import annotations

import strawberry

from graph.context import Info
from graph.errors import UserError, attempt
from graph.types.organization import Organization
from resolvers import organizations


@strawberry.input(description="Only the fields given change.")
class UpdateOrganizationInput:
    self_reported_progress: bool | None = strawberry.field(
        default=None,
        description="Whether learners may report their own course progress (off: only the "
        "course player, with a COURSE_PLAYER token, or an administrator may).",
    )
    always_notify_administrators: bool | None = strawberry.field(
        default=None,
        description="Whether administrators are told of every submission (off: only of "
        "those by learners without a manager).",
    )


@strawberry.type
class UpdateOrganizationPayload:
    organization: Organization | None
    user_errors: list[UserError]


@strawberry.type
class OrganizationMutations:
    @strawberry.mutation(description="Administrators: your organization's policies.")
    async def update_organization(
        self, info: Info, input: UpdateOrganizationInput
    ) -> UpdateOrganizationPayload:
        ctx = info.context
        org, errors = await attempt(
            lambda: organizations.update_policies(
                ctx.db,
                ctx.viewer,
                self_reported_progress=input.self_reported_progress,
                always_notify_administrators=input.always_notify_administrators,
            )
        )
        return UpdateOrganizationPayload(
            organization=Organization.from_record(org) if org else None, user_errors=errors
        )
