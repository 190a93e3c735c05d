"""Groups and who manages them (`resolvers.groups`)."""

from __future__ import annotations

import strawberry

from graph import ids
from graph.context import Info
from graph.errors import UserError, attempt
from graph.types.group import Group
from resolvers import groups
from store.groups import Group as StoredGroup
from store.groups import GroupChange


@strawberry.input
class CreateGroupInput:
    name: str
    members: list[strawberry.ID] = strawberry.field(default_factory=list)
    managers: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Users with the MANAGER role."
    )


@strawberry.type
class CreateGroupPayload:
    group: Group | None
    user_errors: list[UserError]


@strawberry.input(description="Only what is given changes; people not named stay as they are.")
class UpdateGroupInput:
    group: strawberry.ID
    name: str | None = None
    add_members: list[strawberry.ID] = strawberry.field(default_factory=list)
    remove_members: list[strawberry.ID] = strawberry.field(default_factory=list)
    add_managers: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Users with the MANAGER role."
    )
    remove_managers: list[strawberry.ID] = strawberry.field(default_factory=list)


@strawberry.type
class UpdateGroupPayload:
    group: Group | None
    user_errors: list[UserError]


def _users(gids: list[strawberry.ID], field: str) -> tuple[str, ...]:
    return tuple(ids.db_id(g, expect="User", field=field) for g in gids)


def _shown(found: StoredGroup | None) -> Group | None:
    return Group.from_record(found) if found else None


@strawberry.type
class GroupMutations:
    @strawberry.mutation(description="Administrators: a new group, with members and managers.")
    async def create_group(self, info: Info, input: CreateGroupInput) -> CreateGroupPayload:
        ctx = info.context
        group, errors = await attempt(
            lambda: groups.create_group(
                ctx.db,
                ctx.viewer,
                name=input.name,
                member_ids=list(_users(input.members, "members")),
                manager_ids=list(_users(input.managers, "managers")),
                now=ctx.now,
            )
        )
        return CreateGroupPayload(group=_shown(group), user_errors=errors)

    @strawberry.mutation(
        description="Administrators: rename a group, or add and remove members and managers "
        "(one atomic change; managers' reach changes with their next request)."
    )
    async def update_group(self, info: Info, input: UpdateGroupInput) -> UpdateGroupPayload:
        ctx = info.context

        def change() -> GroupChange:
            return GroupChange(
                name=input.name,
                add_members=_users(input.add_members, "addMembers"),
                remove_members=_users(input.remove_members, "removeMembers"),
                add_managers=_users(input.add_managers, "addManagers"),
                remove_managers=_users(input.remove_managers, "removeManagers"),
            )

        group, errors = await attempt(
            lambda: groups.update_group(
                ctx.db,
                ctx.viewer,
                ids.db_id(input.group, expect="Group", field="group"),
                change(),
                now=ctx.now,
            )
        )
        return UpdateGroupPayload(group=_shown(group), user_errors=errors)
