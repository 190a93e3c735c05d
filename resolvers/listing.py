"""Lists, counts and compliance summaries of cycles, all computed from one read of their scope.

A dashboard asks for the summary, a page of a filtered list and its count in one request; all
of them — and the moment the answer next changes — come from the same cycles, read once per
request and scope (an organization, a credential or a learner; `store.scopes`),
with the rules of `resolvers.status`: the status of a cycle is decided in one place only.
Reading the scope's cycles costs less on the embedded database than asking it to evaluate the
rules (an aggregation's expressions run per document, in its interpreter) and moves a few
hundred bytes per cycle.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from resolvers.cycles import timeline
from resolvers.periods import Period
from resolvers.status import Status
from store.assignments import Assignment

OPEN = (Status.NOT_STARTED, Status.IN_PROGRESS)


def is_current(cycle: Assignment, as_of: datetime) -> bool:
    """The cycle of its learner and credential that is current at `as_of`: the latest that has
    started by then, else the first (the cycles of a chain start in order). A withdrawn cycle is
    no one's from its withdrawal on, and the cycle before it then as `Successor` says."""
    if cycle.withdrawal is not None and cycle.withdrawal.at <= as_of:
        return False
    started = cycle.previous_id is None or cycle.start_date <= as_of
    return started and not (cycle.next is not None and cycle.next.supersedes(as_of))


@dataclass(frozen=True, slots=True)
class Standing:
    """What a cycle is at a moment, as lists, counts and summaries judge it."""

    current: bool
    status: Status
    completed: bool


def standing(cycle: Assignment, as_of: datetime) -> Standing:
    line = timeline(cycle)
    return Standing(is_current(cycle, as_of), line.status(as_of), line.completed_by(as_of))


def lapses_by(cycle: Assignment, status: Status, moment: datetime) -> bool:
    """Valid now (`status`) and lapsing by `moment`: what "expiring soon" counts and lists."""
    return (
        status is Status.COMPLETED and cycle.valid_until is not None and cycle.valid_until <= moment
    )


@dataclass(frozen=True, slots=True)
class Criteria:
    """Which cycles a list or count means; status and the date windows are judged at `as_of`."""

    as_of: datetime
    learner_id: str | None = None
    credential_id: str | None = None
    status: Status | None = None
    due_before: datetime | None = None
    expiring_before: datetime | None = None
    current: bool = False

    def admits(self, cycle: Assignment) -> bool:
        if self.learner_id is not None and cycle.learner_id != self.learner_id:
            return False
        if self.credential_id is not None and cycle.credential_id != self.credential_id:
            return False
        judged = standing(cycle, self.as_of)
        if self.current and not judged.current:
            return False
        if judged.status is Status.WITHDRAWN and self.status is not Status.WITHDRAWN:
            return False  # out of every list, unless asked for by that status
        if self.status is not None and judged.status is not self.status:
            return False
        if self.due_before is not None and (judged.completed or cycle.due_date > self.due_before):
            return False
        return self.expiring_before is None or lapses_by(cycle, judged.status, self.expiring_before)

    @property
    def shape(self) -> tuple[object, ...]:
        """Which cycles it means, whatever the moment: what names a list."""
        return (
            self.learner_id, self.credential_id, self.status, self.due_before,
            self.expiring_before, self.current,
        )  # fmt: skip

    @property
    def reads_time(self) -> bool:
        """Whether which cycles it admits changes as `as_of` moves, beyond a withdrawal (which
        takes a cycle out of every list: `moments_of`)."""
        return bool(self.status or self.due_before or self.expiring_before or self.current)

    def moments_of(self, cycle: Assignment) -> tuple[datetime | None, ...]:
        """The moments at which whether it admits the cycle may change as time passes."""
        if self.reads_time:
            return moments(cycle)
        return (cycle.withdrawal.at if cycle.withdrawal else None,)


Scope = tuple[str | None, str | None]  # (credential, learner); (None, None): the organization
LoadScope = Callable[[Scope], Awaitable[list[Assignment]]]


def scope_of(criteria: Criteria) -> Scope:
    """The narrowest scope holding every cycle the criteria admit: a learner's cycles are a
    handful whatever the size of the organization."""
    if criteria.learner_id is not None:
        return None, criteria.learner_id
    return criteria.credential_id, None


class SortField(StrEnum):
    DUE_DATE = "DUE_DATE"
    START_DATE = "START_DATE"
    ASSIGNED_AT = "ASSIGNED_AT"
    VALID_UNTIL = "VALID_UNTIL"


SORT_KEYS: dict[SortField, Callable[[Assignment], datetime | None]] = {
    SortField.DUE_DATE: lambda a: a.due_date,
    SortField.START_DATE: lambda a: a.start_date,
    SortField.ASSIGNED_AT: lambda a: a.assigned_at,
    SortField.VALID_UNTIL: lambda a: a.valid_until,
}


Place = tuple[bool, datetime, str]  # (lacks the value, the value, id): a total order
_LACKING = datetime.min.replace(tzinfo=UTC)


def place(value: datetime | None, cycle_id: str) -> Place:
    """Where a cycle with this sort value goes: by value then id, and cycles that lack it (a
    validUntil before completion) after all the others — first when descending."""
    return value is None, value or _LACKING, cycle_id


