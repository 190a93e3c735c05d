from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry

from graph import ids
from graph.context import Info
from graph.enums import Scope
from graph.types.node import Node
from store import api_tokens


@strawberry.type(
    description="An integration's token: it acts only within its scopes and organization. "
    "Its secret was shown once, when it was made."
)
class ApiToken(Node):
    name: str
    scopes: list[Scope]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    record: strawberry.Private[api_tokens.ApiToken]

    @classmethod
    def from_record(cls, token: api_tokens.ApiToken) -> Self:
        return cls(
            id=strawberry.ID(ids.encode("ApiToken", token.id)),
            name=token.name,
            scopes=sorted(token.scopes),
            created_at=token.created_at,
            expires_at=token.expires_at,
            revoked_at=token.revoked_at,
            record=token,
        )

    @strawberry.field(description="To the minute: when it last made a request.")
    def last_used_at(self, info: Info) -> datetime | None:
        info.context.now  # noqa: B018 -- it changes with every use: true for this second only
        return self.record.last_used_at
