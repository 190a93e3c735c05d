"""A cycle as its learner stands on it: evaluated against their evidence once per request, with
its tasks and timeline (`build_views` batches the loads of many cycles)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from resolvers.cycles import Assessment, Facts, Policy, course_hours, timeline
from resolvers.status import Timeline
from store.assignments import Assignment
from store.courses import Course
from store.credentials import Credential
from store.enrollments import Enrollment
from store.records import Record

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
    hours = {}
    if any(policy.counts_hours for policy in policies):  # every completed course may count
        done = sorted({e.course_id for mine in taken for e in mine if e.completed_at})
        hours = course_hours(await courses(done))
    return [
        AssignmentView(
            assignment=assignment,
            credential=credential,  # type: ignore[arg-type]
            policy=policy,
            assessment=Facts(mine, theirs, paths, now, hours).assess(assignment, policy),
        )
        for assignment, credential, policy, mine, theirs in zip(
            keys, found, policies, taken, submitted, strict=True
        )
    ]
