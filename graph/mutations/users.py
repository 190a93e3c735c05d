"""The people of an organization (`resolvers.users`)."""

from __future__ import annotations

import strawberry

from graph.context import Info
from graph.enums import Role
from graph.errors import UserError, attempt
from graph.types.user import User
from resolvers import users


@strawberry.input
class CreateUserInput:
    email: str
    name: str
    role: Role = Role.LEARNER


@strawberry.type
class CreateUserPayload:
    user: User | None
    user_errors: list[UserError]


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
