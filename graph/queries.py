from __future__ import annotations

import strawberry

from graph import ids
from graph.context import Info
from graph.types.assignment import CredentialAssignment
from graph.types.catalogue import Course, Enrollment, Label
from graph.types.connection import Connection
from graph.types.credential import Credential
from graph.types.criteria import CriteriaGroup, Requirement, TrainingRecordType
from graph.types.node import NODE_TYPES, Node
from graph.types.notification import Notification
from graph.types.organization import Organization
from graph.types.record import RecordStatus, TrainingRecord
from graph.types.user import User
from resolvers import catalogue, credentials, records
from resolvers.errors import not_found
from store import records as record_store

ENTITIES = (
    User,
    Organization,
    Label,
    Course,
    Enrollment,
    Credential,
    CredentialAssignment,
    Requirement,
    CriteriaGroup,
    TrainingRecord,
    Notification,
)


@strawberry.type
class Query:
    @strawberry.field(description="Any object by its global id; `NOT_FOUND` if you cannot see it.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        type_name, db_id = ids.decode(id, field="id")
        info.context.viewer  # noqa: B018 -- authenticate before revealing anything
        entity = NODE_TYPES.get(type_name)
        found = await entity.load(info, db_id) if entity else None
        if found is None:
            raise not_found(f"the {type_name} {id}", field="id")
        return found

    @strawberry.field(description="The caller.")
    def me(self, info: Info) -> User:
        return User.from_record(info.context.viewer)

    @strawberry.field(
        description="Administrators: the organization's credentials; learners: those assigned "
        "to them. Archived ones only on request."
    )
    async def credentials(
        self,
        info: Info,
        include_archived: bool = False,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Credential]:
        ctx = info.context
        page = await credentials.credential_page(
            ctx.db, ctx.viewer, include_archived=include_archived, first=first, after=after
        )
        return Connection.of(page, Credential.from_record)

    @strawberry.field
    async def credential(self, info: Info, id: strawberry.ID) -> Credential:
        found = await Credential.load(info, ids.db_id(id, expect="Credential", field="id"))
        if found is None:
            raise not_found("the credential", field="id")
        return found

    @strawberry.field(
        description="Administrators: the organization's records (filter by learner; "
        "`status: PENDING` is the review queue, oldest first). Learners: their own."
    )
    async def training_records(
        self,
        info: Info,
        status: RecordStatus | None = None,
        type: TrainingRecordType | None = None,
        learner: strawberry.ID | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[TrainingRecord]:
        ctx = info.context
        owner = None
        if learner is not None:
            owner = await ctx.loaders.users_by_id.load(
                ids.db_id(learner, expect="User", field="learner")
            )
            if owner is None:
                raise not_found("the learner", field="learner")
        page = await records.record_page(
            ctx.db,
            ctx.viewer,
            learner=owner,
            status=record_store.RecordStatus(status) if status else None,
            type=record_store.RecordType(type) if type else None,
            first=first,
            after=after,
        )
        return Connection.of(page, TrainingRecord.from_record)

    @strawberry.field(description="The course catalogue: courses and learning paths.")
    async def courses(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Course]:
        ctx = info.context
        page = await catalogue.course_page(ctx.db, ctx.viewer, first=first, after=after)
        return Connection.of(page, Course.from_record)

    @strawberry.field
    async def labels(self, info: Info) -> list[Label]:
        ctx = info.context
        return [
            Label.from_record(label) for label in await catalogue.all_labels(ctx.db, ctx.viewer)
        ]
