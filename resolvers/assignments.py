"""Assigning credentials and keeping each cycle's completion up to date (evaluated on write).

Every event that can satisfy a requirement calls `settle`, which re-evaluates the learner's open
cycles, stores `completedAt`/`validFrom`/`validUntil` on the one write that wins, and opens the
renewal cycle. Time-dependent answers (status, `expiresIn`) are derived on read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from resolvers.auth import require_admin
from resolvers.cycles import Policy, assess, window_start
from resolvers.errors import Code, invalid, not_found
from resolvers.periods import Period
from store import (
    assignments,
    courses,
    credentials,
    enrollments,
    notifications,
    organizations,
    records,
    users,
)
from store.assignments import Assignment
from store.credentials import Credential
from store.database import Database
from store.enrollments import Enrollment
from store.errors import Conflict
from store.notifications import NotificationKind
from store.records import Record
from store.users import User

MAX_LEARNERS = 500


async def assign(
    db: Database,
    viewer: User | None,
    *,
    credential_id: str,
    learner_ids: Sequence[str],
    start_date: datetime | None,
    due_date: datetime | None,
    now: datetime,
) -> list[Assignment]:
    """Assign to each learner, once: an open or still valid cycle is returned as it is."""
    admin = require_admin(viewer)
    org_id = admin.org_id
    (credential,) = await credentials.get_many(db, org_id=org_id, ids=[credential_id]) or (None,)
    if credential is None:
        raise invalid(Code.UNKNOWN_CREDENTIAL, "no such credential", "credential")
    if credential.archived_at is not None:
        raise invalid(
            Code.CREDENTIAL_ARCHIVED, "an archived credential cannot be assigned", "credential"
        )
    learner_ids = list(dict.fromkeys(learner_ids))
    if not learner_ids:
        raise invalid(Code.REQUIRED, "name at least one learner", "learners")
    if len(learner_ids) > MAX_LEARNERS:
        raise invalid(Code.TOO_MANY, f"assign at most {MAX_LEARNERS} learners at once", "learners")
    known = {u.id for u in await users.get_many(db, org_id=org_id, ids=learner_ids)}
    for index, learner_id in enumerate(learner_ids):
        if learner_id not in known:
            raise invalid(Code.UNKNOWN_LEARNER, "no such learner", f"learners[{index}]")
    policy = Policy.of(credential, credential.current.number)
    start = start_date or now
    due = due_date or policy.complete_within.after(start)
    if due <= start:
        raise invalid(Code.DUE_BEFORE_START, "the due date must be after the start date", "dueDate")

    latest = await assignments.latest_cycles(
        db, org_id=org_id, credential_id=credential.id, learner_ids=learner_ids
    )
    result = {
        learner_id: previous
        for learner_id, previous in latest.items()
        if _still_current(previous, now)
    }
    docs = [
        _cycle_doc(
            credential,
            learner_id,
            cycle=latest[learner_id].cycle + 1 if learner_id in latest else 1,
            previous=latest.get(learner_id),
            start=start,
            due=due,
            assigned_by=admin.id,
            now=now,
        )
        for learner_id in learner_ids
        if learner_id not in result
    ]
    created = await assignments.insert_many(db, docs=docs) if docs else []
    result.update({a.learner_id: a for a in created})
    raced = [learner_id for learner_id in learner_ids if learner_id not in result]
    if raced:  # assigned concurrently: the other call's cycles are the ones
        result.update(
            await assignments.latest_cycles(
                db, org_id=org_id, credential_id=credential.id, learner_ids=raced
            )
        )
    if created:
        await notifications.notify_each(
            db,
            org_id=org_id,
            pairs=[(a.learner_id, a.id) for a in created],
            kind=NotificationKind.CREDENTIAL_ASSIGNED,
            subject_type="CredentialAssignment",
            now=now,
        )
        await settle(db, org_id=org_id, learner_ids=learner_ids, now=now, only=created)
        refreshed = await assignments.get_many(db, org_id=org_id, ids=[a.id for a in created])
        result.update({a.learner_id: a for a in refreshed})
    return [result[learner_id] for learner_id in learner_ids]


def _still_current(assignment: Assignment, now: datetime) -> bool:
    """An open cycle, or a completed one that has not lapsed, needs no new assignment."""
    if assignment.completed_at is None:
        return True
    return assignment.valid_until is None or assignment.valid_until > now


def _cycle_doc(
    credential: Credential,
    learner_id: str,
    *,
    cycle: int,
    previous: Assignment | None,
    start: datetime,
    due: datetime,
    assigned_by: str | None,
    now: datetime,
) -> dict[str, Any]:
    version = credential.current
    return {
        "orgId": credential.org_id,
        "credentialId": credential.id,
        "learnerId": learner_id,
        "version": version.number,
        "cycle": cycle,
        "previousId": previous.id if previous else None,
        "assignedAt": now,
        "assignedBy": assigned_by,
        "startDate": start,
        "dueDate": due,
        "windowStart": window_start(cycle, start, Period.from_doc(version.valid_for)),
        "startedAt": None,
        "completedAt": None,
        "validFrom": None,
        "validUntil": None,
    }


async def settle(
    db: Database,
    *,
    org_id: str,
    learner_ids: Sequence[str],
    now: datetime,
    only: Sequence[Assignment] | None = None,
) -> list[Assignment]:
    """Re-evaluate the learners' open cycles; store completions; open renewals.

    Returns the cycles this call completed.
    """
    open_ = (
        list(only)
        if only is not None
        else await assignments.open_for_learners(db, org_id=org_id, learner_ids=list(learner_ids))
    )
    if not open_:
        return []
    found = await credentials.get_many(
        db, org_id=org_id, ids=list({a.credential_id for a in open_})
    )
    by_id = {c.id: c for c in found}
    policies = {a.id: Policy.of(by_id[a.credential_id], a.version) for a in open_}
    path_ids = {p for policy in policies.values() for p in policy.path_ids()}
    paths = {
        c.id: c.course_ids for c in await courses.get_many(db, org_id=org_id, ids=list(path_ids))
    }
    learners = list({a.learner_id for a in open_})
    taken: dict[str, list[Enrollment]] = defaultdict(list)
    for enrollment in await enrollments.for_learners(db, org_id=org_id, learner_ids=learners):
        taken[enrollment.learner_id].append(enrollment)
    submitted: dict[str, list[Record]] = defaultdict(list)
    for record in await records.for_learners(db, org_id=org_id, learner_ids=learners):
        submitted[record.learner_id].append(record)

    completed = []
    for assignment in open_:
        evaluation = assess(
            assignment,
            policies[assignment.id],
            enrollments=taken[assignment.learner_id],
            records=submitted[assignment.learner_id],
            paths=paths,
            now=now,
        ).evaluation
        if not evaluation.satisfied or evaluation.valid_from is None:
            continue
        won = await assignments.complete(
            db,
            org_id=org_id,
            id=assignment.id,
            completed_at=now,
            valid_from=evaluation.valid_from,
            valid_until=evaluation.valid_until,
        )
        if not won:
            continue
        completed.append(assignment)
        await _tell(db, assignment, NotificationKind.CREDENTIAL_COMPLETED, now)
        credential = by_id[assignment.credential_id]
        if credential.reassign_on_completion and evaluation.valid_until is not None:
            renewal = await _renew(db, credential, assignment, evaluation.valid_until, now)
            if renewal is not None:
                await _tell(db, renewal, NotificationKind.CREDENTIAL_ASSIGNED, now)
    return completed


async def _tell(
    db: Database, assignment: Assignment, kind: NotificationKind, now: datetime
) -> None:
    await notifications.notify(
        db,
        org_id=assignment.org_id,
        user_ids=[assignment.learner_id],
        kind=kind,
        subject_type="CredentialAssignment",
        subject_id=assignment.id,
        now=now,
    )


async def _renew(
    db: Database, credential: Credential, done: Assignment, valid_until: datetime, now: datetime
) -> Assignment | None:
    """The next cycle, starting `completeWithin` before the credential lapses (not before now)."""
    policy = Policy.of(credential, credential.current.number)
    start = max(policy.complete_within.before(valid_until), now)
    doc = _cycle_doc(
        credential,
        done.learner_id,
        cycle=done.cycle + 1,
        previous=done,
        start=start,
        due=policy.complete_within.after(start),
        assigned_by=None,
        now=now,
    )
    try:
        return await assignments.insert(db, doc=doc)
    except Conflict:
        return None  # already renewed (e.g. an administrator assigned the next cycle)


async def note_activity(
    db: Database, *, org_id: str, learner_id: str, course_id: str, now: datetime
) -> None:
    """Mark the learner's available open cycles that ask for this course as started."""
    open_ = await assignments.open_for_learners(db, org_id=org_id, learner_ids=[learner_id])
    if not open_:
        return
    found = {
        c.id: c
        for c in await credentials.get_many(
            db, org_id=org_id, ids=list({a.credential_id for a in open_})
        )
    }
    paths = await courses.paths_containing(db, org_id=org_id, course_id=course_id)
    targets = {course_id, *(p.id for p in paths)}
    touched = [
        a.id
        for a in open_
        if a.start_date <= now
        and Policy.of(found[a.credential_id], a.version).course_ids() & targets
    ]
    if touched:
        await assignments.mark_started(db, org_id=org_id, ids=touched, at=now)


