"""API tokens for integrations (`resolvers.api_tokens`)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from graph import ids
from graph.context import Info
from graph.enums import Scope
from graph.errors import UserError, attempt
from graph.types.api_token import ApiToken
from resolvers import api_tokens


@strawberry.input
class CreateApiTokenInput:
    name: str = strawberry.field(description='What it is for: "Ward 5 wallboard".')
    scopes: list[Scope]
    expires_at: datetime | None = strawberry.field(
        default=None, description="When it stops working; never, when not given."
    )


@strawberry.type
class CreateApiTokenPayload:
    api_token: ApiToken | None
    secret: str | None = strawberry.field(
        description="The bearer token to give the integration: shown this once, never again."
    )
    user_errors: list[UserError]


@strawberry.input
class RevokeApiTokenInput:
    api_token: strawberry.ID


@strawberry.type
class RevokeApiTokenPayload:
    api_token: ApiToken | None
    user_errors: list[UserError]


@strawberry.type
class ApiTokenMutations:
    @strawberry.mutation(
        description="Administrators: a token for an integration, acting only within its scopes."
    )
    async def create_api_token(
        self, info: Info, input: CreateApiTokenInput
    ) -> CreateApiTokenPayload:
        ctx = info.context
        made, errors = await attempt(
            lambda: api_tokens.create_api_token(
                ctx.db,
                ctx.viewer,
                name=input.name,
                scopes=list(input.scopes),
                expires_at=input.expires_at,
                now=ctx.now,
            )
        )
        if made is None:
            return CreateApiTokenPayload(api_token=None, secret=None, user_errors=errors)
        token, secret = made
        return CreateApiTokenPayload(
            api_token=ApiToken.from_record(token), secret=secret, user_errors=[]
        )

    @strawberry.mutation(description="Administrators: revoke a token; its next request fails.")
    async def revoke_api_token(
        self, info: Info, input: RevokeApiTokenInput
    ) -> RevokeApiTokenPayload:
        ctx = info.context
        token, errors = await attempt(
            lambda: api_tokens.revoke_api_token(
                ctx.db,
                ctx.viewer,
                ids.db_id(input.api_token, expect="ApiToken", field="apiToken"),
                now=ctx.now,
            )
        )
        return RevokeApiTokenPayload(
            api_token=ApiToken.from_record(token) if token else None, user_errors=errors
        )
