from __future__ import annotations

import strawberry

from graph import ids
from graph.context import Info
from graph.types.node import Node
from graph.types.organization import Organization
from graph.types.user import User
from resolvers.errors import not_found

NODE_TYPES: dict[str, type[User] | type[Organization]] = {
    "User": User,
    "Organization": Organization,
}


@strawberry.type
class Query:
    @strawberry.field(description="Any object by its global id; `NOT_FOUND` if you cannot see it.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        type_name, db_id = ids.decode(id, field="id")
        info.context.viewer  # noqa: B018 -- authenticate before revealing anything
        node_type = NODE_TYPES.get(type_name)
        found = await node_type.load(info, db_id) if node_type else None
        if found is None:
            raise not_found(f"the {type_name} {id}", field="id")
        return found

    @strawberry.field(description="The caller.")
    def me(self, info: Info) -> User:
        return User.from_record(info.context.viewer)
