"""Per-request DataLoaders: one `$in` query per type per level, answers in key order.

Every loader is bound to the caller's organization, so a foreign id simply finds nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from strawberry.dataloader import DataLoader

from resolvers.listing import Scope
from resolvers.progress import AssignmentView, build_views
from store import (
    assignments,
    courses,
    credentials,
    enrollments,
    labels,
    organizations,
    records,
    scopes,
    users,
)
from store.assignments import Assignment
from store.courses import Course
from store.credentials import Credential
from store.database import Database
from store.enrollments import Enrollment
from store.labels import Label
from store.organizations import Organization
from store.records import Record
from store.users import User


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


R = TypeVar("R", bound=_HasId)
Fetch = Callable[..., Awaitable[list[R]]]


def _by_id(
    db: Database, org_id: str, fetch: Fetch[R]
) -> Callable[[Sequence[str]], Awaitable[list[R | None]]]:
    async def load(ids: Sequence[str]) -> list[R | None]:
        found = {record.id: record for record in await fetch(db, org_id=org_id, ids=list(ids))}
        return [found.get(id) for id in ids]

    return load


class UsersByIdLoader(DataLoader[str, User | None]):
    def __init__(self, db: Database, org_id: str) -> None:
        super().__init__(load_fn=_by_id(db, org_id, users.get_many))


class OrganizationsByIdLoader(DataLoader[str, Organization | None]):
    def __init__(self, db: Database, org_id: str) -> None:
        async def own_only(db: Database, *, org_id: str, ids: list[str]) -> list[Organization]:
            return await organizations.get_many(db, ids=[i for i in ids if i == org_id])

        super().__init__(load_fn=_by_id(db, org_id, own_only))


class LabelsByIdLoader(DataLoader[str, Label | None]):
    def __init__(self, db: Database, org_id: str) -> None:
        super().__init__(load_fn=_by_id(db, org_id, labels.get_many))


class CoursesByIdLoader(DataLoader[str, Course | None]):
    def __init__(self, db: Database, org_id: str) -> None:
        super().__init__(load_fn=_by_id(db, org_id, courses.get_many))


class CredentialsByIdLoader(DataLoader[str, Credential | None]):
    def __init__(self, db: Database, org_id: str) -> None:
        super().__init__(load_fn=_by_id(db, org_id, credentials.get_many))


class AssignmentsByIdLoader(DataLoader[str, Assignment | None]):
    def __init__(self, db: Database, org_id: str) -> None:
        super().__init__(load_fn=_by_id(db, org_id, assignments.get_many))


class EnrollmentsByIdLoader(DataLoader[str, Enrollment | None]):
    def __init__(self, db: Database, org_id: str) -> None:
        super().__init__(load_fn=_by_id(db, org_id, enrollments.get_many))


class EnrollmentsByLearnerLoader(DataLoader[str, list[Enrollment]]):
    def __init__(self, db: Database, org_id: str) -> None:
        async def load(learner_ids: Sequence[str]) -> list[list[Enrollment]]:
            taken: dict[str, list[Enrollment]] = defaultdict(list)
            for e in await enrollments.for_learners(
                db, org_id=org_id, learner_ids=list(learner_ids)
            ):
                taken[e.learner_id].append(e)
            return [taken[learner_id] for learner_id in learner_ids]

        super().__init__(load_fn=load)


class RecordsByIdLoader(DataLoader[str, Record | None]):
    def __init__(self, db: Database, org_id: str) -> None:
        super().__init__(load_fn=_by_id(db, org_id, records.get_many))


class RecordsByLearnerLoader(DataLoader[str, list[Record]]):
    def __init__(self, db: Database, org_id: str) -> None:
        async def load(learner_ids: Sequence[str]) -> list[list[Record]]:
            submitted: dict[str, list[Record]] = defaultdict(list)
            for r in await records.for_learners(db, org_id=org_id, learner_ids=list(learner_ids)):
                submitted[r.learner_id].append(r)
            return [submitted[learner_id] for learner_id in learner_ids]

        super().__init__(load_fn=load)


class CyclesInScopeLoader(DataLoader[Scope, list[Assignment]]):
    """Every cycle of a scope — (credential, learner), (None, None) for the organization —
    read once per request, however many summaries, lists and counts are computed from it: the
    learners asked for in one read, the organization (whole or by credential) from its copy."""

    def __init__(self, db: Database, org_id: str) -> None:
        async def load(
            asked: Sequence[Scope],
        ) -> list[list[Assignment]]:
            learner_ids = [learner for _, learner in asked if learner is not None]
            theirs: dict[str, list[Assignment]] = defaultdict(list)
            if learner_ids:
                for cycle in await assignments.for_learners(
                    db, org_id=org_id, learner_ids=learner_ids
                ):
                    theirs[cycle.learner_id].append(cycle)
            everyone = (
                await scopes.of_organization(db, org_id=org_id)
                if any(learner is None for _, learner in asked)
                else []
            )
            return [
                theirs[learner]
                if learner is not None
                else [c for c in everyone if credential is None or c.credential_id == credential]
                for credential, learner in asked
            ]

        super().__init__(load_fn=load)


class ViewsByAssignmentLoader(DataLoader[Assignment, AssignmentView]):
    """Each assignment evaluated once per request, however many fields ask."""

    def __init__(
        self,
        credentials_by_id: CredentialsByIdLoader,
        courses_by_id: CoursesByIdLoader,
        enrollments_by_learner: EnrollmentsByLearnerLoader,
        records_by_learner: RecordsByLearnerLoader,
        now: datetime,
    ) -> None:
        async def load(keys: Sequence[Assignment]) -> list[AssignmentView]:
            return await build_views(
                list(keys),
                credentials=credentials_by_id.load_many,
                courses=courses_by_id.load_many,
                enrollments=enrollments_by_learner.load_many,
                records=records_by_learner.load_many,
                now=now,
            )

        super().__init__(load_fn=load)


@dataclass
class Loaders:
    users_by_id: UsersByIdLoader
    organizations_by_id: OrganizationsByIdLoader
    labels_by_id: LabelsByIdLoader
    courses_by_id: CoursesByIdLoader
    credentials_by_id: CredentialsByIdLoader
    assignments_by_id: AssignmentsByIdLoader
    enrollments_by_id: EnrollmentsByIdLoader
    enrollments_by_learner: EnrollmentsByLearnerLoader
    records_by_id: RecordsByIdLoader
    records_by_learner: RecordsByLearnerLoader
    views_by_assignment: ViewsByAssignmentLoader
    cycles_in_scope: CyclesInScopeLoader

    @classmethod
    def for_org(cls, db: Database, org_id: str, *, now: datetime) -> Loaders:
        """Loaders bound to the organization; evaluations are judged at `now`."""
        credentials_by_id = CredentialsByIdLoader(db, org_id)
        courses_by_id = CoursesByIdLoader(db, org_id)
        enrollments_by_learner = EnrollmentsByLearnerLoader(db, org_id)
        records_by_learner = RecordsByLearnerLoader(db, org_id)
        return cls(
            users_by_id=UsersByIdLoader(db, org_id),
            organizations_by_id=OrganizationsByIdLoader(db, org_id),
            labels_by_id=LabelsByIdLoader(db, org_id),
            courses_by_id=courses_by_id,
            credentials_by_id=credentials_by_id,
            assignments_by_id=AssignmentsByIdLoader(db, org_id),
            enrollments_by_id=EnrollmentsByIdLoader(db, org_id),
            enrollments_by_learner=enrollments_by_learner,
            records_by_id=RecordsByIdLoader(db, org_id),
            records_by_learner=records_by_learner,
            views_by_assignment=ViewsByAssignmentLoader(
                credentials_by_id, courses_by_id, enrollments_by_learner, records_by_learner, now
            ),
            cycles_in_scope=CyclesInScopeLoader(db, org_id),
        )
