"""Labels, courses and learning paths (`resolvers.catalogue`)."""

from __future__ import annotations

import strawberry

from graph import ids
from graph.context import Info
from graph.enums import CourseKind
from graph.errors import UserError, attempt
from graph.types.catalogue import Course, Label
from resolvers import catalogue


@strawberry.input
class CreateLabelInput:
    name: str


@strawberry.type
class CreateLabelPayload:
    label: Label | None
    user_errors: list[UserError]


@strawberry.input
class CreateCourseInput:
    title: str
    kind: CourseKind = CourseKind.COURSE
    courses: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="A learning path's courses, in order."
    )
    clock_hours: float | None = None
    label: strawberry.ID | None = None


@strawberry.type
class CreateCoursePayload:
    course: Course | None
    user_errors: list[UserError]


@strawberry.type
class CatalogueMutations:
    @strawberry.mutation(description="Administrators: a label for courses and records.")
    async def create_label(self, info: Info, input: CreateLabelInput) -> CreateLabelPayload:
        ctx = info.context
        label, errors = await attempt(
            lambda: catalogue.create_label(ctx.db, ctx.viewer, name=input.name, now=ctx.now)
        )
        return CreateLabelPayload(
            label=Label.from_record(label) if label else None, user_errors=errors
        )

    @strawberry.mutation(description="Administrators: a course, or a learning path of courses.")
    async def create_course(self, info: Info, input: CreateCourseInput) -> CreateCoursePayload:
        ctx = info.context
        course, errors = await attempt(
            lambda: catalogue.create_course(
                ctx.db,
                ctx.viewer,
                title=input.title,
                kind=input.kind,
                course_ids=[
                    ids.db_id(c, expect="Course", field=f"courses[{i}]")
                    for i, c in enumerate(input.courses)
                ],
                clock_hours=input.clock_hours,
                label_id=ids.db_id(input.label, expect="Label", field="label")
                if input.label
                else None,
                now=ctx.now,
            )
        )
        return CreateCoursePayload(
            course=Course.from_record(course) if course else None, user_errors=errors
        )
