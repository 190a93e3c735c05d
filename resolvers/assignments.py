"""Assigning credentials, and keeping each learner's cycles derived from their evidence.

Every event that can change a cycle — an assignment, a course got, launched or reported, a record
submitted or decided — calls `settle`, which re-derives the learner's chains (`resolvers.chains`)
from everything they have done and stores what changed. Time-dependent answers (status,
`expiresIn`) are derived on read from the stored dates.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from resolvers import audit
from resolvers.audit import Action
from resolvers.auth import Caller, require_admin
from resolvers.chains import derive
from resolvers.clock import LATEST, RANGE
from resolvers.cycles import Facts, Policy, course_hours
from resolvers.errors import Code, invalid, not_found
from resolvers.evidence import CourseHours
from store import (
    assignments,
    courses,
    credentials,
    enrollments,
    notifications,
    records,
    settling,
    users,
)
from store.assignments import Assignment, Revision
from store.audit import Change, Event
from store.credentials import Credential
from store.database import Database
from store.enrollments import Enrollment
from store.notifications import NotificationKind, SubjectType
from store.records import Record
from store.users import User

log = logging.getLogger(__name__)

MAX_LEARNERS = 500
ATTEMPTS = 5


async def assign(
    db: Database,
    viewer: Caller | None,
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
    credential = await credentials.get(db, org_id=org_id, id=credential_id)
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
    if due >= LATEST:
        raise invalid(Code.INVALID_DATE, f"the due date must be {RANGE}", "dueDate")

    latest = await assignments.latest_cycles(
        db, org_id=org_id, credential_id=credential.id, learner_ids=learner_ids
    )
    for index, learner_id in enumerate(learner_ids):
        previous = latest.get(learner_id)
        if previous and not _still_current(previous, now) and start < _follows_from(previous):
            raise invalid(
                Code.START_BEFORE_PREVIOUS,
                f"learners[{index}]'s previous cycle starts (or was withdrawn) "
                f"{_follows_from(previous).isoformat()}; a new one cannot start before it",
                "startDate",
            )
    result = {
        learner_id: previous
        for learner_id, previous in latest.items()
        if _still_current(previous, now)
    }
    fresh = [
        _cycle(credential, policy, learner_id, latest.get(learner_id), start, due, admin, now)
        for learner_id in learner_ids
        if learner_id not in result
    ]
    if fresh:
        events = {
            cycle.id: made
            for cycle in fresh
            if (made := audit.on_cycle(
                admin, Action.ASSIGN_CREDENTIAL, cycle, now=now, changes=_assigned(cycle)
            ))
        }  # fmt: skip
        await settle(
            db, org_id=org_id, learner_ids=learner_ids, now=now, adding=fresh, events=events
        )
        ours = await assignments.get_many(db, org_id=org_id, ids=[cycle.id for cycle in fresh])
        result.update({cycle.learner_id: cycle for cycle in ours})
    if raced := [learner_id for learner_id in learner_ids if learner_id not in result]:
        # a concurrent call assigned them first: its cycles are the ones
        result.update(
            await assignments.latest_cycles(
                db, org_id=org_id, credential_id=credential.id, learner_ids=raced
            )
        )
    return [result[learner_id] for learner_id in learner_ids]


def _assigned(cycle: Assignment) -> tuple[Change, ...]:
    return audit.created(
        {
            "credential": cycle.credential_id,
            "learner": cycle.learner_id,
            "cycle": cycle.cycle,
            "startDate": cycle.start_date,
            "dueDate": cycle.due_date,
        },
        {"credential": "Credential", "learner": "User"},
    )


def _still_current(assignment: Assignment, now: datetime) -> bool:
    """An open cycle, or a completed one that has not lapsed, needs no new assignment; a
    revoked or withdrawn one gives way to a new cycle."""
    if assignment.fixed:
        return False
    if assignment.completed_at is None:
        return True
    return assignment.valid_until is None or assignment.valid_until > now


def _follows_from(previous: Assignment) -> datetime:
    """The earliest start of a cycle after `previous`: its start, or after a withdrawn cycle
    its withdrawal (before then, that one was the learner's)."""
    return previous.withdrawal.at if previous.withdrawal else previous.start_date


def _cycle(
    credential: Credential,
    policy: Policy,
    learner_id: str,
    previous: Assignment | None,
    start: datetime,
    due: datetime,
    admin: User,
    now: datetime,
) -> Assignment:
    """A cycle an administrator assigns: evidence still fresh at its start counts, and after a
    previous cycle only evidence fresher than what that one rests on."""
    return Assignment.opened(
        org_id=credential.org_id,
        credential_id=credential.id,
        learner_id=learner_id,
        version=credential.current.number,
        previous=previous,
        assigned_at=now,
        assigned_by=admin.id,
        start=start,
        due=due,
        window_start=policy.first_window_start(start),
    )


async def settle(
    db: Database,
    *,
    org_id: str,
    learner_ids: Sequence[str],
    now: datetime,
    adding: Sequence[Assignment] = (),
    events: Mapping[str, Event] | None = None,
) -> list[Assignment]:
    """Re-derive the learners' cycles (with `adding`, new cycles to insert, each carrying its
    event in `events`) from all their evidence and store what changed; returns the cycles
    this call completed.

    Each stored change is conditioned on the revision it was derived from; when another
    derivation got there first, this one reads again and derives anew.
    """
    completed: list[Assignment] = []
    for _ in range(ATTEMPTS):
        if await _settle_once(
            db, org_id, list(learner_ids), now, list(adding), completed, events or {}
        ):
            return completed
        adding = ()  # whatever of it was inserted is stored now; the rest another call made
    log.warning("settling learners %s kept conflicting; the next event settles them", learner_ids)
    return completed


async def _settle_once(
    db: Database,
    org_id: str,
    learner_ids: list[str],
    now: datetime,
    adding: list[Assignment],
    completed: list[Assignment],
    events: Mapping[str, Event],
) -> bool:
    stored = await assignments.for_learners(db, org_id=org_id, learner_ids=learner_ids)
    chains: dict[tuple[str, str], list[Assignment]] = defaultdict(list)
    for cycle in [*stored, *adding]:
        chains[cycle.learner_id, cycle.credential_id].append(cycle)
    if not chains:
        return True
    found = await credentials.get_many(
        db, org_id=org_id, ids=list({credential for _, credential in chains})
    )
    by_id = {c.id: c for c in found}
    policies = [
        Policy.of(by_id[cycle.credential_id], number)
        for chain in chains.values()
        for cycle in chain
        for number in {cycle.version, by_id[cycle.credential_id].current.number}
    ]
    done = await histories(db, org_id, list({learner for learner, _ in chains}), policies)
    was = {cycle.id: cycle for cycle in stored}
    derived = [
        cycle
        for (learner, credential_id), chain in chains.items()
        for cycle in derive(
            chain,
            by_id[credential_id],
            enrollments=done.enrollments[learner],
            records=done.records[learner],
            paths=done.paths,
            now=now,
            courses=done.hours,
        )
    ]
    # New cycles first: a renewal stored before the completion that opens it is found and
    # linked by the next derivation if this process dies in between.
    new_cycles = [cycle for cycle in derived if cycle.id not in was]
    inserted = (
        await assignments.insert_many(db, cycles=new_cycles, events=events) if new_cycles else []
    )
    await notifications.notify_each(
        db,
        org_id=org_id,
        pairs=[(cycle.learner_id, cycle.id) for cycle in inserted],
        kind=NotificationKind.CREDENTIAL_ASSIGNED,
        subject_type=SubjectType.CREDENTIAL_ASSIGNMENT,
        now=now,
    )
    if len(inserted) < len(new_cycles):
        return False
    for cycle in derived:
        before = was.get(cycle.id)
        if before is None or cycle == before:
            continue
        if not await assignments.save(db, cycle=cycle, was=before, now=now):
            return False
        if before.completed_at is None and cycle.completed_at is not None:
            completed.append(cycle)
            kind = NotificationKind.CREDENTIAL_COMPLETED
            if cycle.certification is not None:
                kind = NotificationKind.CREDENTIAL_CERTIFIED
            await tell(db, cycle, kind, now)
        if before.revocation is None and cycle.revocation is not None:
            await tell(db, cycle, NotificationKind.CREDENTIAL_REVOKED, now)  # a record's revoked
    await settling.mark_settled(
        db,
        org_id=org_id,
        enrollment_ids=[e.id for mine in done.enrollments.values() for e in mine if not e.settled],
        record_ids=[r.id for mine in done.records.values() for r in mine if not r.settled],
    )
    return True


async def tell(db: Database, assignment: Assignment, kind: NotificationKind, now: datetime) -> None:
    """Tell the learner something about one of their cycles."""
    await notifications.notify(
        db,
        org_id=assignment.org_id,
        user_ids=[assignment.learner_id],
        kind=kind,
        subject_type=SubjectType.CREDENTIAL_ASSIGNMENT,
        subject_id=assignment.id,
        now=now,
    )


@dataclass(frozen=True, slots=True)
class Histories:
    """What some learners have done, read in one batch per kind: enough to judge their cycles
    against the policies it was read for."""

    enrollments: defaultdict[str, list[Enrollment]]
    records: defaultdict[str, list[Record]]
    paths: dict[str, tuple[str, ...]]
    hours: dict[str, CourseHours]  # for HOURS requirements: every completed course's

    def facts(self, learner_id: str, now: datetime) -> Facts:
        return Facts(
            self.enrollments[learner_id], self.records[learner_id], self.paths, now, self.hours
        )


async def histories(
    db: Database, org_id: str, learner_ids: list[str], policies: Sequence[Policy]
) -> Histories:
    path_ids = sorted({p for policy in policies for p in policy.path_ids()})
    paths = {c.id: c.course_ids for c in await courses.get_many(db, org_id=org_id, ids=path_ids)}
    taken: defaultdict[str, list[Enrollment]] = defaultdict(list)
    for enrollment in await enrollments.for_learners(db, org_id=org_id, learner_ids=learner_ids):
        taken[enrollment.learner_id].append(enrollment)
    submitted: defaultdict[str, list[Record]] = defaultdict(list)
    for record in await records.for_learners(db, org_id=org_id, learner_ids=learner_ids):
        submitted[record.learner_id].append(record)
    hours: dict[str, CourseHours] = {}
    if any(policy.counts_hours for policy in policies):  # every completed course may count
        done = sorted({e.course_id for mine in taken.values() for e in mine if e.completed_at})
        hours = course_hours(await courses.get_many(db, org_id=org_id, ids=done))
    return Histories(taken, submitted, paths, hours)


async def decided_cycle(db: Database, caller: Caller, assignment_id: str) -> Assignment:
    """A cycle the caller decides for (`Caller.decides_for`); to them others do not exist."""
    cycle = await assignments.get(db, org_id=caller.org_id, id=assignment_id)
    if cycle is None or not caller.decides_for(cycle.learner_id):
        raise not_found("the assignment", field="assignment")
    return cycle


async def revised(
    db: Database, cycle: Assignment, decide: Callable[[Assignment], Revision]
) -> Assignment:
    """Store what `decide` makes of the cycle, read and decided again while another write
    races it (`decide` raises when the cycle, as it now is, allows no such decision)."""
    for _ in range(ATTEMPTS):
        stored = await assignments.revise(db, cycle=cycle, revision=decide(cycle))
        if stored is not None:
            return stored
        found = await assignments.get(db, org_id=cycle.org_id, id=cycle.id)
        if found is None:
            break
        cycle = found
    raise invalid(Code.EDIT_CONFLICT, "the cycle keeps changing; try again", "assignment")


async def startable(
    db: Database, learner: User, assignment_id: str, now: datetime
) -> tuple[Assignment, Policy]:
    """The learner's own assignment and its policy, once its start date has come.

    Every learner action taken for an assignment (getting or launching a course, submitting a
    record) goes through here, so `NOT_STARTED_YET` means the same everywhere.
    """
    assignment = await assignments.get(db, org_id=learner.org_id, id=assignment_id)
    if assignment is None or assignment.learner_id != learner.id:
        raise not_found("the assignment", field="assignment")
    if assignment.fixed:
        raise invalid(
            Code.WITHDRAWN,
            "this cycle was revoked or withdrawn; nothing more counts for it",
            "assignment",
        )
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
    """Settle every learner with an open cycle or unsettled evidence; how many it looked at.

    Completion and validity are derived from evidence that is stored first (an approval, a
    course report, marked unsettled in the same write), so a crash between storing evidence and
    settling loses nothing: this pass — run when the server starts — or the learner's next event
    derives what it implies.
    """
    by_org: dict[str, set[str]] = defaultdict(set)
    for org_id, learner_id in {
        *await assignments.open_learners(db),
        *await settling.unsettled_learners(db),
    }:
        by_org[org_id].add(learner_id)
    for org_id, learners in by_org.items():
        ordered = sorted(learners)
        for start in range(0, len(ordered), batch):  # what it changes advances the version
            await settle(db, org_id=org_id, learner_ids=ordered[start : start + batch], now=now)
    return sum(len(learners) for learners in by_org.values())
