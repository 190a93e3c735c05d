"""Exemptions: a cycle excused — a learner on leave, exempt by role — so that it counts as
`EXEMPT`, not as overdue, for as long as the exemption lasts.

An administrator, or a manager of the learner, exempts a cycle from now on, until a date or
until removed. Removing one ends it now: its record stays, so a status asked `asOf` a moment
it covered is still `EXEMPT`. Writes are conditioned on the cycle's revision, so two people
exempting at once make one exemption, and a concurrent derivation of the cycle keeps it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from resolvers.auth import Caller, require_reviewer, require_viewer
from resolvers.clock import as_utc
from resolvers.errors import Code, invalid, not_found
from resolvers.text import required
from store import assignments
from store.assignments import Assignment, Exemption
from store.database import Database

MAX_REASON = 2_000
ATTEMPTS = 5  # revisions raced before giving up (another writer changing the cycle each time)


async def exempt_assignment(
    db: Database,
    viewer: Caller | None,
    assignment_id: str,
    *,
    reason: str,
    until: datetime | None,
    now: datetime,
) -> Assignment:
    reviewer = require_reviewer(viewer)
    reason = required(reason, field="reason", limit=MAX_REASON)
    if until is not None and as_utc(until, field="until") <= now:
        raise invalid(Code.OUT_OF_RANGE, "until must be in the future", "until")
    ends = as_utc(until, field="until") if until is not None else None

    def exempted(cycle: Assignment) -> tuple[Exemption, ...]:
        if any(_open(e, now) for e in cycle.exemptions):
            raise invalid(Code.ALREADY_EXEMPT, "this cycle is exempt already", "assignment")
        return (*cycle.exemptions, Exemption(now, ends, reason, reviewer.id))

    return await _changed(db, require_viewer(viewer), assignment_id, exempted)


async def remove_exemption(
    db: Database, viewer: Caller | None, assignment_id: str, *, reason: str, now: datetime
) -> Assignment:
    reviewer = require_reviewer(viewer)
    reason = required(reason, field="reason", limit=MAX_REASON)

    def ended(cycle: Assignment) -> tuple[Exemption, ...]:
        if not any(_open(e, now) for e in cycle.exemptions):
            raise invalid(Code.NOT_EXEMPT, "this cycle is not exempt now", "assignment")
        return tuple(
            replace(e, until=max(now, e.since), ended_reason=reason, ended_by=reviewer.id)
            if _open(e, now)
            else e
            for e in cycle.exemptions
        )

    return await _changed(db, require_viewer(viewer), assignment_id, ended)


def _open(exemption: Exemption, now: datetime) -> bool:
    """Whether it covers `now` or a later moment: one made by a request racing this one (a
    moment later) counts, so two exemptions never overlap."""
    return exemption.until is None or exemption.until > now


async def _changed(
    db: Database,
    caller: Caller,
    assignment_id: str,
    change: Callable[[Assignment], tuple[Exemption, ...]],
) -> Assignment:
    """Apply `change` to the cycle's exemptions, read again while another write races it. A
    manager acts for their members, not for themselves; to them other cycles do not exist."""
    for _ in range(ATTEMPTS):
        cycle = await assignments.get(db, org_id=caller.org_id, id=assignment_id)
        own = cycle is not None and cycle.learner_id == caller.id and not caller.is_admin
        if cycle is None or own or not caller.manages(cycle.learner_id):
            raise not_found("the assignment", field="assignment")
        stored = await assignments.set_exemptions(db, cycle=cycle, exemptions=change(cycle))
        if stored is not None:
            return stored
    raise invalid(Code.EDIT_CONFLICT, "the cycle keeps changing; try again", "assignment")
