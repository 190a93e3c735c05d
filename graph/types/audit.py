"""The audit log's events, as administrators read them (`resolvers.audit`)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry
from strawberry.scalars import JSON

from graph import ids
from graph.context import Info
from graph.enums import Action
from graph.types.node import NODE_TYPES, Node, named
from graph.types.values import as_json
from store import audit

if TYPE_CHECKING:
    from graph.types.user import User


@strawberry.type(description="One field of the subject, as it was and as it became.")
class AuditChange:
    field: str
    before: JSON | None = strawberry.field(
        description="Null: there was none (the subject was made, or the field was unset)."
    )
    after: JSON | None

    @classmethod
    def from_record(cls, change: audit.Change) -> Self:
        return cls(
            field=change.field,
            before=as_json(change.before, change.refers_to),
            after=as_json(change.after, change.refers_to),
        )


@strawberry.type(
    description="One change an administrator or a manager made to one thing: written with "
    "the change itself, so there is never one without the other."
)
class AuditEvent:
    id: strawberry.ID
    at: datetime
    action: Action
    subject_id: strawberry.ID = strawberry.field(
        description="The global id of what was changed (it resolves through `node`, unless it "
        "is an API token or a signing key, which are no nodes)."
    )
    reason: str | None = strawberry.field(description="The reason or note given, if any.")
    changes: list[AuditChange]
    record: strawberry.Private[audit.Event]

    @classmethod
    def from_record(cls, event: audit.Event) -> Self:
        return cls(
            id=strawberry.ID(ids.encode("AuditEvent", event.id)),
            at=event.at,
            action=Action(event.action),
            subject_id=strawberry.ID(ids.encode(event.subject_type, event.subject_id)),
            reason=event.reason,
            changes=[AuditChange.from_record(c) for c in event.changes],
            record=event,
        )

    @strawberry.field(description="Who made the change.")
    async def actor(
        self, info: Info
    ) -> Annotated[User, strawberry.lazy("graph.types.user")] | None:
        return await named(info, self.record.actor_id)

    @strawberry.field(description="What was changed, as it is now; null if it is no node.")
    async def subject(self, info: Info) -> Node | None:
        entity = NODE_TYPES.get(self.record.subject_type)
        return await entity.load(info, self.record.subject_id) if entity else None
