"""Per-request DataLoaders, built in the request's context: one query per kind of data and
level of the document, whatever the number of objects asking (the batches themselves are the
resolvers', `resolvers.batches`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from strawberry.dataloader import DataLoader

from resolvers import batches, signing
from resolvers.listing import Scope
from resolvers.progress import AssignmentView, build_views
from resolvers.signing import Signer
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

K = TypeVar("K")
V = TypeVar("V")


class Shielded(DataLoader[K, V]):
    """A DataLoader whose callers each wait on their own view of the one shared load: Strawberry
    hands every caller of a key the same future, so cancelling one caller (graphql-core
    cancels a failed field's siblings) would cancel the load for all, and another field
    awaiting it would end in a `CancelledError` no error handler catches."""

    def load(self, key: K) -> Awaitable[V]:
        return asyncio.shield(super().load(key))


def _bound(
    batch: Callable[[Database, str, Sequence[K]], Awaitable[list[V]]], db: Database, org_id: str
) -> DataLoader[K, V]:
    async def load(keys: Sequence[K]) -> list[V]:
        return await batch(db, org_id, keys)

    return Shielded(load_fn=load)


@dataclass
class Loaders:
    users_by_id: DataLoader[str, User | None]
    groups_by_id: DataLoader[str, Group | None]
    organizations_by_id: DataLoader[str, Organization | None]
    labels_by_id: DataLoader[str, Label | None]
    courses_by_id: DataLoader[str, Course | None]
    credentials_by_id: DataLoader[str, Credential | None]
    assignments_by_id: DataLoader[str, Assignment | None]
    enrollments_by_id: DataLoader[str, Enrollment | None]
    enrollments_by_learner: DataLoader[str, list[Enrollment]]
    records_by_id: DataLoader[str, Record | None]
    records_by_learner: DataLoader[str, list[Record]]
    views_by_assignment: DataLoader[Assignment, AssignmentView]
    cycles_in_scope: DataLoader[Scope, list[Assignment]]
    status_indexes_by_edition: DataLoader[Edition, int]
    signers_by_org: DataLoader[str, Signer]

    @classmethod
    def for_org(cls, db: Database, org_id: str, *, now: datetime, secret: str) -> Loaders:
        """Loaders bound to the organization; evaluations are judged at `now`; credentials are
        signed with keys sealed under `secret`."""
        credentials_by_id = _bound(batches.credentials_by_id, db, org_id)
        courses_by_id = _bound(batches.courses_by_id, db, org_id)
        enrollments_by_learner = _bound(batches.enrollments_by_learner, db, org_id)
        records_by_learner = _bound(batches.records_by_learner, db, org_id)

        async def views(keys: Sequence[Assignment]) -> list[AssignmentView]:
            """Each assignment evaluated once per request, however many fields ask."""
            return await build_views(
                list(keys),
                credentials=credentials_by_id.load_many,
                courses=courses_by_id.load_many,
                enrollments=enrollments_by_learner.load_many,
                records=records_by_learner.load_many,
                now=now,
            )

        async def signers(org_ids: Sequence[str]) -> list[Signer]:
            """The organization's current key, read (or made) once per request."""
            return [await signing.signer(db, org, secret=secret, now=now) for org in org_ids]

        return cls(
            users_by_id=_bound(batches.users_by_id, db, org_id),
            groups_by_id=_bound(batches.groups_by_id, db, org_id),
            organizations_by_id=_bound(batches.organizations_by_id, db, org_id),
            labels_by_id=_bound(batches.labels_by_id, db, org_id),
            courses_by_id=courses_by_id,
            credentials_by_id=credentials_by_id,
            assignments_by_id=_bound(batches.assignments_by_id, db, org_id),
            enrollments_by_id=_bound(batches.enrollments_by_id, db, org_id),
            enrollments_by_learner=enrollments_by_learner,
            records_by_id=_bound(batches.records_by_id, db, org_id),
            records_by_learner=records_by_learner,
            views_by_assignment=Shielded(load_fn=views),
            cycles_in_scope=_bound(batches.cycles_in_scope, db, org_id),
            status_indexes_by_edition=_bound(batches.status_indexes, db, org_id),
            signers_by_org=Shielded(load_fn=signers),
        )
