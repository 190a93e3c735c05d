"""Labels, courses and learning paths: what credentials are built from."""

from __future__ import annotations

from datetime import datetime

from resolvers import audit
from resolvers.audit import Action
from resolvers.auth import Caller, require_admin
from resolvers.errors import Code, invalid
from resolvers.pages import Cursors, Page
from resolvers.text import required
from store import courses, labels
from store.courses import Course, CourseKind
from store.database import Database
from store.errors import Conflict
from store.labels import Label

MAX_PATH_COURSES = 100
MAX_CLOCK_HOURS = 10_000


async def create_label(db: Database, viewer: Caller | None, *, name: str, now: datetime) -> Label:
    admin = require_admin(viewer)
    name = required(name, field="name", limit=100)
    made = audit.event(
        admin, Action.CREATE_LABEL, "Label", now=now, changes=audit.created({"name": name})
    )
    try:
        return await labels.create(db, org_id=admin.org_id, name=name, now=now, event=made)
    except Conflict as error:
        raise invalid(Code.LABEL_TAKEN, f"a label named {name!r} exists", "name") from error


async def create_course(
    db: Database,
    viewer: Caller | None,
    *,
    title: str,
    kind: CourseKind,
    course_ids: list[str],
    clock_hours: float | None,
    label_id: str | None,
    now: datetime,
) -> Course:
    admin = require_admin(viewer)
    title = required(title, field="title")
    if clock_hours is not None and not 0 <= clock_hours <= MAX_CLOCK_HOURS:
        raise invalid(
            Code.OUT_OF_RANGE, f"clockHours is between 0 and {MAX_CLOCK_HOURS}", "clockHours"
        )
    if label_id is not None and await labels.get(db, org_id=admin.org_id, id=label_id) is None:
        raise invalid(Code.UNKNOWN_LABEL, "no such label", "label")
    if kind is CourseKind.COURSE and course_ids:
        raise invalid(Code.WRONG_COURSE_KIND, "only a learning path has courses", "courses")
    if kind is CourseKind.LEARNING_PATH:
        await _check_path(db, admin.org_id, course_ids)
    shown = {
        "title": title,
        "kind": kind.value,
        "courses": course_ids or None,
        "clockHours": clock_hours,
        "label": label_id,
    }
    made = audit.event(
        admin,
        Action.CREATE_COURSE,
        "Course",
        now=now,
        changes=audit.created(shown, {"courses": "Course", "label": "Label"}),
    )
    try:
        return await courses.create(
            db,
            org_id=admin.org_id,
            title=title,
            kind=kind,
            course_ids=course_ids,
            clock_hours=clock_hours,
            label_id=label_id,
            now=now,
            event=made,
        )
    except Conflict as error:
        # Two courses of one title are one too many for the people who pick them by name.
        raise invalid(
            Code.TITLE_TAKEN, f"a course titled {title!r} exists; name this one apart", "title"
        ) from error


async def _check_path(db: Database, org_id: str, course_ids: list[str]) -> None:
    if not course_ids:
        raise invalid(Code.REQUIRED, "a learning path needs at least one course", "courses")
    if len(course_ids) > MAX_PATH_COURSES:
        raise invalid(Code.TOO_MANY, f"a path has at most {MAX_PATH_COURSES} courses", "courses")
    found = {c.id: c for c in await courses.get_many(db, org_id=org_id, ids=course_ids)}
    seen: set[str] = set()
    for index, course_id in enumerate(course_ids):
        field = f"courses[{index}]"
        course = found.get(course_id)
        if course is None:
            raise invalid(Code.UNKNOWN_COURSE, "no such course", field)
        if course.kind is not CourseKind.COURSE:
            raise invalid(Code.WRONG_COURSE_KIND, "a path holds courses, not paths", field)
        if course_id in seen:
            raise invalid(Code.DUPLICATE_COURSE, f"{course.title!r} is already in the path", field)
        seen.add(course_id)


async def course_page(
    db: Database, viewer: Caller, *, first: int | None, after: str | None
) -> Page[Course]:
    cursors = Cursors("courses")
    size, last = cursors.keyset(first, after)
    fetched = await courses.list_page(db, org_id=viewer.org_id, after=last, limit=size + 1)
    total = await courses.count(db, org_id=viewer.org_id)
    return Page.of(fetched, size, total, lambda c: cursors.encode(c.id))


async def all_labels(db: Database, viewer: Caller) -> list[Label]:
    return await labels.list_all(db, org_id=viewer.org_id)
