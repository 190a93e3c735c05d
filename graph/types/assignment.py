"""One learner's credential, one renewal cycle: dates, status, progress and tasks."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from graph import ids
from graph.context import Info
from graph.enums import Status, TaskAction, TaskState
from graph.publishing import links
from graph.types.catalogue import Enrollment
from graph.types.criteria import CriteriaEvidence, CriteriaNodeProgress, Requirement
from graph.types.node import Node, entity, named, node_type
from graph.types.record import TrainingRecord
from graph.types.time import Duration
from graph.types.verifiable import VerifiableCredential
from resolvers import extensions, listing, open_badges, tasks
from resolvers.cycles import Assessment, timeline
from resolvers.progress import AssignmentView
from resolvers.status import Timeline
from store import assignments, overrides, records

if TYPE_CHECKING:
    from graph.types.credential import Credential
    from graph.types.extension import ExtensionRequest
    from graph.types.user import User


@strawberry.type(description="How much of the criteria is done, and the fewest steps left.")
class Completion:
    satisfied: bool
    progress: float
    completed_requirements: int
    total_requirements: int
    assessment: strawberry.Private[Assessment]

    @strawberry.field(
        description="The fewest incomplete requirements that would satisfy the criteria, "
        "counting a course shared by branches (or inside a learning path) once."
    )
    def next_steps(self) -> list[Requirement]:
        return [Requirement.of(leaf) for leaf in self.assessment.next_steps()]


@strawberry.type(description="One requirement as a to-do item: its check mark and its button.")
class FulfillmentTask:
    requirement: Requirement
    state: TaskState
    completed_at: datetime | None
    action: TaskAction
    enrollment: Enrollment | None
    record: TrainingRecord | None = strawberry.field(
        description="The record it rests on, or the latest one submitted for it."
    )

    @classmethod
    def of(cls, item: tasks.Task) -> Self:
        return cls(
            requirement=Requirement.of(item.requirement),
            state=item.state,
            completed_at=item.completed_at,
            action=item.action,
            enrollment=Enrollment.from_record(item.enrollment) if item.enrollment else None,
            record=TrainingRecord.from_record(item.record)
            if isinstance(item.record, records.Record)
            else None,
        )


@strawberry.type(
    description="A cycle excused for a while: status EXEMPT while it covers a moment, unless "
    "the cycle is completed and valid then."
)
class Exemption:
    since: datetime
    until: datetime | None = strawberry.field(
        description="When it ends (or ended, when removed); null while open-ended."
    )
    reason: str
    ended_reason: str | None = strawberry.field(description="Why it was removed, if it was.")
    record: strawberry.Private[assignments.Exemption]

    @classmethod
    def of(cls, exemption: assignments.Exemption) -> Self:
        return cls(
            since=exemption.since,
            until=exemption.until,
            reason=exemption.reason,
            ended_reason=exemption.ended_reason,
            record=exemption,
        )

    @strawberry.field(description="Who exempted the cycle.")
    async def by(self, info: Info) -> Annotated[User, strawberry.lazy("graph.types.user")] | None:
        return await named(info, self.record.by)


@strawberry.type(description="A due date moved later, kept in the cycle's history.")
class DueDateExtension:
    at: datetime
    from_due_date: datetime
    to_due_date: datetime
    reason: str
    record: strawberry.Private[assignments.Extension]

    @classmethod
    def of(cls, extension: assignments.Extension) -> Self:
        return cls(
            at=extension.at,
            from_due_date=extension.from_due,
            to_due_date=extension.to_due,
            reason=extension.reason,
            record=extension,
        )

    @strawberry.field(description="Who granted it.")
    async def by(self, info: Info) -> Annotated[User, strawberry.lazy("graph.types.user")] | None:
        return await named(info, self.record.by)

    @strawberry.field(description="The learner's request it granted, if any.")
    async def request(
        self, info: Info
    ) -> Annotated[ExtensionRequest, strawberry.lazy("graph.types.extension")] | None:
        if self.record.request_id is None:
            return None
        return await node_type("ExtensionRequest").load(info, self.record.request_id)


@strawberry.type(
    description="A cycle completed by an administrator's decision (a paper certificate, a "
    "migration), held as evidence of the date it attests."
)
class Certification:
    at: datetime = strawberry.field(description="When the administrator certified it.")
    completed_at: datetime = strawberry.field(
        description="The date attested: the cycle's validFrom (unless better evidence "
        "extends it) and, never before its start, its completedAt."
    )
    reason: str = strawberry.field(description="Why: the certificate, the migration, … .")
    record: strawberry.Private[overrides.Certification]

    @classmethod
    def of(cls, certification: overrides.Certification) -> Self:
        return cls(
            at=certification.at,
            completed_at=certification.completed_at,
            reason=certification.reason,
            record=certification,
        )

    @strawberry.field(description="The administrator who certified it.")
    async def by(self, info: Info) -> Annotated[User, strawberry.lazy("graph.types.user")] | None:
        return await named(info, self.record.by)


@strawberry.type(
    description="An earned cycle withdrawn: status REVOKED from `at` on (before it, the cycle "
    "answers what it was)."
)
class Revocation:
    at: datetime = strawberry.field(description="From when it is revoked.")
    reason: str = strawberry.field(description="Why (fraud, a licence suspended, …).")
    record: strawberry.Private[overrides.Revocation]

    @classmethod
    def of(cls, revocation: overrides.Revocation) -> Self:
        return cls(at=revocation.at, reason=revocation.reason, record=revocation)

    @strawberry.field(
        description="Who revoked it (or the approved record its completion rested on)."
    )
    async def by(self, info: Info) -> Annotated[User, strawberry.lazy("graph.types.user")] | None:
        return await named(info, self.record.by)

    @strawberry.field(
        description="The approved record whose revocation withdrew the completion resting on "
        "it; null when an administrator revoked the cycle itself."
    )
    async def training_record(self, info: Info) -> TrainingRecord | None:
        if self.record.record_id is None:
            return None
        return await TrainingRecord.load(info, self.record.record_id)


@strawberry.type(
    description="An open cycle withdrawn: status WITHDRAWN from `at` on, out of every list "
    "(unless filtered by that status) and every count; it stays in the history."
)
class Withdrawal:
    at: datetime = strawberry.field(description="From when it is withdrawn.")
    reason: str = strawberry.field(description="Why it was withdrawn.")
    revoked: bool = strawberry.field(
        description="True for a renewal withdrawn with the revoked completion that opened it; "
        "false when unassigned."
    )
    record: strawberry.Private[overrides.Withdrawal]

    @classmethod
    def of(cls, withdrawal: overrides.Withdrawal) -> Self:
        return cls(
            at=withdrawal.at,
            reason=withdrawal.reason,
            revoked=withdrawal.revoked,
            record=withdrawal,
        )

    @strawberry.field(description="Who withdrew it (who revoked the cycle it renewed).")
    async def by(self, info: Info) -> Annotated[User, strawberry.lazy("graph.types.user")] | None:
        return await named(info, self.record.by)


@entity
@strawberry.type(description="A learner's credential for one cycle (renewals are new cycles).")
class CredentialAssignment(Node):
    cycle: int
    assigned_at: datetime
    start_date: datetime = strawberry.field(description="From when the learner may begin.")
    due_date: datetime
    completed_at: datetime | None = strawberry.field(
        description="When the criteria first became satisfied; it never moves afterwards."
    )
    valid_from: datetime | None
    valid_until: datetime | None
    exemptions: list[Exemption] = strawberry.field(
        description="The cycle's exemptions, oldest first, ended ones included."
    )
    extensions: list[DueDateExtension] = strawberry.field(
        description="Its due date's extensions, oldest first: `dueDate` is the latest's."
    )
    original_due_date: datetime = strawberry.field(description="The due date before any extension.")
    certification: Certification | None = strawberry.field(
        description="The administrator's certification that completed it, if any."
    )
    revocation: Revocation | None = strawberry.field(
        description="Its completion's revocation, if revoked (status REVOKED from then on)."
    )
    withdrawal: Withdrawal | None = strawberry.field(
        description="Its withdrawal, if withdrawn while open (status WITHDRAWN from then on)."
    )
    record: strawberry.Private[assignments.Assignment]

    @classmethod
    def from_record(cls, assignment: assignments.Assignment) -> Self:
        return cls(
            id=strawberry.ID(ids.encode("CredentialAssignment", assignment.id)),
            cycle=assignment.cycle,
            assigned_at=assignment.assigned_at,
            start_date=assignment.start_date,
            due_date=assignment.due_date,
            completed_at=assignment.completed_at,
            valid_from=assignment.valid_from,
            valid_until=assignment.valid_until,
            exemptions=[Exemption.of(e) for e in assignment.exemptions],
            extensions=[DueDateExtension.of(e) for e in assignment.extensions],
            original_due_date=assignment.extensions[0].from_due
            if assignment.extensions
            else assignment.due_date,
            certification=Certification.of(found) if (found := assignment.certification) else None,
            revocation=Revocation.of(revoked) if (revoked := assignment.revocation) else None,
            withdrawal=Withdrawal.of(gone) if (gone := assignment.withdrawal) else None,
            record=assignment,
        )

    @classmethod
    async def load(cls, info: Info, db_id: str) -> Self | None:
        ctx = info.context
        found = await ctx.loaders.assignments_by_id.load(db_id)
        if found is None or not ctx.viewer.sees(found.learner_id):
            return None
        return cls.from_record(found)

    async def _view(self, info: Info) -> AssignmentView:
        """The cycle evaluated now (once per request), true until its evidence may lapse."""
        ctx = info.context
        moment = ctx.when(None)
        view = await ctx.loaders.views_by_assignment.load(self.record)
        ctx.lasts(moment, view.assessment.changes)
        return view

    @strawberry.field
    async def credential(
        self, info: Info
    ) -> Annotated[Credential, strawberry.lazy("graph.types.credential")]:
        found = await info.context.loaders.credentials_by_id.load(self.record.credential_id)
        assert found is not None
        return node_type("Credential").from_record(found)

    @strawberry.field
    async def learner(self, info: Info) -> Annotated[User, strawberry.lazy("graph.types.user")]:
        learner = await node_type("User").load(info, self.record.learner_id)
        assert learner is not None
        return learner

    @strawberry.field(description="Whether the start date has come.")
    def can_start(self, info: Info) -> bool:
        return self._available(info)

    @strawberry.field(description="At `asOf` (default now).")
    def status(self, info: Info, as_of: datetime | None = None) -> Status:
        ctx = info.context
        moment = ctx.when(as_of)
        ctx.lasts(moment, listing.next_change([self.record], moment.at))
        return self._timeline().status(moment.at)

    @strawberry.field(
        description="Exact time left at `asOf`: until the due date before completion, until "
        "validUntil after; 0 once passed; null when no date applies.",
    )
    def expires_in(self, info: Info, as_of: datetime | None = None) -> Duration | None:
        return Duration.of(self._timeline().expires_in(info.context.moment(as_of)))

    @strawberry.field
    async def completion(self, info: Info) -> Completion:
        assessment = (await self._view(info)).assessment
        evaluation = assessment.evaluation
        return Completion(
            satisfied=evaluation.satisfied,
            progress=evaluation.progress,
            completed_requirements=evaluation.completed_requirements,
            total_requirements=evaluation.total_requirements,
            assessment=assessment,
        )

    @strawberry.field(
        description="The criteria tree with this learner's progress on each node.",
    )
    async def criteria(self, info: Info) -> CriteriaNodeProgress:
        assessment = (await self._view(info)).assessment
        return CriteriaNodeProgress.of(assessment.evaluation.root, assessment)

    @strawberry.field(
        description="What gives `validUntil`: the document whose end date it is, else the "
        "evidence completed `validFor` before it; null without a validUntil."
    )
    async def valid_until_set_by(self, info: Info) -> CriteriaEvidence | None:
        view = await self._view(info)
        found = view.assessment.valid_until_set_by(self.record.valid_until, view.policy.valid_for)
        return CriteriaEvidence.of(found) if found else None

    @strawberry.field(description="One task per requirement.")
    async def tasks(self, info: Info) -> list[FulfillmentTask]:
        available = self._available(info)
        assessment = (await self._view(info)).assessment
        return [FulfillmentTask.of(item) for item in assessment.tasks(available=available)]

    @strawberry.field(description="Requests for a later due date, oldest first.")
    async def extension_requests(
        self, info: Info
    ) -> list[Annotated[ExtensionRequest, strawberry.lazy("graph.types.extension")]]:
        ctx = info.context
        found = await extensions.requests_of(ctx.db, ctx.viewer, self.record)
        return [node_type("ExtensionRequest").from_record(r) for r in found]

    @strawberry.field(
        description="The cycle as an Open Badges 3.0 verifiable credential, signed by the "
        "organization; null unless the cycle is completed (and not revoked)."
    )
    async def verifiable_credential(self, info: Info) -> VerifiableCredential | None:
        cycle, ctx = self.record, info.context
        if not open_badges.exportable(cycle):
            return None
        view = await self._view(info)
        learner = await ctx.loaders.users_by_id.load(cycle.learner_id)
        org = await ctx.loaders.organizations_by_id.load(cycle.org_id)
        sources = view.assessment.evidence_of(view.assessment.evaluation.root)
        courses = [s.enrollment.course_id for s in sources if s.enrollment]
        titles = {c.id: c.title for c in await ctx.loaders.courses_by_id.load_many(courses) if c}
        assert learner is not None, "a cycle's learner is in its organization"
        assert org is not None, "the caller's organization exists"
        subject = open_badges.Subject(
            cycle, view.credential, view.policy.tree, sources, titles, learner.email, org.name
        )
        index = await ctx.loaders.status_indexes_by_edition.load((cycle.id, cycle.edition))
        return VerifiableCredential.of(
            open_badges.exported(
                subject,
                links=links(ctx.settings),
                status_index=index,
                secret=ctx.settings.secret,
                signer=await ctx.loaders.signers_by_org.load(cycle.org_id),
            )
        )

    @strawberry.field(description="The cycle this one renews.")
    async def previous(self, info: Info) -> CredentialAssignment | None:
        if self.record.previous_id is None:
            return None
        return await CredentialAssignment.load(info, self.record.previous_id)

    def _available(self, info: Info) -> bool:
        """Whether the start date has come: true until it does."""
        ctx = info.context
        moment = ctx.when(None)
        start = self.record.start_date
        ctx.lasts(moment, start if start > moment.at else None)
        return self._timeline().can_start(moment.at)

    def _timeline(self) -> Timeline:
        return timeline(self.record)
