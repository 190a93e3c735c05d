"""Reading a learner's credentials: each assignment with its evaluation, tasks and timeline."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from resolvers.auth import require_admin, require_learner_access
from resolvers.cycles import Assessment, Facts, Policy, timeline
from resolvers.pages import Page, decode, decode_datetime, encode, page_size
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


class SortField(StrEnum):
    DUE_DATE = "DUE_DATE"
    START_DATE = "START_DATE"
    ASSIGNED_AT = "ASSIGNED_AT"
    VALID_UNTIL = "VALID_UNTIL"


SORT_FIELDS = {
    SortField.DUE_DATE: ("dueDate", lambda a: a.due_date),
    SortField.START_DATE: ("startDate", lambda a: a.start_date),
    SortField.ASSIGNED_AT: ("assignedAt", lambda a: a.assigned_at),
    SortField.VALID_UNTIL: ("validUntil", lambda a: a.valid_until),
}


async def assignment_page(
    db: Database,
    org_id: str,
    where: assignments.Filter,
    *,
    order: SortField = SortField.DUE_DATE,
    descending: bool = False,
    first: int | None,
    after: str | None,
) -> Page[Assignment]:
    """Cycles in `order` with keyset cursors, filtered by status and dates at `where.as_of`."""
    field, value_of = SORT_FIELDS[order]
    size = page_size(first)
    key = None
    if after is not None:
        value, last_id = decode(after, parts=2)
        key = (decode_datetime(value), last_id)
    fetched = await assignments.page(
        db,
        org_id=org_id,
        where=where,
        order=field,
        descending=descending,
        after=key,
        limit=size + 1,
    )
    total = await assignments.count(db, org_id=org_id, where=where, order=field)
    return Page.of(fetched, size, total, lambda a: encode(value_of(a), a.id))


async def learner_assignments(
    db: Database,
    viewer: User,
    learner: User | None,
    *,
    status: Status | None,
    as_of: datetime,
    current: bool,
    first: int | None,
    after: str | None,
) -> Page[Assignment]:
    """A learner's cycles, soonest due first: theirs and their administrators' to see."""
    learner = require_learner_access(viewer, learner)
    where = assignments.Filter(as_of=as_of, learner_id=learner.id, status=status, current=current)
    return await assignment_page(db, learner.org_id, where, first=first, after=after)


async def organization_assignments(
    db: Database,
    viewer: User,
    where: assignments.Filter,
    *,
    order: SortField,
    descending: bool,
    first: int | None,
    after: str | None,
) -> Page[Assignment]:
    """Administrators: every cycle in the organization, filtered and sorted."""
    admin = require_admin(viewer)
    return await assignment_page(
        db, admin.org_id, where, order=order, descending=descending, first=first, after=after
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
