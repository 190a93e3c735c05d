"""A learner's courses: get (or find) an instance, launch it, and take the player's reports."""

from __future__ import annotations

from datetime import datetime

from resolvers import audit
from resolvers.assignments import settle, startable
from resolvers.audit import Action
from resolvers.auth import Caller, require_learner_access, require_person, require_viewer
from resolvers.cycles import window
from resolvers.errors import Code, invalid, not_found, role_required
from resolvers.evidence import Window
from resolvers.pages import Cursors, Page
from store import courses, enrollments, organizations
from store.api_tokens import Scope
from store.courses import Course, CourseKind
from store.database import Database
from store.enrollments import Enrollment
from store.users import User


async def get_course(
    db: Database,
    viewer: Caller | None,
    *,
    course_id: str,
    assignment_id: str | None,
    now: datetime,
) -> Enrollment:
    """The learner's instance of the course: the open one, else a completed one that still
    counts, else a new one ("Get Course" when there is none, "Launch" when there is)."""
    learner = require_person(viewer)
    course = await courses.get(db, org_id=learner.org_id, id=course_id)
    if course is None:
        raise invalid(Code.UNKNOWN_COURSE, "no such course", "course")
    window = await _assignment_window(db, learner, assignment_id, course, now)
    mine = await enrollments.for_learners(db, org_id=learner.org_id, learner_ids=[learner.id])
    instances = [e for e in mine if e.course_id == course.id]
    open_ = next((e for e in instances if e.completed_at is None), None)
    counted = [
        e
        for e in instances
        if e.completed_at is not None and (window is None or e.completed_at in window)
    ]
    if open_ is not None or counted:
        return open_ or max(counted, key=lambda e: e.completed_at or now)
    enrollment = await enrollments.open_or_create(
        db, org_id=learner.org_id, learner_id=learner.id, course_id=course.id, now=now
    )
    for part in course.course_ids:
        if not any(e.course_id == part and e.completed_at is None for e in mine):
            await enrollments.open_or_create(
                db, org_id=learner.org_id, learner_id=learner.id, course_id=part, now=now
            )
    await settle(db, org_id=learner.org_id, learner_ids=[learner.id], now=now)
    return enrollment


async def _assignment_window(
    db: Database, learner: User, assignment_id: str | None, course: Course, now: datetime
) -> Window | None:
    """For a course got for an assignment: check it may start, and return its evidence window."""
    if assignment_id is None:
        return None
    assignment, policy = await startable(db, learner, assignment_id, now)
    wanted = policy.course_ids()
    paths = await courses.get_many(db, org_id=learner.org_id, ids=list(wanted))
    counted = wanted | {c for p in paths for c in p.course_ids}
    if course.id not in counted and not policy.takes_hours_of(course.label_id):
        raise invalid(
            Code.NOT_IN_CREDENTIAL, f"{course.title!r} is not part of this credential", "course"
        )
    return window(assignment)


async def _own(db: Database, viewer: Caller | None, enrollment_id: str) -> tuple[User, Enrollment]:
    user = require_person(viewer)
    enrollment = await enrollments.get(db, org_id=user.org_id, id=enrollment_id)
    if enrollment is None or enrollment.learner_id != user.id:
        raise not_found("the enrollment", field="enrollment")
    return user, enrollment


async def _reported(db: Database, viewer: Caller | None, enrollment_id: str) -> Enrollment:
    """The enrollment a progress report is for. Progress comes from the course player (an
    administrator, or a `COURSE_PLAYER` token, for any learner); a learner reports their own
    only where the organization allows it (`selfReportedProgress`) — else any learner could
    complete a course, and so a credential, by saying so."""
    caller = require_viewer(viewer)
    player = caller.is_admin or caller.has(Scope.COURSE_PLAYER)
    if not player:
        org = await organizations.get(db, id=caller.org_id)
        if caller.user is None or org is None or not org.self_reported_progress:
            raise role_required(
                "course progress is reported by the course player (a COURSE_PLAYER token); "
                "this organization does not take learners' own reports"
            )
    enrollment = await enrollments.get(db, org_id=caller.org_id, id=enrollment_id)
    if enrollment is None or not (player or enrollment.learner_id == caller.id):
        raise not_found("the enrollment", field="enrollment")
    return enrollment


