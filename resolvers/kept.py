"""An organization's summaries and ranked lists, kept from one request to the next and brought
up to date by the cycles that changed.

After a write every dashboard polling the organization needs a new answer, and judging its
thousands of cycles again made that execution long enough for the polls arriving meanwhile to
queue behind it (40 ms for 9,000 cycles). Yet a write changes a handful of cycles, and the
organization's copy (`store.scopes`) replaces exactly those objects: so a kept `Tally` or
`Ranking` takes out the old version of each cycle that is not the same object as before and
puts in the new one, judged at the moment the aggregate was built. That is the answer now as
long as no date of any of its cycles has passed since (`listing.next_change`, narrowed by each
cycle put in); otherwise, or when most cycles changed, it is built again.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from resolvers import listing
from resolvers.listing import Criteria, Place, Ranking, SortField, Summary, Tally
from resolvers.periods import Period
from store.assignments import Assignment

HELD = 64  # aggregates per process: a few per organization polled


@dataclass(slots=True)
class _Kept:
    aggregate: Tally | Ranking
    members: dict[str, Assignment]
    as_of: datetime  # the moment its cycles were judged at
    until: datetime | None  # it holds before then (None: as long as its cycles are unchanged)
    ahead: Period | None
    moments_of: Callable[[Assignment], Iterable[datetime | None]]  # when a cycle's answer moves

    def holds_at(self, as_of: datetime) -> bool:
        return self.as_of <= as_of and (self.until is None or as_of < self.until)

    def bring_up_to_date(self, cycles: Sequence[Assignment], as_of: datetime) -> bool:
        """Whether it could be made to answer for `cycles` at `as_of`."""
        if not self.holds_at(as_of):
            return False
        changed = [cycle for cycle in cycles if self.members.get(cycle.id) is not cycle]
        if len(changed) > len(cycles) // 4 + 16:
            return False  # read whole again (`store.scopes`): cheaper to start over
        for cycle in changed:
            held = self.members.get(cycle.id)
            if held is not None:
                self.aggregate.remove(held)
            self.aggregate.add(cycle)
            self.members[cycle.id] = cycle
            self.until = _earliest(
                self.until,
                listing.next_change([cycle], self.as_of, ahead=self.ahead, of=self.moments_of),
            )
        return len(self.members) == len(cycles) and self.holds_at(as_of)


def _earliest(*moments: datetime | None) -> datetime | None:
    return min((moment for moment in moments if moment is not None), default=None)


_kept: OrderedDict[Hashable, _Kept] = OrderedDict()


def forget() -> None:
    """Build every aggregate again when next asked: what a passing date costs (`bench.run`)."""
    _kept.clear()


def _find(
    key: Hashable | None,
    cycles: Sequence[Assignment],
    as_of: datetime,
    build: Callable[[], _Kept],
) -> _Kept:
    """The aggregate kept under `key`, brought up to date or built again; built and not kept
    when there is no key."""
    if key is None:
        return build()
    kept = _kept.get(key)
    if kept is None or not kept.bring_up_to_date(cycles, as_of):
        kept = _kept[key] = build()
    _kept.move_to_end(key)
    while len(_kept) > HELD:
        _kept.popitem(last=False)
    return kept


def summary(
    scope: Hashable, cycles: Sequence[Assignment], *, as_of: datetime, horizon: Period
) -> tuple[Summary, datetime | None]:
    """`listing.summary` of the scope's cycles with `horizon` ahead of `as_of`, and the first
    moment after `as_of` at which it may change without a write."""

    def build() -> _Kept:
        tally = Tally.of(cycles, as_of=as_of, horizon=horizon.after(as_of))
        changes = listing.next_change(cycles, as_of, ahead=horizon)
        members = {c.id: c for c in cycles}
        return _Kept(tally, members, as_of, changes, horizon, listing.moments)

    kept = _find(("summary", scope, horizon), cycles, as_of, build)
    assert isinstance(kept.aggregate, Tally)
    return kept.aggregate.summary, kept.until


def page(
    scope: Hashable | None,
    cycles: Sequence[Assignment],
    criteria: Criteria,
    *,
    order: SortField,
    descending: bool,
    after: Place | None,
    limit: int,
) -> tuple[list[Assignment], int, datetime | None]:
    """`listing.page` of the scope's cycles, and the first moment after the criteria's `asOf`
    at which it may change without a write (None if it depends on no moment). Kept only for a
    `scope`: a learner's few cycles are read afresh for every request anyway."""
    as_of = criteria.as_of

    def build() -> _Kept:
        ranking = Ranking.of(cycles, criteria, order)
        changes = listing.next_change(cycles, as_of, of=criteria.moments_of)
        members = {c.id: c for c in cycles}
        return _Kept(ranking, members, as_of, changes, None, criteria.moments_of)

    key = None if scope is None else ("page", scope, criteria.shape, order)  # any moment
    kept = _find(key, cycles, as_of, build)
    assert isinstance(kept.aggregate, Ranking)
    items, total = kept.aggregate.page(descending=descending, after=after, limit=limit)
    return items, total, kept.until
