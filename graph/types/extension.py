from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from graph import ids
from graph.context import Info
from graph.enums import RequestStatus
from graph.types.node import Node, entity, named, node_type
from resolvers import extensions
from store import extension_requests

if TYPE_CHECKING:
    from graph.types.assignment import CredentialAssignment
    from graph.types.user import User


@entity
@strawberry.type(description="A learner's request for a later due date, and its decision.")
class ExtensionRequest(Node):
    requested_due_date: datetime
    reason: str
    status: RequestStatus
    created_at: datetime
    reviewed_at: datetime | None
    review_note: str | None
    record: strawberry.Private[extension_requests.ExtensionRequest]

    @classmethod
    def from_record(cls, request: extension_requests.ExtensionRequest) -> Self:
        return cls(
            id=strawberry.ID(ids.encode("ExtensionRequest", request.id)),
            requested_due_date=request.requested_due_date,
            reason=request.reason,
            status=request.status,
            created_at=request.created_at,
            reviewed_at=request.reviewed_at,
            review_note=request.review_note,
            record=request,
        )

    @classmethod
    async def load(cls, info: Info, db_id: str) -> Self | None:
        ctx = info.context
        found = await extensions.visible_request(ctx.db, ctx.viewer, db_id)
        return cls.from_record(found) if found else None

    @strawberry.field
    async def assignment(
        self, info: Info
    ) -> Annotated[CredentialAssignment, strawberry.lazy("graph.types.assignment")] | None:
        return await node_type("CredentialAssignment").load(info, self.record.assignment_id)

    @strawberry.field
    async def requested_by(
        self, info: Info
    ) -> Annotated[User, strawberry.lazy("graph.types.user")] | None:
        return await named(info, self.record.requested_by)

    @strawberry.field
    async def reviewed_by(
        self, info: Info
    ) -> Annotated[User, strawberry.lazy("graph.types.user")] | None:
        return await named(info, self.record.reviewed_by)
