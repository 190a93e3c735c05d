"""Seed N learners x M credentials quickly: definitions through the resolvers, the bulk of
learners, assignments and enrollments in a few `insert_many` calls, shaped as the API writes
them (a spread of statuses: overdue, not started, in progress, completed)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId

from resolvers import catalogue, credentials, users
from resolvers.auth import Caller
from resolvers.credentials import CredentialSpec, CriteriaSpec
from resolvers.criteria import Operator
from resolvers.periods import Period, PeriodUnit
from store.courses import CourseKind
from store.database import Database
from store.users import User

DAY = timedelta(days=1)


async def organization(
    db: Database, *, name: str, learners: int, credentials_per_learner: int, now: datetime
) -> tuple[User, list[User]]:
    _, admin = await users.bootstrap(
        db, org_name=name, admin_email=f"admin@{name.lower()}.bench", admin_name="Admin", now=now
    )
    org = ObjectId(admin.org_id)
    people = [
        {
            "_id": ObjectId(),
            "orgId": org,
            "email": f"learner{i}@{name.lower()}.bench",
            "name": f"Learner {i}",
            "role": "LEARNER",
            "createdAt": now,
        }
        for i in range(learners)
    ]
    await db.db.users.insert_many(people)
    cycles: list[dict[str, Any]] = []
    taken: list[dict[str, Any]] = []
    for c in range(credentials_per_learner):
        pair = [
            await catalogue.create_course(
                db,
                Caller.person(admin),
                title=f"Course {c}{part}",
                kind=CourseKind.COURSE,
                course_ids=[],
                clock_hours=1,
                label_id=None,
                now=now,
            )
            for part in "AB"
        ]
        cred = await credentials.create_credential(
            db,
            Caller.person(admin),
            CredentialSpec(
                name=f"Credential {c}",
                complete_within=Period(90, PeriodUnit.DAY),
                valid_for=Period(1, PeriodUnit.YEAR),
                criteria=CriteriaSpec(
                    path="criteria",
                    operator=Operator.ALL,
                    children=[
                        CriteriaSpec(path=f"c{i}", course_id=course.id)
                        for i, course in enumerate(pair)
                    ],
                ),
            ),
            now=now,
        )
        for index, person in enumerate(people):
            overdue = index < learners // 4
            start = now - (120 if overdue else 10) * DAY
            done = not overdue and index % 5 == 0
            begun = not overdue and index % 5 == 1
            cycles.append(
                {
                    "orgId": org,
                    "credentialId": ObjectId(cred.id),
                    "learnerId": person["_id"],
                    "version": 1,
                    "cycle": 1,
                    "previousId": None,
                    "assignedAt": start,
                    "assignedBy": ObjectId(admin.id),
                    "startDate": start,
                    "dueDate": start + 90 * DAY,
                    "windowStart": start - 365 * DAY,
                    "startedAt": now - 8 * DAY if done or begun else None,
                    "completedAt": now - 5 * DAY if done else None,
                    "validFrom": now - 5 * DAY if done else None,
                    "validUntil": now - 5 * DAY + 365 * DAY if done else None,
                }
            )
            for course in pair if done else pair[:1] if begun else ():
                taken.append(
                    {
                        "orgId": org,
                        "learnerId": person["_id"],
                        "courseId": ObjectId(course.id),
                        "status": "COMPLETED" if done else "IN_PROGRESS",
                        "progress": 1.0 if done else 0.3,
                        "enrolledAt": now - 8 * DAY,
                        "launchedAt": now - 8 * DAY,
                        "completedAt": now - 5 * DAY if done else None,
                        "open": not done,
                    }
                )
    await db.db.assignments.insert_many(cycles)
    if taken:
        await db.db.enrollments.insert_many(taken)
    return admin, [User.from_doc(p) for p in people]
