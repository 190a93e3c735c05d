"""Webhooks (`resolvers.webhooks`)."""

from __future__ import annotations

import strawberry

from graph import ids
from graph.context import Info
from graph.enums import FeedKind
from graph.errors import UserError, attempt
from graph.types.webhook import Webhook
from resolvers import webhooks


@strawberry.input
class CreateWebhookInput:
    url: str = strawberry.field(
        description="Where to POST: https on the public internet (or, in development mode, "
        "this machine)."
    )
    kinds: list[FeedKind] = strawberry.field(
        default_factory=list, description="The kinds of event to send; none given: all."
    )


@strawberry.type
class CreateWebhookPayload:
    webhook: Webhook | None
    secret: str | None = strawberry.field(
        description="What each delivery is signed with (`Credgraph-Signature`): shown this "
        "once, never again."
    )
    user_errors: list[UserError]


@strawberry.input
class DeleteWebhookInput:
    webhook: strawberry.ID


@strawberry.type
class DeleteWebhookPayload:
    webhook: Webhook | None
    user_errors: list[UserError]


@strawberry.input
class ResumeWebhookInput:
    webhook: strawberry.ID


@strawberry.type
class ResumeWebhookPayload:
    webhook: Webhook | None
    user_errors: list[UserError]


def _webhook(input: DeleteWebhookInput | ResumeWebhookInput) -> str:
    return ids.db_id(input.webhook, expect="Webhook", field="webhook")


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(
        description="Administrators: POST the organization's events, from the next one on, "
        "to a receiver (the feed, `events`, has what came before)."
    )
    async def create_webhook(self, info: Info, input: CreateWebhookInput) -> CreateWebhookPayload:
        ctx = info.context
        made, errors = await attempt(
            lambda: webhooks.create_webhook(
                ctx.db, ctx.viewer, url=input.url, kinds=input.kinds, now=ctx.now
            )
        )
        return CreateWebhookPayload(
            webhook=Webhook.from_record(made) if made else None,
            secret=made.secret if made else None,
            user_errors=errors,
        )

    @strawberry.mutation(description="Administrators: stop a webhook for good.")
    async def delete_webhook(self, info: Info, input: DeleteWebhookInput) -> DeleteWebhookPayload:
        ctx = info.context
        found, errors = await attempt(
            lambda: webhooks.delete_webhook(ctx.db, ctx.viewer, _webhook(input), now=ctx.now)
        )
        return DeleteWebhookPayload(
            webhook=Webhook.from_record(found) if found else None, user_errors=errors
        )

    @strawberry.mutation(
        description="Administrators: try a paused webhook again, from the event it stopped at."
    )
    async def resume_webhook(self, info: Info, input: ResumeWebhookInput) -> ResumeWebhookPayload:
        ctx = info.context
        found, errors = await attempt(
            lambda: webhooks.resume_webhook(ctx.db, ctx.viewer, _webhook(input), now=ctx.now)
        )
        return ResumeWebhookPayload(
            webhook=Webhook.from_record(found) if found else None, user_errors=errors
        )
