"""The caller's organization: its policies and single sign-on (`resolvers.organizations`)."""

from __future__ import annotations

import strawberry

from graph.context import Info
from graph.errors import UserError, attempt
from graph.types.organization import Organization
from resolvers import organizations
from store.organizations import Organization as StoredOrganization


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
    development_mode: bool | None = strawberry.field(
        default=None,
        description="Whether webhooks may deliver to this machine (http or https on "
        "loopback), for building a receiver; off, only to https on the public internet.",
    )


@strawberry.type
class UpdateOrganizationPayload:
    organization: Organization | None
    user_errors: list[UserError]


@strawberry.input
class ConfigureSingleSignOnInput:
    issuer: str = strawberry.field(
        description="The OpenID Connect issuer URL exactly as its tokens name it (`iss`); its "
        "discovery document is at `{issuer}/.well-known/openid-configuration`. https (http "
        "only for localhost)."
    )
    audience: str = strawberry.field(
        description="What the provider puts in the tokens' `aud` for credgraph (its client id)."
    )
    create_users_on_first_sign_in: bool = strawberry.field(
        default=False,
        description="An email no user has becomes a learner on first sign-in (else it is "
        "refused until an administrator adds the user).",
    )


@strawberry.type
class ConfigureSingleSignOnPayload:
    organization: Organization | None
    user_errors: list[UserError]


@strawberry.input
class RemoveSingleSignOnInput:
    issuer: str = strawberry.field(description="The issuer configured now, to be removed.")


@strawberry.type
class RemoveSingleSignOnPayload:
    organization: Organization | None
    user_errors: list[UserError]


def _shown(found: StoredOrganization | None) -> Organization | None:
    return Organization.from_record(found) if found else None


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
                development_mode=input.development_mode,
                now=ctx.now,
            )
        )
        return UpdateOrganizationPayload(organization=_shown(org), user_errors=errors)

    @strawberry.mutation(
        description="Administrators: sign your people in with tokens of your OpenID Connect "
        "provider (RS256 or ES256, keys from its JWKS); the `email` claim names the user."
    )
    async def configure_single_sign_on(
        self, info: Info, input: ConfigureSingleSignOnInput
    ) -> ConfigureSingleSignOnPayload:
        ctx = info.context
        org, errors = await attempt(
            lambda: organizations.configure_single_sign_on(
                ctx.db, ctx.viewer, issuer=input.issuer, audience=input.audience,
                create_users=input.create_users_on_first_sign_in, now=ctx.now,
            )
        )  # fmt: skip
        return ConfigureSingleSignOnPayload(organization=_shown(org), user_errors=errors)

    @strawberry.mutation(
        description="Administrators: stop accepting your provider's tokens, at once."
    )
    async def remove_single_sign_on(
        self, info: Info, input: RemoveSingleSignOnInput
    ) -> RemoveSingleSignOnPayload:
        ctx = info.context
        org, errors = await attempt(
            lambda: organizations.remove_single_sign_on(
                ctx.db, ctx.viewer, issuer=input.issuer, now=ctx.now
            )
        )
        return RemoveSingleSignOnPayload(organization=_shown(org), user_errors=errors)
