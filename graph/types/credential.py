"""A credential as its administrator defined it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from graph import ids
from graph.context import Info
from graph.enums import Status
from graph.types.connection import Connection
from graph.types.criteria import CriteriaNode, Requirement, node_of
from graph.types.dashboard import CURRENT, ComplianceSummary
from graph.types.node import Node, entity, node_type
from graph.types.time import Period, PeriodInput
from resolvers import assignment_lists, credentials, criteria, dashboard, live_edits, periods
from resolvers.listing import Criteria, SortField
from resolvers.reminders import Schedule
from store import credentials as credential_store

if TYPE_CHECKING:
    from graph.types.assignment import CredentialAssignment


CREDENTIAL = "A training credential: deadline, validity and nested criteria."


@strawberry.type(description="How an edit would change one open cycle.")
class CycleChange:
    status_before: Status
    status_after: Status
    progress_before: float
    progress_after: float
    record: strawberry.Private[live_edits.CycleChange]

    @strawberry.field
    def assignment(
        self,
    ) -> Annotated[CredentialAssignment, strawberry.lazy("graph.types.assignment")]:
        return node_type("CredentialAssignment").from_record(self.record.cycle)


@strawberry.type(description="What an edit would do to a credential's open cycles.")
class CredentialUpdatePreview:
    open_cycles: int = strawberry.field(description="Cycles not yet completed.")
    changes: list[CycleChange] = strawberry.field(
        description="Those whose status or progress the edit would change."
    )

    @classmethod
    def of(cls, preview: live_edits.Preview) -> Self:
        return cls(
            open_cycles=preview.open_cycles,
            changes=[
                CycleChange(
                    status_before=c.status_before,
                    status_after=c.status_after,
                    progress_before=c.progress_before,
                    progress_after=c.progress_after,
                    record=c,
                )
                for c in preview.changes
            ],
        )


@strawberry.type(description="When a credential's learners are reminded.")
class Reminders:
    before_due: list[Period] = strawberry.field(description="Offsets before the due date.")
    before_expiry: list[Period] = strawberry.field(description="Offsets before validUntil.")


@entity
@strawberry.type(description=CREDENTIAL)
class Credential(Node):
    name: str
    instructions: str
    image_url: str | None
    reassign_on_completion: bool
    version: int = strawberry.field(description="Bumped by edits to the criteria or periods.")
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None
    record: strawberry.Private[credential_store.Credential]

    @classmethod
    def from_record(cls, credential: credential_store.Credential) -> Self:
        return cls(
            id=strawberry.ID(ids.encode("Credential", credential.id)),
            name=credential.name,
            instructions=credential.instructions,
            image_url=credential.image_url,
            reassign_on_completion=credential.reassign_on_completion,
            version=credential.current.number,
            created_at=credential.created_at,
            updated_at=credential.updated_at,
            archived_at=credential.archived_at,
            record=credential,
        )

    @strawberry.field(
        description="When its learners (and their managers) are reminded; besides, once when "
        "a cycle becomes overdue and once when it expires."
    )
    def reminders(self) -> Reminders:
        schedule = Schedule.from_doc(self.record.reminders)
        return Reminders(
            before_due=[p for p in map(Period.of, schedule.before_due) if p],
            before_expiry=[p for p in map(Period.of, schedule.before_expiry) if p],
        )

    @classmethod
    async def load(cls, info: Info, db_id: str) -> Self | None:
        ctx = info.context
        found = await ctx.loaders.credentials_by_id.load(db_id)
        visible = await credentials.visible_credential(ctx.db, ctx.viewer, found)
        return cls.from_record(visible) if visible else None

    @property
    def tree(self) -> criteria.Node:
        return criteria.from_doc(self.record.current.criteria)

    @strawberry.field(description="How long a learner has from the start date.")
    def complete_within(self) -> Period:
        period = Period.of(periods.Period.from_doc(self.record.current.complete_within))
        assert period is not None
        return period

    @strawberry.field(description="How long it stays valid once earned; null: never expires.")
    def valid_for(self) -> Period | None:
        return Period.of(periods.Period.from_doc(self.record.current.valid_for))

    @strawberry.field
    def criteria(self) -> CriteriaNode:
        return node_of(self.tree)

    @strawberry.field(description='e.g. "(CPR Online AND BLS) OR Instructor Led CPR".')
    def criteria_expression(self) -> str:
        return criteria.expression(self.tree)

    @strawberry.field(description="The criteria's leaves, in order.")
    def requirements(self) -> list[Requirement]:
        return [Requirement.of(leaf) for leaf in criteria.requirements(self.tree)]

    @strawberry.field(
        description="The cycles of its learners (administrators only).",
    )
    async def assignments(
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
        criteria = Criteria(
            as_of=moment.at,
            credential_id=self.record.id,
            status=Status(status) if status else None,
            current=current,
        )
        listed = await assignment_lists.organization_assignments(
            ctx.loaders.cycles_in_scope.load,
            ctx.viewer,
            criteria,
            order=SortField.DUE_DATE,
            descending=False,
            first=first,
            after=after,
        )
        ctx.lasts(moment, listed.changes)
        return Connection.of(listed.page, node_type("CredentialAssignment").from_record)

    @strawberry.field(
        description="Compliance counts for this credential (administrators): one cycle per "
        "learner, the one current at `asOf`.",
    )
    async def stats(
        self,
        info: Info,
        as_of: datetime | None = None,
        expiring_within: PeriodInput | None = None,
    ) -> ComplianceSummary:
        ctx = info.context
        moment = ctx.when(as_of)
        result = await dashboard.compliance_summary(
            ctx.db,
            ctx.loaders.cycles_in_scope.load,
            ctx.viewer,
            credential_id=self.record.id,
            as_of=moment.at,
            expiring_within=expiring_within.to_period("expiringWithin")
            if expiring_within
            else None,
        )
        ctx.lasts(moment, result.changes)
        return ComplianceSummary.of(result, live=moment.live)
