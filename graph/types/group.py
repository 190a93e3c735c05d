from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from graph import ids
from graph.context import Info
from graph.types.connection import Connection
from graph.types.node import Node, entity, node_type
from resolvers import groups
from resolvers import users as user_resolvers
from store import groups as stored

if TYPE_CHECKING:
    from graph.types.user import User


@entity
@strawberry.type(
    description="A team: its managers see and act for its members (their credentials, "
    "records and reviews). A user belongs to any number of groups."
)
class Group(Node):
    name: str
    created_at: datetime
    record: strawberry.Private[stored.Group]

    @classmethod
    def from_record(cls, group: stored.Group) -> Self:
        return cls(
            id=strawberry.ID(ids.encode("Group", group.id)),
            name=group.name,
            created_at=group.created_at,
            record=group,
        )

    @classmethod
    async def load(cls, info: Info, db_id: str) -> Self | None:
        ctx = info.context
        found = await ctx.loaders.groups_by_id.load(db_id)
        return cls.from_record(found) if found and groups.visible(ctx.viewer, found) else None

    @strawberry.field(description="Its members you may see (a learner sees only themselves).")
    async def members(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[User, strawberry.lazy("graph.types.user")]]:
        ctx = info.context
        page = await user_resolvers.group_members(
            ctx.db, ctx.viewer, self.record, first=first, after=after
        )
        return Connection.of(page, node_type("User").from_record)

    @strawberry.field(description="The managers who answer for its members.")
    async def managers(
        self, info: Info
    ) -> list[Annotated[User, strawberry.lazy("graph.types.user")]]:
        ctx = info.context
        found = await ctx.loaders.users_by_id.load_many(list(self.record.manager_ids))
        return [node_type("User").from_record(u) for u in found if u is not None]
