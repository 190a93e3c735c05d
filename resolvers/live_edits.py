"""Editing a credential people are working on: what an edit would do to its open cycles
(`preview`), and the edit applied to them (`apply`).

An edit of the criteria or periods makes a new version. Cycles keep the version they were
assigned with unless the edit is applied to them: then every cycle not yet completed moves to
the new version and is derived again from its learner's evidence (so one the new criteria are
already met by completes at once). Completed cycles are history and keep theirs; due dates
stay as they were set.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from resolvers.assignments import histories, settle
from resolvers.cycles import Policy, timeline
from resolvers.status import Status
from store import assignments, scopes
from store.assignments import Assignment
from store.credentials import Credential, Version
from store.database import Database

BATCH = 100  # learners derived again at once


@dataclass(frozen=True, slots=True)
class CycleChange:
    cycle: Assignment
    status_before: Status
    status_after: Status
    progress_before: float
    progress_after: float


@dataclass(frozen=True, slots=True)
class Preview:
    open_cycles: int
    changes: list[CycleChange]


async def open_cycles(db: Database, credential: Credential) -> list[Assignment]:
    """The credential's cycles not yet completed, nor withdrawn (from the organization's
    copy)."""
    return [
        c
        for c in await scopes.of_organization(db, org_id=credential.org_id)
        if c.credential_id == credential.id and c.open
    ]


async def preview(
    db: Database, credential: Credential, version: dict[str, object] | None, *, now: datetime
) -> Preview:
    """Which open cycles would change status or progress, and how, if the new `version` (None:
    the edit makes none) applied to them; nothing is written."""
    cycles = await open_cycles(db, credential)
    if version is None:
        return Preview(len(cycles), [])
    edited = replace(credential, versions=(*credential.versions, Version.from_doc(version)))
    after_policy = Policy.of(edited, edited.current.number)
    policies = [after_policy, *(Policy.of(credential, n) for n in {c.version for c in cycles})]
    learners = sorted({c.learner_id for c in cycles})
    done = await histories(db, credential.org_id, learners, policies)
    changes = []
    for cycle in cycles:
        mine = done.facts(cycle.learner_id, now)
        before = mine.assess(cycle, Policy.of(credential, cycle.version)).evaluation
        after = mine.assess(cycle, after_policy).evaluation
        status = timeline(cycle).status(now)
        completes = after.satisfied and cycle.start_date <= now
        change = CycleChange(
            cycle,
            status,
            Status.COMPLETED if completes else status,
            before.progress,
            after.progress,
        )
        if (change.status_before, change.progress_before) != (
            change.status_after,
            change.progress_after,
        ):
            changes.append(change)
    return Preview(len(cycles), changes)


async def apply(db: Database, credential: Credential, *, now: datetime) -> int:
    """Move every open cycle to the credential's current version and derive its learner's
    cycles again; how many moved."""
    cycles = await open_cycles(db, credential)
    moved = await assignments.move_to_version(
        db,
        org_id=credential.org_id,
        ids=[c.id for c in cycles if c.version != credential.current.number],
        version=credential.current.number,
    )
    learners = sorted({c.learner_id for c in cycles})
    for start in range(0, len(learners), BATCH):
        await settle(
            db, org_id=credential.org_id, learner_ids=learners[start : start + BATCH], now=now
        )
    return moved
