"""Training records: submitted, approved, declined (`resolvers.records`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Any

import strawberry
from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload

from graph import ids
from graph.context import Info
from graph.enums import LessonStatus, RecordType
from graph.errors import UserError, attempt
from graph.types.record import TrainingRecord
from resolvers import records
from resolvers.clock import as_utc
from resolvers.documents import IncomingFile
from resolvers.records import Submission
from store.records import Record as StoredRecord

READ_SIZE = 64 * 1024


@strawberry.input(
    description="Send as a GraphQL multipart request when a document is attached. For a "
    "credential's task, pass `assignment` and `requirement`: title and label default from it."
)
class SubmitTrainingRecordInput:
    type: RecordType
    learner: strawberry.ID | None = strawberry.field(
        default=None, description="Administrators: the learner it is for (approved at once)."
    )
    assignment: strawberry.ID | None = None
    requirement: strawberry.ID | None = None
    title: str | None = None
    label: strawberry.ID | None = None
    provider: str | None = None
    clock_hours: float | None = None
    description: str | None = None
    lesson_status: LessonStatus | None = None
    completed_at: datetime | None = strawberry.field(
        default=None, description="When the training was done (Additional Training: required)."
    )
    issue_date: date | None = strawberry.field(
        default=None, description="Credential Documents: required."
    )
    end_date: date | None = strawberry.field(
        default=None, description="The document is valid through this date."
    )
    document: Upload | None = strawberry.field(
        default=None, description="PDF, PNG or JPEG (Credential Documents: required)."
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="A retry with the same key returns the first record."
    )
    resubmits: strawberry.ID | None = strawberry.field(
        default=None, description="A declined record this one replaces."
    )


@strawberry.input
class ApproveTrainingRecordInput:
    record: strawberry.ID
    note: str | None = None


@strawberry.input
class DeclineTrainingRecordInput:
    record: strawberry.ID
    reason: str


@strawberry.type
class SubmitTrainingRecordPayload:
    record: TrainingRecord | None
    user_errors: list[UserError]


@strawberry.type
class ApproveTrainingRecordPayload:
    record: TrainingRecord | None
    user_errors: list[UserError]


@strawberry.type
class DeclineTrainingRecordPayload:
    record: TrainingRecord | None
    user_errors: list[UserError]


def _optional_id(value: strawberry.ID | None, expect: str, field: str) -> str | None:
    return ids.db_id(value, expect=expect, field=field) if value else None


def _submission(input: SubmitTrainingRecordInput) -> Submission:
    return Submission(
        type=input.type,
        learner_id=_optional_id(input.learner, "User", "learner"),
        assignment_id=_optional_id(input.assignment, "CredentialAssignment", "assignment"),
        requirement_id=_optional_id(input.requirement, "Requirement", "requirement"),
        title=input.title,
        label_id=_optional_id(input.label, "Label", "label"),
        provider=input.provider,
        clock_hours=input.clock_hours,
        description=input.description,
        lesson_status=input.lesson_status,
        completed_at=as_utc(input.completed_at, field="completedAt")
        if input.completed_at
        else None,
        issue_date=input.issue_date,
        end_date=input.end_date,
        idempotency_key=input.idempotency_key,
        resubmits_id=_optional_id(input.resubmits, "TrainingRecord", "resubmits"),
    )


def _incoming(upload: Any) -> IncomingFile | None:
    if upload is None:
        return None
    file: UploadFile = upload

    async def chunks() -> AsyncIterator[bytes]:
        while chunk := await file.read(READ_SIZE):
            yield chunk

    return IncomingFile(filename=file.filename or "document", chunks=chunks())


def _shown(found: StoredRecord | None) -> TrainingRecord | None:
    return TrainingRecord.from_record(found) if found else None


async def _review(
    info: Info, record: strawberry.ID, *, approve: bool, note: str | None
) -> tuple[StoredRecord | None, list[UserError]]:
    ctx = info.context
    return await attempt(
        lambda: records.review(
            ctx.db, ctx.viewer, ids.db_id(record, expect="TrainingRecord", field="record"),
            approve=approve, note=note, now=ctx.now,
        )
    )  # fmt: skip


@strawberry.type
class RecordMutations:
    @strawberry.mutation(
        description="Submit Additional Training or a Credential Document. A learner's waits for "
        "an administrator; an administrator's (for a learner) is approved at once."
    )
    async def submit_training_record(
        self, info: Info, input: SubmitTrainingRecordInput
    ) -> SubmitTrainingRecordPayload:
        ctx = info.context
        found, errors = await attempt(
            lambda: records.submit(
                ctx.db,
                ctx.viewer,
                _submission(input),
                _incoming(input.document),
                max_document=ctx.settings.max_document,
                now=ctx.now,
            )
        )
        return SubmitTrainingRecordPayload(record=_shown(found), user_errors=errors)

    @strawberry.mutation(description="Administrators: approve a pending record.")
    async def approve_training_record(
        self, info: Info, input: ApproveTrainingRecordInput
    ) -> ApproveTrainingRecordPayload:
        found, errors = await _review(info, input.record, approve=True, note=input.note)
        return ApproveTrainingRecordPayload(record=_shown(found), user_errors=errors)

    @strawberry.mutation(description="Administrators: decline a pending record, with a reason.")
    async def decline_training_record(
        self, info: Info, input: DeclineTrainingRecordInput
    ) -> DeclineTrainingRecordPayload:
        found, errors = await _review(info, input.record, approve=False, note=input.reason)
        return DeclineTrainingRecordPayload(record=_shown(found), user_errors=errors)
