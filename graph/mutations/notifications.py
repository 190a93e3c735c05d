"""A user's notifications (`resolvers.notifications`)."""

from __future__ import annotations

import strawberry

from graph import ids
from graph.context import Info
from graph.errors import UserError, attempt
from resolvers import notifications


@strawberry.input(description="Give `ids`, or `all: true` for every unread notification.")
class MarkNotificationsReadInput:
    ids: list[strawberry.ID] | None = None
    all: bool = False


@strawberry.type
class MarkNotificationsReadPayload:
    marked: int = strawberry.field(description="How many became read.")
    user_errors: list[UserError]


def _chosen(input: MarkNotificationsReadInput) -> list[str] | None:
    if input.all:
        return None
    return [
        ids.db_id(gid, expect="Notification", field=f"ids[{n}]")
        for n, gid in enumerate(input.ids or [])
    ]


@strawberry.type
class NotificationMutations:
    @strawberry.mutation(description="Mark your notifications read.")
    async def mark_notifications_read(
        self, info: Info, input: MarkNotificationsReadInput
    ) -> MarkNotificationsReadPayload:
        ctx = info.context
        marked, errors = await attempt(
            lambda: notifications.mark_read(ctx.db, ctx.viewer, ids=_chosen(input), now=ctx.now)
        )
        return MarkNotificationsReadPayload(marked=marked or 0, user_errors=errors)
