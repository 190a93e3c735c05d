"""Per-request DataLoaders: one `$in` query per type per level, answers in key order.

Every loader is bound to the caller's organization, so a foreign id simply finds nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from strawberry.dataloader import DataLoader

from store import organizations, users
from store.database import Database
from store.organizations import Organization
from store.users import User


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


R = TypeVar("R", bound=_HasId)


def _by_id(
    fetch: Callable[[list[str]], Awaitable[list[R]]],
) -> Callable[[Sequence[str]], Awaitable[list[R | None]]]:
    async def load(ids: Sequence[str]) -> list[R | None]:
        found = {record.id: record for record in await fetch(list(ids))}
        return [found.get(id) for id in ids]

    return load


class UsersByIdLoader(DataLoader[str, User | None]):
    def __init__(self, db: Database, org_id: str) -> None:
        super().__init__(load_fn=_by_id(lambda ids: users.get_many(db, org_id=org_id, ids=ids)))


class OrganizationsByIdLoader(DataLoader[str, Organization | None]):
    def __init__(self, db: Database, org_id: str) -> None:
        async def fetch(ids: list[str]) -> list[Organization]:
            return await organizations.get_many(db, ids=[i for i in ids if i == org_id])

        super().__init__(load_fn=_by_id(fetch))


@dataclass(frozen=True)
class Loaders:
    users_by_id: UsersByIdLoader
    organizations_by_id: OrganizationsByIdLoader

    @classmethod
    def for_org(cls, db: Database, org_id: str) -> Loaders:
        return cls(
            users_by_id=UsersByIdLoader(db, org_id),
            organizations_by_id=OrganizationsByIdLoader(db, org_id),
        )
