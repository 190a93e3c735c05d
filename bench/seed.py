"""Seed N learners x M credentials through the same resolvers the API uses."""

from __future__ import annotations

from datetime import datetime, timedelta

from resolvers import assignments, catalogue, credentials, enrollments, users
from resolvers.credentials import CredentialSpec, CriteriaSpec
from resolvers.criteria import Operator
from resolvers.periods import Period, PeriodUnit
from store.courses import CourseKind
from store.database import Database
from store.users import Role, User

DAY = timedelta(days=1)


async def organization(
    db: Database, *, name: str, learners: int, credentials_per_learner: int, now: datetime
) -> tuple[User, list[User]]:
    """An organization where everyone has every credential, in a spread of statuses."""
    _, admin = await users.bootstrap(
        db, org_name=name, admin_email=f"admin@{name.lower()}.bench", admin_name="Admin", now=now
    )
    people = [
        await users.create_user(
            db,
            admin,
            email=f"learner{i}@{name.lower()}.bench",
            name=f"Learner {i}",
            role=Role.LEARNER,
            now=now,
        )
        for i in range(learners)
    ]
    for c in range(credentials_per_learner):
        first = await catalogue.create_course(
            db,
            admin,
            title=f"Course {c}A",
            kind=CourseKind.COURSE,
            course_ids=[],
            clock_hours=1,
            label_id=None,
            now=now,
        )
        second = await catalogue.create_course(
            db,
            admin,
            title=f"Course {c}B",
            kind=CourseKind.COURSE,
            course_ids=[],
            clock_hours=1,
            label_id=None,
            now=now,
        )
        cred = await credentials.create_credential(
            db,
            admin,
            CredentialSpec(
                name=f"Credential {c}",
                complete_within=Period(90, PeriodUnit.DAY),
                valid_for=Period(1, PeriodUnit.YEAR),
                criteria=CriteriaSpec(
                    path="criteria",
                    operator=Operator.ALL,
                    children=[
                        CriteriaSpec(path="a", course_id=first.id),
                        CriteriaSpec(path="b", course_id=second.id),
                    ],
                ),
            ),
            now=now,
        )
        # A quarter back-filled into overdue, the rest current.
        cut = len(people) // 4
        for group, start in ((people[:cut], now - 120 * DAY), (people[cut:], now - 10 * DAY)):
            for i in range(0, len(group), assignments.MAX_LEARNERS):
                await assignments.assign(
                    db,
                    admin,
                    credential_id=cred.id,
                    learner_ids=[p.id for p in group[i : i + assignments.MAX_LEARNERS]],
                    start_date=start,
                    due_date=None,
                    now=now,
                )
        # Every fifth current learner completed it; every fifth other one began.
        for index, learner in enumerate(people[cut:]):
            if index % 5 == 0:
                for course in (first, second):
                    got = await enrollments.get_course(
                        db, learner, course_id=course.id, assignment_id=None, now=now
                    )
                    await enrollments.report_progress(
                        db, learner, enrollment_id=got.id, progress=1, completed=True, now=now
                    )
            elif index % 5 == 1:
                await enrollments.get_course(
                    db, learner, course_id=first.id, assignment_id=None, now=now
                )
    return admin, people
