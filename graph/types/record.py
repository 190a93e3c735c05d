"""Training records (Additional Training, Credential Documents) and their documents."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from graph import ids
from graph.context import Info
from graph.enums import LessonStatus, RecordStatus, RecordType
from graph.types.catalogue import Label
from graph.types.criteria import Requirement
from graph.types.node import Node, entity, named, node_type
from resolvers import criteria
from resolvers.cycles import Policy
from store import records as record_store

if TYPE_CHECKING:
    from graph.types.assignment import CredentialAssignment
    from graph.types.user import User


@strawberry.type(description="An uploaded file, verified by its bytes to be a PDF, PNG or JPEG.")
class Document:
    filename: str
    content_type: str
    size: int
    sha256: str
    url: str = strawberry.field(
        description="Download with the same bearer token (the learner and administrators "
        "only): relative to the server (`/documents/…`), or absolute under the configured "
        "public URL. Never built from the request's Host header."
    )


@entity
@strawberry.type(description="Training done elsewhere, or a document such as a licence.")
class TrainingRecord(Node):
    type: RecordType
    title: str
    provider: str | None
    clock_hours: float | None
    description: str | None
    lesson_status: LessonStatus | None
    completed_at: datetime | None
    issue_date: date | None
    end_date: date | None
    status: RecordStatus
    submitted_at: datetime
    reviewed_at: datetime | None
    review_note: str | None = strawberry.field(description="The approval note or decline reason.")
    revoked_at: datetime | None = strawberry.field(
        description="When its approval was revoked (status REVOKED): it counts no longer."
    )
    revocation_reason: str | None = strawberry.field(description="Why its approval was revoked.")
    document_reference: str | None = strawberry.field(
        description="An imported row's document: a URL or an external id, as the file gave it "
        "(credgraph never fetches it)."
    )
    record: strawberry.Private[record_store.Record]

    @classmethod
    def from_record(cls, record: record_store.Record) -> Self:
        return cls(
            id=strawberry.ID(ids.encode("TrainingRecord", record.id)),
            type=record.type,
            title=record.title,
            provider=record.provider,
            clock_hours=record.clock_hours,
            description=record.description,
            lesson_status=LessonStatus(record.lesson_status) if record.lesson_status else None,
            completed_at=record.completed_at,
            issue_date=record.issue_date,
            end_date=record.end_date,
            status=record.status,
            submitted_at=record.submitted_at,
            reviewed_at=record.reviewed_at,
            review_note=record.review_note,
            revoked_at=record.revocation.at if record.revocation else None,
            revocation_reason=record.revocation.reason if record.revocation else None,
            document_reference=record.document_reference,
            record=record,
        )

    @classmethod
    async def load(cls, info: Info, db_id: str) -> Self | None:
        ctx = info.context
        found = await ctx.loaders.records_by_id.load(db_id)
        if found is None or not ctx.viewer.sees(found.learner_id):
            return None
        return cls.from_record(found)

    @strawberry.field
    def document(self, info: Info) -> Document | None:
        stored = self.record.document
        if stored is None:
            return None
        ctx = info.context
        url = ctx.settings.public_url + ctx.request.app.url_path_for("document", record_id=self.id)
        return Document(
            filename=stored.filename,
            content_type=stored.content_type,
            size=stored.size,
            sha256=stored.sha256,
            url=url,
        )

    @strawberry.field
    async def learner(self, info: Info) -> Annotated[User, strawberry.lazy("graph.types.user")]:
        learner = await named(info, self.record.learner_id)
        assert learner is not None, "no user is deleted"
        return learner

    @strawberry.field(description="Null when an integration (an API token) submitted it.")
    async def submitted_by(
        self, info: Info
    ) -> Annotated[User, strawberry.lazy("graph.types.user")] | None:
        return await named(info, self.record.submitted_by)

    @strawberry.field
    async def reviewed_by(
        self, info: Info
    ) -> Annotated[User, strawberry.lazy("graph.types.user")] | None:
        return await named(info, self.record.reviewed_by)

    @strawberry.field(description="Who revoked its approval.")
    async def revoked_by(
        self, info: Info
    ) -> Annotated[User, strawberry.lazy("graph.types.user")] | None:
        revocation = self.record.revocation
        return await named(info, revocation.by) if revocation else None

    @strawberry.field
    async def label(self, info: Info) -> Label | None:
        return await Label.load(info, self.record.label_id) if self.record.label_id else None

    @strawberry.field(description="The credential it was submitted for.")
    async def assignment(
        self, info: Info
    ) -> Annotated[CredentialAssignment, strawberry.lazy("graph.types.assignment")] | None:
        if self.record.assignment_id is None:
            return None
        return await node_type("CredentialAssignment").load(info, self.record.assignment_id)

    @strawberry.field(description="The requirement (task) it was submitted for.")
    async def requirement(self, info: Info) -> Requirement | None:
        if self.record.assignment_id is None or self.record.requirement_id is None:
            return None
        loaders = info.context.loaders
        assignment = await loaders.assignments_by_id.load(self.record.assignment_id)
        if assignment is None:
            return None
        credential = await loaders.credentials_by_id.load(assignment.credential_id)
        assert credential is not None
        tree = Policy.of(credential, assignment.version).tree
        leaf = next(
            (r for r in criteria.requirements(tree) if r.id == self.record.requirement_id), None
        )
        return Requirement.of(leaf) if leaf else None

    @strawberry.field(description="The declined record this one resubmits; history stays readable.")
    async def previous(self, info: Info) -> TrainingRecord | None:
        if self.record.previous_id is None:
            return None
        return await TrainingRecord.load(info, self.record.previous_id)
