"""Due-date extensions: granted directly, or requested and decided (`resolvers.extensions`)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from graph import ids
from graph.context import Info
from graph.errors import UserError, attempt
from graph.types.assignment import CredentialAssignment
from graph.types.extension import ExtensionRequest
from resolvers import extensions
from store.extension_requests import ExtensionRequest as StoredRequest


@strawberry.input
class ExtendDueDateInput:
    assignment: strawberry.ID
    due_date: datetime = strawberry.field(description="Later than the current due date.")
    reason: str


@strawberry.type
class ExtendDueDatePayload:
    assignment: CredentialAssignment | None
    user_errors: list[UserError]


@strawberry.input
class RequestExtensionInput:
    assignment: strawberry.ID
    due_date: datetime = strawberry.field(description="The due date asked for.")
    reason: str


@strawberry.type
class RequestExtensionPayload:
    request: ExtensionRequest | None
    user_errors: list[UserError]


@strawberry.input
class GrantExtensionInput:
    request: strawberry.ID
    note: str | None = None


@strawberry.type
class GrantExtensionPayload:
    request: ExtensionRequest | None
    user_errors: list[UserError]


@strawberry.input
class DenyExtensionInput:
    request: strawberry.ID
    note: str = strawberry.field(description="Why: the learner is told.")


@strawberry.type
class DenyExtensionPayload:
    request: ExtensionRequest | None
    user_errors: list[UserError]


def _assignment(gid: strawberry.ID) -> str:
    return ids.db_id(gid, expect="CredentialAssignment", field="assignment")


def _request(gid: strawberry.ID) -> str:
    return ids.db_id(gid, expect="ExtensionRequest", field="request")


def _shown(found: StoredRequest | None) -> ExtensionRequest | None:
    return ExtensionRequest.from_record(found) if found else None


@strawberry.type
class ExtensionMutations:
    @strawberry.mutation(
        description="Administrators, and the learner's managers: move an open cycle's due "
        "date later. The original stays in `extensions`; the learner is told."
    )
    async def extend_due_date(self, info: Info, input: ExtendDueDateInput) -> ExtendDueDatePayload:
        ctx = info.context
        found, errors = await attempt(
            lambda: extensions.extend_due_date(
                ctx.db, ctx.viewer, _assignment(input.assignment), due_date=input.due_date,
                reason=input.reason, now=ctx.now,
            )
        )  # fmt: skip
        shown = CredentialAssignment.from_record(found) if found else None
        return ExtendDueDatePayload(assignment=shown, user_errors=errors)

    @strawberry.mutation(
        description="Learners: ask for a later due date for one of your open cycles (one "
        "request waits at a time); your managers, else the administrators, are told."
    )
    async def request_extension(
        self, info: Info, input: RequestExtensionInput
    ) -> RequestExtensionPayload:
        ctx = info.context
        found, errors = await attempt(
            lambda: extensions.request_extension(
                ctx.db, ctx.viewer, _assignment(input.assignment), due_date=input.due_date,
                reason=input.reason, now=ctx.now,
            )
        )  # fmt: skip
        return RequestExtensionPayload(request=_shown(found), user_errors=errors)

    @strawberry.mutation(
        description="Administrators, and the learner's managers: grant a waiting request; the "
        "cycle's due date moves to the one asked for."
    )
    async def grant_extension(
        self, info: Info, input: GrantExtensionInput
    ) -> GrantExtensionPayload:
        ctx = info.context
        found, errors = await attempt(
            lambda: extensions.grant_extension(
                ctx.db, ctx.viewer, _request(input.request), note=input.note, now=ctx.now
            )
        )
        return GrantExtensionPayload(request=_shown(found), user_errors=errors)

    @strawberry.mutation(
        description="Administrators, and the learner's managers: deny a waiting request, "
        "saying why."
    )
    async def deny_extension(self, info: Info, input: DenyExtensionInput) -> DenyExtensionPayload:
        ctx = info.context
        found, errors = await attempt(
            lambda: extensions.deny_extension(
                ctx.db, ctx.viewer, _request(input.request), note=input.note, now=ctx.now
            )
        )
        return DenyExtensionPayload(request=_shown(found), user_errors=errors)
