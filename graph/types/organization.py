from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry

from graph import ids
from graph.context import Info
from graph.types.node import Node, entity
from resolvers.organizations import visible_single_sign_on
from store import organizations


@strawberry.type(
    description="Tokens of the organization's OpenID Connect provider sign its people in."
)
class SingleSignOn:
    issuer: str = strawberry.field(description="The provider's issuer URL, as tokens name it.")
    audience: str = strawberry.field(description="What the provider's tokens carry in `aud`.")
    create_users_on_first_sign_in: bool = strawberry.field(
        description="Whether an email no user has becomes a learner on first sign-in."
    )


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
    development_mode: bool = strawberry.field(
        description="Whether webhooks may deliver to the server's own machine (loopback)."
    )
    record: strawberry.Private[organizations.Organization]

    @classmethod
    def from_record(cls, org: organizations.Organization) -> Self:
        return cls(
            id=strawberry.ID(ids.encode("Organization", org.id)),
            name=org.name,
            created_at=org.created_at,
            self_reported_progress=org.self_reported_progress,
            always_notify_administrators=org.always_notify_administrators,
            development_mode=org.development_mode,
            record=org,
        )

    @classmethod
    async def load(cls, info: Info, db_id: str) -> Self | None:
        org = await info.context.loaders.organizations_by_id.load(db_id)
        return cls.from_record(org) if org else None

    @strawberry.field(description="Administrators only: null for anyone else, or when not set.")
    def single_sign_on(self, info: Info) -> SingleSignOn | None:
        found = visible_single_sign_on(info.context.viewer, self.record)
        if found is None:
            return None
        return SingleSignOn(
            issuer=found.issuer,
            audience=found.audience,
            create_users_on_first_sign_in=found.create_users,
        )
