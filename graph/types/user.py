from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry

from graph import ids
from graph.context import Info
from graph.types.node import Node
from graph.types.organization import Organization
from resolvers import users as user_resolvers
from store import users

Role = strawberry.enum(users.Role, description="What a user may do in their organization.")


@strawberry.type(description="A learner or an administrator of one organization.")
class User(Node):
    email: str
    name: str
    role: Role
    created_at: datetime
    org_id: strawberry.Private[str]

    @classmethod
    def from_record(cls, user: users.User) -> Self:
        return cls(
            id=strawberry.ID(ids.encode("User", user.id)),
            email=user.email,
            name=user.name,
            role=user.role,
            created_at=user.created_at,
            org_id=user.org_id,
        )

    @classmethod
    async def load(cls, info: Info, db_id: str) -> Self | None:
        ctx = info.context
        user = await user_resolvers.visible_user(ctx.viewer, ctx.loaders, db_id)
        return cls.from_record(user) if user else None

    @strawberry.field
    async def organization(self, info: Info) -> Organization:
        org = await Organization.load(info, self.org_id)
        assert org is not None, "a visible user's organization is the caller's"
        return org
