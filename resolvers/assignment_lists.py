"""Lists of cycles: a learner's, and an organization's (filtered, sorted, paged), each with the
first moment its answer may change without a write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from resolvers import kept, listing
from resolvers.auth import Caller, require_learner_access, require_reader
from resolvers.errors import not_found
from resolvers.listing import Criteria, SortField
from resolvers.pages import Cursors, Page
from resolvers.status import Status
from store.assignments import Assignment
from store.users import User


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
    within: frozenset[str] | None = None,
) -> Listed:
    """Cycles in `order` with keyset cursors, filtered by status and dates at `as_of` (and to
    the learners `within`, a manager's); kept between requests (`resolvers.kept`) when they
    are the organization's (`org_id`)."""
    # A manager's list is another list than an administrator's: its cursors are its own.
    narrowed = None if within is None else sorted(within)
    cursors = Cursors("assignments", criteria.shape, order, descending, narrowed)
    size, last = cursors.ranked_keyset(first, after)
    scope = listing.scope_of(criteria)
    found = await cycles(scope)
    if within is not None:
        found = [c for c in found if c.learner_id in within]
    items, total, changes = kept.page(
        None if org_id is None else (org_id, scope, within),
        found,
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
    viewer: Caller,
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
    viewer: Caller,
    criteria: Criteria,
    *,
    order: SortField,
    descending: bool,
    first: int | None,
    after: str | None,
) -> Listed:
    """Every cycle in the organization (a manager's members' only), filtered and sorted."""
    caller = require_reader(viewer)
    within = caller.within
    if within is not None and criteria.learner_id is not None and criteria.learner_id not in within:
        raise not_found("the learner", field="learner")
    return await assignment_page(
        cycles,
        criteria,
        order=order,
        descending=descending,
        first=first,
        after=after,
        org_id=caller.org_id,
        within=within,
    )
