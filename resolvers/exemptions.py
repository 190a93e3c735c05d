"""Exemptions: a cycle excused — a learner on leave, exempt by role — so that it counts as
`EXEMPT`, not as overdue, for as long as the exemption lasts.

An administrator, or a manager of the learner, exempts a cycle from now on, until a date or
until removed. Removing one ends it now: its record stays, so a status asked `asOf` a moment
it covered is still `EXEMPT`. Writes are conditioned on the cycle's revision, so two people
exempting at once make one exemption, and a concurrent derivation of the cycle keeps it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from resolvers import audit
from resolvers.assignments import decided_cycle, revised
from resolvers.audit import Action
from resolvers.auth import Caller, require_reviewer, require_viewer
from resolvers.clock import as_utc
from resolvers.errors import Code, invalid
from resolvers.text import required
from store.assignments import Assignment, Exemption, Revision
from store.audit import Change
from store.database import Database

MAX_REASON = 2_000


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

    def exempted(cycle: Assignment) -> Revision:
        if any(_open(e, now) for e in cycle.exemptions):
            raise invalid(Code.ALREADY_EXEMPT, "this cycle is exempt already", "assignment")
        changes = (Change("exemption", None, {"since": now, "until": ends}),)
        made = audit.on_cycle(
            reviewer,
            Action.EXEMPT_ASSIGNMENT,
            cycle,
            now=now,
            reason=reason,
            changes=changes,
        )
        exemption = Exemption(now, ends, reason, reviewer.id)
        return Revision(exemptions=(*cycle.exemptions, exemption), event=made)

    cycle = await decided_cycle(db, require_viewer(viewer), assignment_id)
    return await revised(db, cycle, exempted)


async def remove_exemption(
    db: Database, viewer: Caller | None, assignment_id: str, *, reason: str, now: datetime
) -> Assignment:
    reviewer = require_reviewer(viewer)
    reason = required(reason, field="reason", limit=MAX_REASON)

    def ended(cycle: Assignment) -> Revision:
        ending = [e for e in cycle.exemptions if e.ended_by is None and _open(e, now)]
        if not ending:
            raise invalid(Code.NOT_EXEMPT, "this cycle is not exempt now", "assignment")
        changes = tuple(
            Change(
                "exemption",
                {"since": e.since, "until": e.until},
                {"since": e.since, "until": max(now, e.since)},
            )
            for e in ending
        )
        made = audit.on_cycle(
            reviewer,
            Action.REMOVE_EXEMPTION,
            cycle,
            now=now,
            reason=reason,
            changes=changes,
        )
        return Revision(
            exemptions=tuple(
                replace(e, until=max(now, e.since), ended_reason=reason, ended_by=reviewer.id)
                if e in ending
                else e
                for e in cycle.exemptions
            ),
            event=made,
        )

    cycle = await decided_cycle(db, require_viewer(viewer), assignment_id)
    return await revised(db, cycle, ended)


def _open(exemption: Exemption, now: datetime) -> bool:
    """Whether it covers `now` or a later moment: one made by a request racing this one (a
    moment later) counts, so two exemptions never overlap."""
    return exemption.until is None or exemption.until > now
