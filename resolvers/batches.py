"""What a request's loaders fetch (`graph.loaders`): each function takes the keys a request
asked for at one level, reads them in one query, and answers one value per key, in key order.

Every batch is bound to the caller's organization, so a foreign id simply finds nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TypeVar

from resolvers import status_lists
from resolvers.listing import Scope
from store import (
    assignments,
    courses,
    credentials,
    enrollments,
    groups,
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
from store.groups import Group
from store.labels import Label
from store.organizations import Organization
from store.records import Record
from store.status_entries import Edition
from store.users import User


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


R = TypeVar("R", bound=_HasId)
Batch = Callable[[Database, str, Sequence[str]], Awaitable[list[R | None]]]


def by_id(fetch: Callable[..., Awaitable[list[R]]]) -> Batch[R]:
    """A batch of a store's `get_many`: None for an id it does not find."""

    async def load(db: Database, org_id: str, ids: Sequence[str]) -> list[R | None]:
        found = {record.id: record for record in await fetch(db, org_id=org_id, ids=list(ids))}
        return [found.get(id) for id in ids]

    return load


async def _own_organization(db: Database, *, org_id: str, ids: list[str]) -> list[Organization]:
    return await organizations.get_many(db, ids=[i for i in ids if i == org_id])


users_by_id: Batch[User] = by_id(users.get_many)
groups_by_id: Batch[Group] = by_id(groups.get_many)
organizations_by_id: Batch[Organization] = by_id(_own_organization)
labels_by_id: Batch[Label] = by_id(labels.get_many)
courses_by_id: Batch[Course] = by_id(courses.get_many)
credentials_by_id: Batch[Credential] = by_id(credentials.get_many)
assignments_by_id: Batch[Assignment] = by_id(assignments.get_many)
enrollments_by_id: Batch[Enrollment] = by_id(enrollments.get_many)
records_by_id: Batch[Record] = by_id(records.get_many)


L = TypeVar("L", Enrollment, Record)


def by_learner(
    fetch: Callable[..., Awaitable[list[L]]],
) -> Callable[[Database, str, Sequence[str]], Awaitable[list[list[L]]]]:
    """A batch of a store's `for_learners`: each learner's, in the order it reads them."""

    async def load(db: Database, org_id: str, learner_ids: Sequence[str]) -> list[list[L]]:
        theirs: dict[str, list[L]] = defaultdict(list)
        for found in await fetch(db, org_id=org_id, learner_ids=list(learner_ids)):
            theirs[found.learner_id].append(found)
        return [theirs[learner_id] for learner_id in learner_ids]

    return load


enrollments_by_learner = by_learner(enrollments.for_learners)
records_by_learner = by_learner(records.for_learners)


async def cycles_in_scope(
    db: Database, org_id: str, asked: Sequence[Scope]
) -> list[list[Assignment]]:
    """Every cycle of each scope — (credential, learner), (None, None) for the organization —
    read once however many summaries, lists and counts are computed from it: the learners
    asked for in one read, the organization (whole or by credential) from its copy, without
    the cycles of deactivated people (a learner's own history stays theirs to list)."""
    learner_ids = [learner for _, learner in asked if learner is not None]
    theirs: dict[str, list[Assignment]] = defaultdict(list)
    if learner_ids:
        for cycle in await assignments.for_learners(db, org_id=org_id, learner_ids=learner_ids):
            theirs[cycle.learner_id].append(cycle)
    everyone: list[Assignment] = []
    if any(learner is None for _, learner in asked):  # deactivated people leave the counts
        away = await users.deactivated_ids(db, org_id=org_id)
        cycles = await scopes.of_organization(db, org_id=org_id)
        everyone = [c for c in cycles if c.learner_id not in away] if away else cycles
    return [
        theirs[learner]
        if learner is not None
        else [c for c in everyone if credential is None or c.credential_id == credential]
        for credential, learner in asked
    ]


async def status_indexes(db: Database, org_id: str, editions: Sequence[Edition]) -> list[int]:
    """Each exported credential's status list index, given now to those that had none."""
    found = await status_lists.indexes(db, org_id, editions)
    return [found[edition] for edition in editions]