async def _course_of(db: Database, org_id: str, enrollment: Enrollment) -> Course:
    course = await courses.get(db, org_id=org_id, id=enrollment.course_id)
    assert course is not None, "an enrollment's course is in its organization; none is deleted"
    return course


async def launch_course(
    db: Database,
    viewer: Caller | None,
    *,
    enrollment_id: str,
    assignment_id: str | None,
    now: datetime,
) -> Enrollment:
    """Open the course player; launched for an assignment, only once that may start."""
    learner, enrollment = await _own(db, viewer, enrollment_id)
    if assignment_id is not None:
        course = await _course_of(db, learner.org_id, enrollment)
        await _assignment_window(db, learner, assignment_id, course, now)
    launched = await enrollments.launch(db, org_id=learner.org_id, id=enrollment.id, now=now)
    assert launched is not None
    await settle(db, org_id=learner.org_id, learner_ids=[learner.id], now=now)
    return launched


async def report_progress(
    db: Database,
    viewer: Caller | None,
    *,
    enrollment_id: str,
    progress: float,
    completed: bool,
    now: datetime,
) -> Enrollment:
    """The course player's report; a completion re-evaluates the learner's credentials."""
    enrollment = await _reported(db, viewer, enrollment_id)
    org_id, learner_id = enrollment.org_id, enrollment.learner_id
    if not 0 <= progress <= 1:
        raise invalid(Code.OUT_OF_RANGE, "progress is between 0 and 1", "progress")
    course = await _course_of(db, org_id, enrollment)
    if course.kind is CourseKind.LEARNING_PATH:
        raise invalid(
            Code.PATH_COMPLETES_THROUGH_COURSES,
            "a learning path progresses through its courses; report on those",
            "enrollment",
        )
    made = None
    if viewer is not None:  # an administrator's or manager's report is theirs to answer for
        after = 1.0 if completed else progress
        changes = audit.diff(
            {"progress": enrollment.progress, "completed": enrollment.completed_at is not None},
            {"progress": after, "completed": completed},
        )
        made = audit.event(
            viewer, Action.REPORT_COURSE_PROGRESS, "Enrollment", subject_id=enrollment.id,
            now=now, changes=changes, related=(learner_id,),
        )  # fmt: skip
    updated = await enrollments.report(
        db,
        org_id=org_id,
        id=enrollment.id,
        progress=progress,
        completed=completed,
        now=now,
        event=made,
    )
    if updated is None:
        raise invalid(Code.ALREADY_COMPLETED, "this instance is already completed", "enrollment")
    await _sync_paths(db, org_id, learner_id, course.id, now)
    await settle(db, org_id=org_id, learner_ids=[learner_id], now=now)
    return updated


async def _sync_paths(
    db: Database, org_id: str, learner_id: str, course_id: str, now: datetime
) -> None:
    """Bring the learner's open path instances that contain the course up to date."""
    paths = await courses.paths_containing(db, org_id=org_id, course_id=course_id)
    if not paths:
        return
    mine = await enrollments.for_learners(db, org_id=org_id, learner_ids=[learner_id])
    for path in paths:
        instance = next(
            (e for e in mine if e.course_id == path.id and e.completed_at is None), None
        )
        if instance is None:
            continue
        shares = [
            1.0
            if any(e.course_id == c and e.completed_at is not None for e in mine)
            else max((e.progress for e in mine if e.course_id == c), default=0.0)
            for c in path.course_ids
        ]
        await enrollments.report(
            db,
            org_id=org_id,
            id=instance.id,
            progress=sum(shares) / len(shares),
            completed=all(share == 1.0 for share in shares),
            now=now,
        )


async def learner_enrollments(
    db: Database, viewer: Caller, learner: User | None, *, first: int | None, after: str | None
) -> Page[Enrollment]:
    learner = require_learner_access(viewer, learner)
    cursors = Cursors("enrollments", learner.id)
    size, last = cursors.keyset(first, after)
    fetched = await enrollments.page_for_learner(
        db, org_id=learner.org_id, learner_id=learner.id, after=last, limit=size + 1
    )
    total = await enrollments.count_for_learner(db, org_id=learner.org_id, learner_id=learner.id)
    return Page.of(fetched, size, total, lambda e: cursors.encode(e.id))
