from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from graph import ids
from graph.context import Info
from graph.enums import RecordStatus, RecordType, Role, Status
from graph.types.catalogue import Enrollment
from graph.types.connection import Connection
from graph.types.dashboard import CURRENT
from graph.types.node import Node, entity, node_type
from graph.types.notification import Notification
from graph.types.organization import Organization
from graph.types.record import TrainingRecord
from resolvers import assignment_lists, enrollments, records
from resolvers import groups as group_resolvers
from resolvers import notifications as inbox
from resolvers import users as user_resolvers
from store import users

if TYPE_CHECKING:
    from graph.types.assignment import CredentialAssignment
    from graph.types.group import Group


@entity
@strawberry.type(description="A learner, manager or administrator of one organization.")
class User(Node):
    email: str
    name: str
    role: Role
    created_at: datetime
    deactivated_at: datetime | None = strawberry.field(
        description="When an administrator switched the user off (`deactivateUser`); null while "
        "active."
    )
    record: strawberry.Private[users.User]

    @classmethod
    def from_record(cls, user: users.User) -> Self:
        return cls(
            id=strawberry.ID(ids.encode("User", user.id)),
            email=user.email,
            name=user.name,
            role=user.role,
            created_at=user.created_at,
            deactivated_at=user.disabled_at,
            record=user,
        )

    @classmethod
    async def load(cls, info: Info, db_id: str) -> Self | None:
        ctx = info.context
        user = await user_resolvers.visible_user(ctx.viewer, ctx.loaders.users_by_id.load, db_id)
        return cls.from_record(user) if user else None

    @strawberry.field(description="The groups this user belongs to, as far as you may see them.")
    async def groups(
        self, info: Info
    ) -> list[Annotated[Group, strawberry.lazy("graph.types.group")]]:
        ctx = info.context
        found = await group_resolvers.of_user(ctx.db, ctx.viewer, self.record.id)
        return [node_type("Group").from_record(g) for g in found]

    @strawberry.field
    async def organization(self, info: Info) -> Organization:
        org = await Organization.load(info, self.record.org_id)
        assert org is not None, "a visible user's organization is the caller's"
        return org

    @strawberry.field(
        description="This learner's credentials, one entry per cycle (or the current cycles "
        "only), soonest due first; `status` is judged at `asOf` (default now). The learner's "
        "and administrators' to see.",
    )
    async def credentials(
        self,
        info: Info,
        status: Status | None = None,
        as_of: datetime | None = None,
        current: Annotated[bool, strawberry.argument(description=CURRENT)] = False,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Annotated[CredentialAssignment, strawberry.lazy("graph.types.assignment")]]:
        ctx = info.context
        moment = ctx.when(as_of)
        listed = await assignment_lists.learner_assignments(
            ctx.loaders.cycles_in_scope.load,
            ctx.viewer,
            self.record,
            status=Status(status) if status else None,
            as_of=moment.at,
            current=current,
            first=first,
            after=after,
        )
        ctx.lasts(moment, listed.changes)
        return Connection.of(listed.page, node_type("CredentialAssignment").from_record)

    @strawberry.field(
        description="Records this learner submitted or had submitted for them, oldest first."
    )
    async def training_records(
        self,
        info: Info,
        status: RecordStatus | None = None,
        type: RecordType | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[TrainingRecord]:
        ctx = info.context
        page = await records.record_page(
            ctx.db,
            ctx.viewer,
            learner=self.record,
            status=status,
            type=type,
            first=first,
            after=after,
        )
        return Connection.of(page, TrainingRecord.from_record)

    @strawberry.field(description="Newest first; visible to this user only.")
    async def notifications(
        self,
        info: Info,
        unread_only: bool = False,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Notification]:
        ctx = info.context
        page = await inbox.inbox(
            ctx.db, ctx.viewer, self.record, unread_only=unread_only, first=first, after=after
        )
        return Connection.of(page, Notification.from_record)

    @strawberry.field(description="Courses in this learner's account, oldest first.")
    async def enrollments(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Enrollment]:
        ctx = info.context
        page = await enrollments.learner_enrollments(
            ctx.db, ctx.viewer, self.record, first=first, after=after
        )
        return Connection.of(page, Enrollment.from_record)
