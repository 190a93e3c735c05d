from __future__ import annotations

from typing import Any

import strawberry

from graph import ids
from graph.context import Info
from graph.errors import UserError, attempt
from graph.types.catalogue import Enrollment
from resolvers import enrollments


@strawberry.input
class GetCourseInput:
    course: strawberry.ID
    assignment: strawberry.ID | None = strawberry.field(
        default=None, description="The credential it is for: checks that it may start."
    )


@strawberry.input
class LaunchCourseInput:
    enrollment: strawberry.ID
    assignment: strawberry.ID | None = None


@strawberry.input
class ReportCourseProgressInput:
    enrollment: strawberry.ID
    progress: float = strawberry.field(description="0..1")
    completed: bool = False


@strawberry.type
class EnrollmentPayload:
    enrollment: Enrollment | None
    user_errors: list[UserError]


def _assignment(gid: strawberry.ID | None) -> str | None:
    return ids.db_id(gid, expect="CredentialAssignment", field="assignment") if gid else None


async def _payload(work: Any) -> EnrollmentPayload:
    found, errors = await attempt(work)
    return EnrollmentPayload(
        enrollment=Enrollment.from_record(found) if found else None, user_errors=errors
    )


@strawberry.type
class CourseMutations:
    @strawberry.mutation(
        description="Your instance of a course: the one in your account if there is one "
        '("Launch"), else a new one ("Get Course").'
    )
    async def get_course(self, info: Info, input: GetCourseInput) -> EnrollmentPayload:
        ctx = info.context

        async def work() -> Any:
            return await enrollments.get_course(
                ctx.db,
                ctx.viewer,
                course_id=ids.db_id(input.course, expect="Course", field="course"),
                assignment_id=_assignment(input.assignment),
                now=ctx.now,
            )

        return await _payload(work())

    @strawberry.mutation(description="Open the course player on your enrollment.")
    async def launch_course(self, info: Info, input: LaunchCourseInput) -> EnrollmentPayload:
        ctx = info.context

        async def work() -> Any:
            return await enrollments.launch_course(
                ctx.db,
                ctx.viewer,
                enrollment_id=ids.db_id(input.enrollment, expect="Enrollment", field="enrollment"),
                assignment_id=_assignment(input.assignment),
                now=ctx.now,
            )

        return await _payload(work())

    @strawberry.mutation(
        description="The course player's report. A completion updates your credentials at once."
    )
    async def report_course_progress(
        self, info: Info, input: ReportCourseProgressInput
    ) -> EnrollmentPayload:
        ctx = info.context

        async def work() -> Any:
            return await enrollments.report_progress(
                ctx.db,
                ctx.viewer,
                enrollment_id=ids.db_id(input.enrollment, expect="Enrollment", field="enrollment"),
                progress=input.progress,
                completed=input.completed,
                now=ctx.now,
            )

        return await _payload(work())
