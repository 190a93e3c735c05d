"""Labels, courses and learning paths, and a learner's enrollments in them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from graph import ids
from graph.context import Info
from graph.enums import CourseKind, EnrollmentStatus
from graph.types.node import Node, entity, named
from store import courses as course_store
from store import enrollments as enrollment_store
from store import labels as label_store

if TYPE_CHECKING:
    from graph.types.user import User


@entity
@strawberry.type(description='A name grouping courses and records, e.g. "BLS".')
class Label(Node):
    name: str

    @classmethod
    def from_record(cls, label: label_store.Label) -> Self:
        return cls(id=strawberry.ID(ids.encode("Label", label.id)), name=label.name)

    @classmethod
    async def load(cls, info: Info, db_id: str) -> Self | None:
        label = await info.context.loaders.labels_by_id.load(db_id)
        return cls.from_record(label) if label else None


@entity
@strawberry.type(description="A course, or a learning path: an ordered list of courses.")
class Course(Node):
    title: str
    kind: CourseKind
    clock_hours: float | None
    record: strawberry.Private[course_store.Course]

    @classmethod
    def from_record(cls, course: course_store.Course) -> Self:
        return cls(
            id=strawberry.ID(ids.encode("Course", course.id)),
            title=course.title,
            kind=course.kind,
            clock_hours=course.clock_hours,
            record=course,
        )

    @classmethod
    async def load(cls, info: Info, db_id: str) -> Self | None:
        course = await info.context.loaders.courses_by_id.load(db_id)
        return cls.from_record(course) if course else None

    @strawberry.field(description="A learning path's courses, in order; empty for a course.")
    async def courses(self, info: Info) -> list[Course]:
        found = await info.context.loaders.courses_by_id.load_many(list(self.record.course_ids))
        return [Course.from_record(c) for c in found if c is not None]

    @strawberry.field
    async def label(self, info: Info) -> Label | None:
        return await Label.load(info, self.record.label_id) if self.record.label_id else None


@entity
@strawberry.type(description='A learner\'s instance of a course ("in your account").')
class Enrollment(Node):
    status: EnrollmentStatus
    progress: float
    enrolled_at: datetime
    launched_at: datetime | None
    completed_at: datetime | None
    record: strawberry.Private[enrollment_store.Enrollment]

    @classmethod
    def from_record(cls, enrollment: enrollment_store.Enrollment) -> Self:
        return cls(
            id=strawberry.ID(ids.encode("Enrollment", enrollment.id)),
            status=enrollment.status,
            progress=enrollment.progress,
            enrolled_at=enrollment.enrolled_at,
            launched_at=enrollment.launched_at,
            completed_at=enrollment.completed_at,
            record=enrollment,
        )

    @classmethod
    async def load(cls, info: Info, db_id: str) -> Self | None:
        ctx = info.context
        enrollment = await ctx.loaders.enrollments_by_id.load(db_id)
        if enrollment is None or not ctx.viewer.sees(enrollment.learner_id):
            return None
        return cls.from_record(enrollment)

    @strawberry.field
    async def course(self, info: Info) -> Course:
        course = await Course.load(info, self.record.course_id)
        assert course is not None
        return course

    @strawberry.field
    async def learner(self, info: Info) -> Annotated[User, strawberry.lazy("graph.types.user")]:
        learner = await named(info, self.record.learner_id)
        assert learner is not None, "no user is deleted"
        return learner
