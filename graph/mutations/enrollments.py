"""Getting, launching and progressing through courses (`resolvers.enrollments`)."""

from __future__ import annotations

import strawberry

from graph import ids
from graph.context import Info
from graph.errors import UserError, attempt
from graph.types.catalogue import Enrollment
from resolvers import enrollments
from store.enrollments import Enrollment as StoredEnrollment


@strawberry.input
class GetCourseInput:
    course: strawberry.ID
    assignment: strawberry.ID | None = strawberry.field(
        default=None, description="The credential it is for: checks that it may start."
    )


@strawberry.type
class GetCoursePayload:
    enrollment: Enrollment | None
    user_errors: list[UserError]


@strawberry.input
class LaunchCourseInput:
    enrollment: strawberry.ID
    assignment: strawberry.ID | None = None


@strawberry.type
class LaunchCoursePayload:
    enrollment: Enrollment | None
    user_errors: list[UserError]


@strawberry.input
class ReportCourseProgressInput:
    enrollment: strawberry.ID
    progress: float = strawberry.field(description="0..1")
    completed: bool = False


@strawberry.type
class ReportCourseProgressPayload:
    enrollment: Enrollment | None
    user_errors: list[UserError]


def _assignment(gid: strawberry.ID | None) -> str | None:
    return ids.db_id(gid, expect="CredentialAssignment", field="assignment") if gid else None


def _enrollment(gid: strawberry.ID) -> str:
    return ids.db_id(gid, expect="Enrollment", field="enrollment")


def _shown(found: StoredEnrollment | None) -> Enrollment | None:
    return Enrollment.from_record(found) if found else None


@strawberry.type
class EnrollmentMutations:
    @strawberry.mutation(
        description="Your instance of a course: the one in your account if there is one "
        '("Launch"), else a new one ("Get Course").'
    )
    async def get_course(self, info: Info, input: GetCourseInput) -> GetCoursePayload:
        ctx = info.context
        found, errors = await attempt(
            lambda: enrollments.get_course(
                ctx.db,
                ctx.viewer,
                course_id=ids.db_id(input.course, expect="Course", field="course"),
                assignment_id=_assignment(input.assignment),
                now=ctx.now,
            )
        )
        return GetCoursePayload(enrollment=_shown(found), user_errors=errors)

    @strawberry.mutation(description="Open the course player on your enrollment.")
    async def launch_course(self, info: Info, input: LaunchCourseInput) -> LaunchCoursePayload:
        ctx = info.context
        found, errors = await attempt(
            lambda: enrollments.launch_course(
                ctx.db,
                ctx.viewer,
                enrollment_id=_enrollment(input.enrollment),
                assignment_id=_assignment(input.assignment),
                now=ctx.now,
            )
        )
        return LaunchCoursePayload(enrollment=_shown(found), user_errors=errors)

    @strawberry.mutation(
        description="The course player's report. A completion updates your credentials at once."
    )
    async def report_course_progress(
        self, info: Info, input: ReportCourseProgressInput
    ) -> ReportCourseProgressPayload:
        ctx = info.context
        found, errors = await attempt(
            lambda: enrollments.report_progress(
                ctx.db,
                ctx.viewer,
                enrollment_id=_enrollment(input.enrollment),
                progress=input.progress,
                completed=input.completed,
                now=ctx.now,
            )
        )
        return ReportCourseProgressPayload(enrollment=_shown(found), user_errors=errors)
