"""The export of an organization's cycles with their statuses at `asOf`: the rows of the
spreadsheet a compliance officer ends up in.

It admits what the `assignments` query lists (the same `Criteria`, the same people: a
manager's members only, deactivated people left out unless one learner is asked for) but walks
the cycles page by page in id order from the database rather than from the organization's copy
(`store.scopes`), so that it holds one page at a time whatever the organization's size: each
page costs one read of cycles, one of their learners, one of their groups and one of the
credentials not seen yet.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from resolvers.auth import Caller, require_reader
from resolvers.cycles import timeline
from resolvers.errors import not_found
from resolvers.listing import Criteria
from resolvers.status import Status
from store import assignments, credentials, groups, users
from store.assignments import Assignment
from store.database import Database
from store.users import User

PAGE = 500


@dataclass(frozen=True, slots=True)
class Row:
    """One cycle as the export shows it."""

    cycle: Assignment
    learner: User
    groups: tuple[str, ...]
    credential: str
    status: Status
    exempt_until: datetime | None  # set when exempt at `asOf`: until when (None: open-ended)

    @property
    def exempt(self) -> bool:
        return self.status is Status.EXEMPT


@dataclass(frozen=True)
class Export:
    """What an export will walk, checked before the first row is sent (a refusal is an HTTP
    error, not a truncated file)."""

    db: Database
    org_id: str
    criteria: Criteria
    within: frozenset[str] | None

    async def rows(self) -> AsyncIterator[list[Row]]:
        """The admitted cycles, a page at a time, in id order."""
        names: dict[str, str] = {}
        learner_ids = None
        if self.criteria.learner_id is not None:
            learner_ids = [self.criteria.learner_id]
        elif self.within is not None:
            learner_ids = sorted(self.within)
        after = None
        while True:
            cycles = await assignments.page_by_id(
                self.db, org_id=self.org_id, credential_id=self.criteria.credential_id,
                learner_ids=learner_ids, after=after, limit=PAGE,
            )  # fmt: skip
            if not cycles:
                return
            after = cycles[-1].id
            admitted = [c for c in cycles if self.criteria.admits(c)]
            if admitted:
                yield await self._rows(admitted, names)

    async def _rows(self, cycles: list[Assignment], names: dict[str, str]) -> list[Row]:
        learner_ids = sorted({c.learner_id for c in cycles})
        people = {
            u.id: u for u in await users.get_many(self.db, org_id=self.org_id, ids=learner_ids)
        }
        member_of: dict[str, list[str]] = {}
        for group in await groups.of_members(self.db, org_id=self.org_id, member_ids=learner_ids):
            for member in group.member_ids:
                member_of.setdefault(member, []).append(group.name)
        unseen = sorted({c.credential_id for c in cycles} - names.keys())
        if unseen:
            for found in await credentials.get_many(self.db, org_id=self.org_id, ids=unseen):
                names[found.id] = found.name
        as_of = self.criteria.as_of
        rows = []
        for cycle in cycles:
            learner = people.get(cycle.learner_id)
            if learner is None:
                continue
            if learner.disabled_at is not None and self.criteria.learner_id is None:
                continue  # deactivated people leave the organization's lists
            status = timeline(cycle).status(as_of)
            covering = next((e for e in cycle.exemptions if e.covers(as_of)), None)
            rows.append(
                Row(
                    cycle=cycle,
                    learner=learner,
                    groups=tuple(sorted(member_of.get(learner.id, ()))),
                    credential=names.get(cycle.credential_id, ""),
                    status=status,
                    exempt_until=covering.until
                    if covering is not None and status is Status.EXEMPT
                    else None,
                )
            )
        return rows


async def assignment_export(
    db: Database,
    viewer: Caller | None,
    criteria: Criteria,
) -> Export:
    """Administrators and `READ` tokens: every cycle; managers: their members'; learners and
    other tokens are refused — as the `assignments` query. A filter must name something that
    exists."""
    caller = require_reader(viewer)
    within = caller.within
    org_id = caller.org_id
    credential_id = criteria.credential_id
    if (
        credential_id is not None
        and await credentials.get(db, org_id=org_id, id=credential_id) is None
    ):
        raise not_found("the credential", field="credential")
    if criteria.learner_id is not None:
        learner = await users.get(db, org_id=org_id, id=criteria.learner_id)
        if learner is None or (within is not None and learner.id not in within):
            raise not_found("the learner", field="learner")
    return Export(db, org_id, criteria, within)
