"""The people of an organization (`resolvers.users`)."""

from __future__ import annotations

import strawberry

from graph import ids
from graph.context import Info
from graph.enums import Role
from graph.errors import UserError, attempt
from graph.types.user import User
from resolvers import users
from store.users import User as StoredUser


@strawberry.input
class CreateUserInput:
    email: str
    name: str
    role: Role = Role.LEARNER


@strawberry.type
class CreateUserPayload:
    user: User | None
    user_errors: list[UserError]


@strawberry.input(description="Only the fields given change.")
class UpdateUserInput:
    user: strawberry.ID
    name: str | None = None
    email: str | None = None
    role: Role | None = strawberry.field(default=None, description="Not your own.")


@strawberry.type
class UpdateUserPayload:
    user: User | None
    user_errors: list[UserError]


@strawberry.input
class DeactivateUserInput:
    user: strawberry.ID


@strawberry.type
class DeactivateUserPayload:
    user: User | None
    user_errors: list[UserError]


@strawberry.input
class ReactivateUserInput:
    user: strawberry.ID


@strawberry.type
class ReactivateUserPayload:
    user: User | None
    user_errors: list[UserError]


@strawberry.input
class RevokeUserTokensInput:
    user: strawberry.ID


@strawberry.type
class RevokeUserTokensPayload:
    user: User | None
    user_errors: list[UserError]


def _user(gid: strawberry.ID) -> str:
    return ids.db_id(gid, expect="User", field="user")


def _shown(found: StoredUser | None) -> User | None:
    return User.from_record(found) if found else None


@strawberry.type
class UserMutations:
    @strawberry.mutation(description="Add a learner or administrator to your organization.")
    async def create_user(self, info: Info, input: CreateUserInput) -> CreateUserPayload:
        ctx = info.context
        user, errors = await attempt(
            lambda: users.create_user(
                ctx.db, ctx.viewer, email=input.email, name=input.name, role=input.role, now=ctx.now
            )
        )
        return CreateUserPayload(user=User.from_record(user) if user else None, user_errors=errors)

    @strawberry.mutation(description="Administrators: a user's name, email or role.")
    async def update_user(self, info: Info, input: UpdateUserInput) -> UpdateUserPayload:
        ctx = info.context
        user, errors = await attempt(
            lambda: users.update_user(
                ctx.db, ctx.viewer, _user(input.user), name=input.name, email=input.email,
                role=input.role, now=ctx.now,
            )
        )  # fmt: skip
        return UpdateUserPayload(user=_shown(user), user_errors=errors)

    @strawberry.mutation(
        description="Administrators: switch a user off. Their tokens stop working at once and "
        "they can no longer sign in; their credentials and records stay."
    )
    async def deactivate_user(
        self, info: Info, input: DeactivateUserInput
    ) -> DeactivateUserPayload:
        ctx = info.context
        user, errors = await attempt(
            lambda: users.deactivate_user(ctx.db, ctx.viewer, _user(input.user), now=ctx.now)
        )
        return DeactivateUserPayload(user=_shown(user), user_errors=errors)

    @strawberry.mutation(description="Administrators: switch a deactivated user back on.")
    async def reactivate_user(
        self, info: Info, input: ReactivateUserInput
    ) -> ReactivateUserPayload:
        ctx = info.context
        user, errors = await attempt(
            lambda: users.reactivate_user(ctx.db, ctx.viewer, _user(input.user), now=ctx.now)
        )
        return ReactivateUserPayload(user=_shown(user), user_errors=errors)

    @strawberry.mutation(
        description="Sign a user out everywhere: every token issued so far stops working. "
        "Yourself, or (administrators) anyone of the organization."
    )
    async def revoke_user_tokens(
        self, info: Info, input: RevokeUserTokensInput
    ) -> RevokeUserTokensPayload:
        ctx = info.context
        user, errors = await attempt(
            lambda: users.revoke_user_tokens(ctx.db, ctx.viewer, _user(input.user), now=ctx.now)
        )
        return RevokeUserTokensPayload(user=_shown(user), user_errors=errors)
