"""Webhooks and their deliveries (`resolvers.webhooks`)."""

from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry

from graph import ids
from graph.context import Info
from graph.enums import FeedKind
from graph.types.connection import Connection
from graph.types.node import Node, entity
from resolvers import webhooks as webhook_resolvers
from store import webhooks


@entity
@strawberry.type(
    description="A receiver the organization's events are POSTed to as they happen, signed "
    "with its secret (shown once, when it was made), in order, until acknowledged with 2xx."
)
class Webhook(Node):
    url: str
    kinds: list[FeedKind] = strawberry.field(description="The kinds it gets; empty: all.")
    created_at: datetime
    position: str = strawberry.field(
        description="The `cursor` of the last event its receiver acknowledged."
    )
    failing_since: datetime | None = strawberry.field(
        description="Since when the next event has been failing, if it has."
    )
    next_attempt_at: datetime | None = strawberry.field(
        description="When that event is tried again."
    )
    paused_at: datetime | None = strawberry.field(
        description="When it stopped trying, a day of failures later (resumeWebhook starts it "
        "again from that event)."
    )
    pause_reason: str | None
    record: strawberry.Private[webhooks.Webhook]

    @classmethod
    def from_record(cls, webhook: webhooks.Webhook) -> Self:
        return cls(
            id=strawberry.ID(ids.encode("Webhook", webhook.id)),
            url=webhook.url,
            kinds=list(webhook.kinds),
            created_at=webhook.created_at,
            position=str(webhook.position),
            failing_since=webhook.failing_since,
            next_attempt_at=webhook.next_attempt_at,
            paused_at=webhook.paused_at,
            pause_reason=webhook.pause_reason,
            record=webhook,
        )

    @classmethod
    async def load(cls, info: Info, db_id: str) -> Self | None:
        ctx = info.context
        found = await webhook_resolvers.visible(ctx.db, ctx.viewer, db_id)
        return cls.from_record(found) if found else None

    @strawberry.field(description="Every attempt to deliver to it, newest first.")
    async def deliveries(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[WebhookDelivery]:
        ctx = info.context
        page = await webhook_resolvers.deliveries_page(
            ctx.db, ctx.viewer, self.record.id, first=first, after=after
        )
        return Connection.of(page, WebhookDelivery.from_record)


@strawberry.type(description="One attempt to POST one event to a webhook's receiver.")
class WebhookDelivery:
    event_id: str = strawberry.field(description="The event's `Credgraph-Event-Id`.")
    cursor: str = strawberry.field(description="The event's place in the feed.")
    kind: FeedKind
    attempt: int = strawberry.field(description="1 for the first try of this event.")
    at: datetime
    status: int | None = strawberry.field(
        description="The receiver's HTTP status; null when it did not answer."
    )
    error: str | None
    duration_ms: int

    @classmethod
    def from_record(cls, delivery: webhooks.Delivery) -> Self:
        return cls(
            event_id=delivery.event_id,
            cursor=str(delivery.seq),
            kind=delivery.kind,
            attempt=delivery.attempt,
            at=delivery.at,
            status=delivery.status,
            error=delivery.error,
            duration_ms=delivery.duration_ms,
        )