async def startable(
    db: Database, learner: User, assignment_id: str, now: datetime
) -> tuple[Assignment, Policy]:
    """The learner's own assignment and its policy, once its start date has come.

    Every learner action taken for an assignment (getting or launching a course, submitting a
    record) goes through here, so `NOT_STARTED_YET` means the same everywhere.
    """
    (assignment,) = await assignments.get_many(db, org_id=learner.org_id, ids=[assignment_id]) or (
        None,
    )
    if assignment is None or assignment.learner_id != learner.id:
        raise not_found("the assignment", field="assignment")
    if now < assignment.start_date:
        raise invalid(
            Code.NOT_STARTED_YET,
            f"this credential can be started from {assignment.start_date.isoformat()}",
            "assignment",
        )
    (credential,) = await credentials.get_many(
        db, org_id=learner.org_id, ids=[assignment.credential_id]
    )
    return assignment, Policy.of(credential, assignment.version)


async def reconcile(db: Database, *, now: datetime, batch: int = 100) -> int:
    """Settle every learner with an open cycle; returns how many learners it looked at.

    Completion is derived from evidence that is stored first (an approval, a course report),
    so a crash between storing the evidence and settling loses nothing: this pass — run when
    the server starts — or the learner's next event completes the cycle.
    """
    by_org: dict[str, list[str]] = defaultdict(list)
    for org_id, learner_id in await assignments.open_learners(db):
        by_org[org_id].append(learner_id)
    for org_id, learners in by_org.items():
        repaired = []
        for start in range(0, len(learners), batch):
            chunk = learners[start : start + batch]
            repaired += await settle(db, org_id=org_id, learner_ids=chunk, now=now)
        if repaired:
            await organizations.touch(db, id=org_id)  # cached answers may predate the repair
    return sum(len(learners) for learners in by_org.values())
