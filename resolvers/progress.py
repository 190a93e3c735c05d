"""Reading a learner's credentials: each assignment with its evaluation, tasks and timeline."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from resolvers import kept, listing
from resolvers.auth import require_admin, require_learner_access
from resolvers.cycles import Assessment, Facts, Policy, timeline
from resolvers.listing import Criteria, SortField
from resolvers.pages import Cursors, Page
from resolvers.status import Status, Timeline
from store import assignments
from store.assignments import Assignment
from store.courses import Course
from store.credentials import Credential
from store.database import Database
from store.enrollments import Enrollment
from store.records import Record
from store.users import User

K = TypeVar("K")
V = TypeVar("V")
LoadMany = Callable[[Sequence[K]], Awaitable[list[V]]]


@dataclass(frozen=True)
class AssignmentView:
    assignment: Assignment
    credential: Credential
    policy: Policy
    assessment: Assessment

    @property
    def timeline(self) -> Timeline:
        return timeline(self.assignment)


async def build_views(
    keys: list[Assignment],
    *,
    credentials: LoadMany[str, Credential | None],
    courses: LoadMany[str, Course | None],
    enrollments: LoadMany[str, list[Enrollment]],
    records: LoadMany[str, list[Record]],
    now: datetime,
) -> list[AssignmentView]:
    """Evaluate many assignments with one batched load per kind of data."""
    found = await credentials([a.credential_id for a in keys])
    policies = []
    for assignment, credential in zip(keys, found, strict=True):
        assert credential is not None, "an assignment's credential is in its organization"
        policies.append(Policy.of(credential, assignment.version))
    path_ids = sorted({p for policy in policies for p in policy.path_ids()})
    paths = {c.id: c.course_ids for c in await courses(path_ids) if c is not None}
    learners = [a.learner_id for a in keys]
    taken = await enrollments(learners)
    submitted = await records(learners)
    return [
        AssignmentView(
            assignment=assignment,
            credential=credential,  # type: ignore[arg-type]
            policy=policy,
            assessment=Facts(mine, theirs, paths, now).assess(assignment, policy),
        )
        for assignment, credential, policy, mine, theirs in zip(
            keys, found, policies, taken, submitted, strict=True
        )
    ]


@dataclass(frozen=True)
class Listed:
    """A page of cycles and the first moment its answer may change without a write."""

    page: Page[Assignment]
    changes: datetime | None


async def assignment_page(
    cycles: listing.LoadScope,
    criteria: Criteria,
    *,
    order: SortField = SortField.DUE_DATE,
    descending: bool = False,
    first: int | None,
    after: str | None,
    org_id: str | None = None,
) -> Listed:
    """Cycles in `order` with keyset cursors, filtered by status and dates at `as_of`; kept
    between requests (`resolvers.kept`) when they are the organization's (`org_id`)."""
    cursors = Cursors("assignments", criteria.shape, order, descending)
    size, last = cursors.ranked_keyset(first, after)
    scope = listing.scope_of(criteria)
    items, total, changes = kept.page(
        None if org_id is None else (org_id, scope),
        await cycles(scope),
        criteria,
        order=order,
        descending=descending,
        after=None if last is None else listing.place(*last),
        limit=size + 1,
    )
    value_of = listing.SORT_KEYS[order]
    page = Page.of(items, size, total, lambda a: cursors.encode(value_of(a), a.id))
    return Listed(page, changes)


async def learner_assignments(
    cycles: listing.LoadScope,
    viewer: User,
    learner: User | None,
    *,
    status: Status | None,
    as_of: datetime,
    current: bool,
    first: int | None,
    after: str | None,
) -> Listed:
    """A learner's cycles, soonest due first: theirs and their administrators' to see."""
    learner = require_learner_access(viewer, learner)
    criteria = Criteria(as_of=as_of, learner_id=learner.id, status=status, current=current)
    return await assignment_page(cycles, criteria, first=first, after=after)


async def organization_assignments(
    cycles: listing.LoadScope,
    viewer: User,
    criteria: Criteria,
    *,
    order: SortField,
    descending: bool,
    first: int | None,
    after: str | None,
) -> Listed:
    """Administrators: every cycle in the organization, filtered and sorted."""
    admin = require_admin(viewer)
    return await assignment_page(
        cycles,
        criteria,
        order=order,
        descending=descending,
        first=first,
        after=after,
        org_id=admin.org_id,
    )


async def visible_credential(
    db: Database, viewer: User, credential: Credential | None
) -> Credential | None:
    """Administrators see every credential; a learner, those assigned to them."""
    if credential is None or viewer.is_admin:
        return credential
    mine = await assignments.credential_ids_for_learner(
        db, org_id=viewer.org_id, learner_id=viewer.id
    )
    return credential if credential.id in mine else None
