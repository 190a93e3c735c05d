from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry

from graph import ids
from graph.context import Info
from graph.types.node import Node, entity
from store import organizations


@entity
@strawberry.type(description="A tenant: its people and data are invisible to every other one.")
class Organization(Node):
    name: str
    created_at: datetime
    self_reported_progress: bool = strawberry.field(
        description="Whether learners may report their own course progress; off, progress "
        "comes from the course player (a COURSE_PLAYER token) or an administrator."
    )
    always_notify_administrators: bool = strawberry.field(
        description="Whether administrators are told of every submission, or only of those "
        "by learners without a manager."
    )

    @classmethod
    def from_record(cls, org: organizations.Organization) -> Self:
        return cls(
            id=strawberry.ID(ids.encode("Organization", org.id)),
            name=org.name,
            created_at=org.created_at,
            self_reported_progress=org.self_reported_progress,
            always_notify_administrators=org.always_notify_administrators,
        )

    @classmethod
    async def load(cls, info: Info, db_id: str) -> Self | None:
        org = await info.context.loaders.organizations_by_id.load(db_id)
        return cls.from_record(org) if org else None
