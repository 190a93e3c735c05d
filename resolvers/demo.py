"""The demo organization `credgraph serve --demo` loads once: realistic, small, ready to explore.

Everything goes through the same resolvers the API uses, some of it with the clock set back, so
the demo holds learners in every status: not yet available, not started, in progress,
completed, overdue and expired.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from resolvers import assignments, catalogue, credentials, enrollments
from resolvers.auth import Caller
from resolvers.credentials import CredentialSpec, CriteriaSpec
from resolvers.criteria import Operator, RecordType
from resolvers.groups import create_group
from resolvers.periods import Period, PeriodUnit
from resolvers.users import bootstrap, create_user
from store import organizations, users
from store.courses import CourseKind
from store.database import Database
from store.users import Role, User

ORG_NAME = "Northwind Health"
ADMIN = ("ada.admin@northwind.example", "Ada Okafor")
LEARNERS = [
    ("lee.learner@northwind.example", "Lee Park"),
    ("maria.santos@northwind.example", "Maria Santos"),
    ("sam.odum@northwind.example", "Sam Odum"),
    ("priya.shah@northwind.example", "Priya Shah"),
    ("tom.becker@northwind.example", "Tom Becker"),
    ("ana.lima@northwind.example", "Ana Lima"),
]
MANAGER = ("noor.haddad@northwind.example", "Noor Haddad")  # manages Ward 5: the named learners
WARD = "Ward 5"
DAY = timedelta(days=1)

STAFF = (
    200  # the crowd besides the named people: enough for a dashboard's numbers to mean something
)


@dataclass(frozen=True)
class Demo:
    org_name: str
    admin: User
    learner: User
    manager: User
    created: bool


async def load(
    db: Database,
    *,
    now: datetime,
    crowd: int = STAFF,
    progress: Callable[[str], None] = lambda message: None,
) -> Demo:
    """Create the demo organization unless it exists; either way return its showcase users.

    Besides the named learners, `crowd` more make the dashboards' numbers mean something.
    `progress` hears what is being done while it takes a while (the first start only).
    """
    existing = await organizations.find_by_name(db, name=ORG_NAME)
    if existing:
        org_id = existing[0].id
        (found,) = await users.find_by_email(db, email=ADMIN[0], org_id=org_id)
        (learner,) = await users.find_by_email(db, email=LEARNERS[0][0], org_id=org_id)
        (manager,) = await users.find_by_email(db, email=MANAGER[0], org_id=org_id)
        return Demo(ORG_NAME, found, learner, manager, created=False)
    progress(f"loading the demo organization {ORG_NAME!r} (the first start only) …")
    async with organizations.changes_held(db):  # one advance of the version, not thousands
        _, administrator = await bootstrap(
            db, org_name=ORG_NAME, admin_email=ADMIN[0], admin_name=ADMIN[1], now=now
        )
        admin = Caller.person(administrator)
        people = [
            await create_user(db, admin, email=email, name=name, role=Role.LEARNER, now=now)
            for email, name in LEARNERS
        ]
        noor = await create_user(
            db, admin, email=MANAGER[0], name=MANAGER[1], role=Role.MANAGER, now=now
        )
        await create_group(
            db, admin, name=WARD, member_ids=[p.id for p in people], manager_ids=[noor.id], now=now
        )
        cpr, infection, courses = await _credentials(db, admin, people, now)
        progress(f"adding {crowd} staff in every status …")
        await _crowd(db, admin, crowd, (cpr, infection), courses, now)
    return Demo(ORG_NAME, administrator, people[0], noor, created=True)


async def _course(db: Database, admin: Caller, title: str, hours: float, now: datetime) -> str:
    made = await catalogue.create_course(
        db,
        admin,
        title=title,
        kind=CourseKind.COURSE,
        course_ids=[],
        clock_hours=hours,
        label_id=None,
        now=now,
    )
    return made.id


async def _credentials(
    db: Database, admin: Caller, people: list[User], now: datetime
) -> tuple[str, str, dict[str, str]]:
    lee, maria, sam, priya, tom, ana = people
    bls = await catalogue.create_label(db, admin, name="BLS", now=now)
    cpr_online = await _course(db, admin, "CPR Online Course", 2.0, now)
    hygiene = await _course(db, admin, "Hand Hygiene", 0.5, now)
    precautions = await _course(db, admin, "Standard Precautions", 1.0, now)
    refresher = await _course(db, admin, "Infection Control Refresher", 1.5, now)
    sterile = await _course(db, admin, "Sterile Technique", 2.0, now)
    await catalogue.create_course(
        db,
        admin,
        title="New Starter Path",
        kind=CourseKind.LEARNING_PATH,
        course_ids=[hygiene, precautions],
        clock_hours=None,
        label_id=None,
        now=now,
    )

    cpr = await credentials.create_credential(
        db,
        admin,
        CredentialSpec(
            name="CPR Certification",
            instructions="Complete the online course, then upload your Basic Life Support "
            "(BLS) card as a credential document. Renew every two years.",
            complete_within=Period(90, PeriodUnit.DAY),
            valid_for=Period(2, PeriodUnit.YEAR),
            reassign_on_completion=True,
            criteria=CriteriaSpec(
                path="criteria",
                operator=Operator.ALL,
                children=[
                    CriteriaSpec(path="criteria.all[0]", course_id=cpr_online),
                    CriteriaSpec(
                        path="criteria.all[1]",
                        label_id=bls.id,
                        record_type=RecordType.CREDENTIAL_DOCUMENT,
                        title="Basic Life Support (BLS) credential document",
                    ),
                ],
            ),
        ),
        now=now,
    )
    infection = await credentials.create_credential(
        db,
        admin,
        CredentialSpec(
            name="Infection Prevention",
            instructions="Either the two foundation courses, or the refresher with sterile "
            "technique.",
            complete_within=Period(90, PeriodUnit.DAY),
            valid_for=Period(1, PeriodUnit.YEAR),
            reassign_on_completion=False,
            criteria=CriteriaSpec(
                path="criteria",
                operator=Operator.ANY,
                children=[
                    CriteriaSpec(
                        path="criteria.any[0]",
                        operator=Operator.ALL,
                        children=[
                            CriteriaSpec(path="criteria.any[0].all[0]", course_id=hygiene),
                            CriteriaSpec(path="criteria.any[0].all[1]", course_id=precautions),
                        ],
                    ),
                    CriteriaSpec(
                        path="criteria.any[1]",
                        operator=Operator.ALL,
                        children=[
                            CriteriaSpec(path="criteria.any[1].all[0]", course_id=refresher),
                            CriteriaSpec(path="criteria.any[1].all[1]", course_id=sterile),
                        ],
                    ),
                ],
            ),
        ),
        now=now,
    )

    async def finish(learner: User, course_id: str, when: datetime) -> None:
        got = await enrollments.get_course(
            db, Caller.person(learner), course_id=course_id, assignment_id=None, now=when
        )
        await enrollments.launch_course(
            db, Caller.person(learner), enrollment_id=got.id, assignment_id=None, now=when
        )
        await enrollments.report_progress(  # as the course player would
            db, admin, enrollment_id=got.id, progress=1.0, completed=True, now=when
        )

    # Ana completed Infection Prevention 14 months ago: it has expired.
    long_ago = now - 425 * DAY
    await assignments.assign(
        db,
        admin,
        credential_id=infection.id,
        learner_ids=[ana.id],
        start_date=None,
        due_date=None,
        now=long_ago,
    )
    await finish(ana, hygiene, long_ago + 3 * DAY)
    await finish(ana, precautions, long_ago + 5 * DAY)

    # Tom was assigned 120 days ago and never finished: overdue.
    await assignments.assign(
        db,
        admin,
        credential_id=infection.id,
        learner_ids=[tom.id],
        start_date=now - 120 * DAY,
        due_date=None,
        now=now - 120 * DAY,
    )
    # Priya starts in two weeks.
    await assignments.assign(
        db,
        admin,
        credential_id=infection.id,
        learner_ids=[priya.id],
        start_date=now + 14 * DAY,
        due_date=None,
        now=now,
    )
    await assignments.assign(
        db,
        admin,
        credential_id=infection.id,
        learner_ids=[lee.id, maria.id, sam.id],
        start_date=None,
        due_date=None,
        now=now - 20 * DAY,
    )
    await finish(maria, refresher, now - 12 * DAY)
    await finish(maria, sterile, now - 10 * DAY)
    await finish(lee, hygiene, now - 6 * DAY)
    await assignments.assign(
        db,
        admin,
        credential_id=cpr.id,
        learner_ids=[lee.id, maria.id, sam.id, tom.id],
        start_date=None,
        due_date=None,
        now=now - 7 * DAY,
    )
    await finish(lee, cpr_online, now - 2 * DAY)
    courses = {"cpr": cpr_online, "hygiene": hygiene, "precautions": precautions}
    return cpr.id, infection.id, courses


FIRST = ["Alex", "Bea", "Chen", "Dara", "Eli", "Femi", "Gus", "Hana", "Ines", "Jon", "Kemi", "Luis"]
LAST = ["Adams", "Brown", "Costa", "Diaz", "Evans", "Fox", "Garcia", "Huang", "Ito", "Jones"]


async def _crowd(
    db: Database,
    admin: Caller,
    size: int,
    credential_ids: tuple[str, str],
    course_ids: dict[str, str],
    now: datetime,
) -> None:
    """Staff assigned over the past months: some done, some started, some late."""
    staff = [
        await create_user(
            db,
            admin,
            email=f"staff{i:03d}@northwind.example",
            name=f"{FIRST[i % len(FIRST)]} {LAST[(i // len(FIRST)) % len(LAST)]}",
            role=Role.LEARNER,
            now=now,
        )
        for i in range(size)
    ]
    cohorts = [staff[i::4] for i in range(4)]
    for cohort, days_ago in zip(cohorts, (150, 60, 30, 5), strict=True):
        for credential_id in credential_ids:
            for start in range(0, len(cohort), assignments.MAX_LEARNERS):
                await assignments.assign(
                    db,
                    admin,
                    credential_id=credential_id,
                    learner_ids=[p.id for p in cohort[start : start + assignments.MAX_LEARNERS]],
                    start_date=now - days_ago * DAY,
                    due_date=None,
                    now=now - days_ago * DAY,
                )
    for index, person in enumerate(staff):
        if index % 4 == 0:
            for course in ("hygiene", "precautions"):
                got = await enrollments.get_course(
                    db,
                    Caller.person(person),
                    course_id=course_ids[course],
                    assignment_id=None,
                    now=now - DAY,
                )
                await enrollments.report_progress(
                    db, admin, enrollment_id=got.id, progress=1.0, completed=True, now=now - DAY
                )
        elif index % 4 == 1:
            await enrollments.get_course(
                db,
                Caller.person(person),
                course_id=course_ids["cpr"],
                assignment_id=None,
                now=now - DAY,
            )