class Ranking:
    """The cycles the criteria admit, in `order` then id: pages of them with keyset cursors
    and how many there are — the same cycles whatever the order. Cycles come and go one by
    one (`add`, `remove`), so a ranking can be kept up to date as cycles change
    (`resolvers.kept`); a cycle's place depends only on the cycle."""

    def __init__(self, criteria: Criteria, order: SortField) -> None:
        self.criteria = criteria
        self.value_of = SORT_KEYS[order]
        self.keys: list[Place] = []
        self.cycles: dict[str, Assignment] = {}

    def key(self, cycle: Assignment) -> Place | None:
        """The cycle's place, or None when the criteria do not admit it."""
        if not self.criteria.admits(cycle):
            return None
        return place(self.value_of(cycle), cycle.id)

    def add(self, cycle: Assignment) -> None:
        key = self.key(cycle)
        if key is not None:
            insort(self.keys, key)
            self.cycles[cycle.id] = cycle

    def remove(self, cycle: Assignment) -> None:
        key = self.key(cycle)
        if key is not None:
            del self.keys[bisect_left(self.keys, key)]
            del self.cycles[cycle.id]

    def page(
        self, *, descending: bool, after: Place | None, limit: int
    ) -> tuple[list[Assignment], int]:
        """Up to `limit` ranked cycles strictly after the `after` key, and how many in all."""
        if descending:
            end = len(self.keys) if after is None else bisect_left(self.keys, after)
            chosen = self.keys[max(end - limit, 0) : end][::-1]
        else:
            begin = 0 if after is None else bisect_right(self.keys, after)
            chosen = self.keys[begin : begin + limit]
        return [self.cycles[cycle_id] for _, _, cycle_id in chosen], len(self.keys)

    @classmethod
    def of(cls, cycles: Iterable[Assignment], criteria: Criteria, order: SortField) -> Ranking:
        ranking = cls(criteria, order)
        for cycle in cycles:
            key = ranking.key(cycle)
            if key is not None:
                ranking.keys.append(key)
                ranking.cycles[cycle.id] = cycle
        ranking.keys.sort()
        return ranking


@dataclass(frozen=True, slots=True)
class Summary:
    by_status: dict[Status, int]
    expiring_soon: int
    due_soon: int

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


class Tally:
    """Counts of people at `as_of`: one cycle per learner and credential, the one current
    then; of them, the valid ones lapsing by `horizon` and the open ones falling due by then.
    Cycles come and go one by one, as in a `Ranking`."""

    def __init__(self, as_of: datetime, horizon: datetime) -> None:
        self.as_of = as_of
        self.horizon = horizon
        self.counts: Counter[Status] = Counter()
        self.expiring = 0
        self.due = 0

    def _count(self, cycle: Assignment, step: int) -> None:
        judged = standing(cycle, self.as_of)
        if not judged.current:
            return
        self.counts[judged.status] += step
        if lapses_by(cycle, judged.status, self.horizon):
            self.expiring += step
        elif judged.status in OPEN and cycle.due_date <= self.horizon:
            self.due += step

    def add(self, cycle: Assignment) -> None:
        self._count(cycle, 1)

    def remove(self, cycle: Assignment) -> None:
        self._count(cycle, -1)

    @property
    def summary(self) -> Summary:
        by_status = {s: self.counts[s] for s in Status}
        return Summary(by_status, expiring_soon=self.expiring, due_soon=self.due)

    @classmethod
    def of(cls, cycles: Iterable[Assignment], *, as_of: datetime, horizon: datetime) -> Tally:
        tally = cls(as_of, horizon)
        for cycle in cycles:
            tally.add(cycle)
        return tally


def moments(cycle: Assignment) -> tuple[datetime | None, ...]:
    """Every moment at which something about the cycle may change as time passes."""
    return (
        cycle.start_date,
        cycle.due_date,
        cycle.started_at,
        cycle.completed_at,
        cycle.valid_until,
        *((cycle.next.start, cycle.next.withdrawn, cycle.next.then) if cycle.next else ()),
        *(moment for e in cycle.exemptions for moment in (e.since, e.until)),
        cycle.revocation.at if cycle.revocation else None,
        cycle.withdrawal.at if cycle.withdrawal else None,
    )


def next_change(
    cycles: Iterable[Assignment],
    after: datetime,
    *,
    ahead: Period | None = None,
    of: Callable[[Assignment], Iterable[datetime | None]] = moments,
) -> datetime | None:
    """The first moment after `after` at which an answer about these cycles may change without
    a write: one of their dates (`of` each cycle) passes — or, for questions looking `ahead`
    ("lapsing within 30 days"), comes within that period. None when nothing is left to pass."""
    dates = [moment for cycle in cycles for moment in of(cycle) if moment is not None]
    found = min((moment for moment in dates if moment > after), default=None)
    if ahead is not None and found is not None:
        reach = ahead.after(after)
        entering = min((moment for moment in dates if moment > reach), default=None)
        edges = [found, ahead.steady_until(after)]  # a date within reach may fall out of it
        if entering is not None:
            edges.append(ahead.reaching(entering, after=after))
        found = min(edge for edge in edges if edge is not None)
    return found
