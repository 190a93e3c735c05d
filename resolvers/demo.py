"""The demo organization `credgraph serve --demo` loads once: realistic, small, ready to explore."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from resolvers.users import bootstrap, create_user
from store import organizations, users
from store.database import Database
from store.users import Role, User

ORG_NAME = "Northwind Health"
ADMIN = ("ada.admin@northwind.example", "Ada Okafor")
LEARNERS = [
    ("lee.learner@northwind.example", "Lee Park"),
    ("maria.santos@northwind.example", "Maria Santos"),
    ("sam.odum@northwind.example", "Sam Odum"),
]


@dataclass(frozen=True)
class Demo:
    org_name: str
    admin: User
    learner: User
    created: bool


async def load(db: Database, *, now: datetime) -> Demo:
    """Create the demo organization unless it exists; either way return its two showcase users."""
    existing = await organizations.find_by_name(db, name=ORG_NAME)
    if existing:
        org_id = existing[0].id
        (admin,) = await users.find_by_email(db, email=ADMIN[0], org_id=org_id)
        (learner,) = await users.find_by_email(db, email=LEARNERS[0][0], org_id=org_id)
        return Demo(ORG_NAME, admin, learner, created=False)
    _, admin = await bootstrap(
        db, org_name=ORG_NAME, admin_email=ADMIN[0], admin_name=ADMIN[1], now=now
    )
    people = [
        await create_user(db, admin, email=email, name=name, role=Role.LEARNER, now=now)
        for email, name in LEARNERS
    ]
    return Demo(ORG_NAME, admin, people[0], created=True)
