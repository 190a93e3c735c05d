"""The event feed's events, as integrations read them (`resolvers.feed`)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry
from strawberry.scalars import JSON

from graph import ids
from graph.context import Info
from graph.enums import FeedKind
from graph.types.node import NODE_TYPES, Node, named
from graph.types.values import as_json
from store import feed

if TYPE_CHECKING:
    from graph.types.credential import Credential
    from graph.types.user import User


@strawberry.type(
    name="Event",
    description="Something that happened in the organization: a change (assigned, completed, "
    "approved …) or a moment that came with time (overdue, expired). Each has its place in "
    "the organization's feed, never taken by another.",
)
class FeedEvent:
    id: str = strawberry.field(
        description="The event's own id: a webhook delivery's `Credgraph-Event-Id`, so what "
        "came both ways is known as one."
    )
    cursor: str = strawberry.field(
        description="Its place in the feed: keep the last one handled, and ask "
        "`events(after:)` with it to go on from there."
    )
    kind: FeedKind
    at: datetime = strawberry.field(description="When it happened.")
    subject_id: strawberry.ID = strawberry.field(
        description="The global id of the cycle or record it happened to."
    )
    data: JSON = strawberry.field(
        description="What else it says, by kind: the cycle's number and due date; validFrom "
        "and validUntil of a completion; the dates an extension moved between; a record's "
        "type and title."
    )
    record: strawberry.Private[feed.FeedEvent]

    @classmethod
    def from_record(cls, event: feed.FeedEvent) -> Self:
        return cls(
            id=event.id,
            cursor=str(event.seq),
            kind=event.kind,
            at=event.at,
            subject_id=strawberry.ID(ids.encode(event.subject_type, event.subject_id)),
            data=as_json(event.data),
            record=event,
        )

    @staticmethod
    def payload(event: feed.FeedEvent) -> dict[str, object]:
        """The event as a webhook's receiver gets it: the fields of `Event`, ids global."""
        return {
            "id": event.id,
            "cursor": str(event.seq),
            "kind": event.kind.value,
            "at": event.at.isoformat(),
            "subjectId": ids.encode(event.subject_type, event.subject_id),
            "learnerId": ids.encode("User", event.learner_id),
            "credentialId": ids.encode("Credential", event.credential_id)
            if event.credential_id
            else None,
            "data": as_json(event.data),
        }

    @strawberry.field(description="The cycle or record, as it is now.")
    async def subject(self, info: Info) -> Node | None:
        entity = NODE_TYPES.get(self.record.subject_type)
        return await entity.load(info, self.record.subject_id) if entity else None

    @strawberry.field(description="Whose cycle or record it is.")
    async def learner(
        self, info: Info
    ) -> Annotated[User, strawberry.lazy("graph.types.user")] | None:
        return await named(info, self.record.learner_id)

    @strawberry.field(description="The credential of the cycle (or the record's), if any.")
    async def credential(
        self, info: Info
    ) -> Annotated[Credential, strawberry.lazy("graph.types.credential")] | None:
        if self.record.credential_id is None:
            return None
        return await NODE_TYPES["Credential"].load(info, self.record.credential_id)
