"""The audit log: every change an administrator or a manager makes leaves one event per thing
it changed — who, when, what, why, and each field before and after — written by the same
write as the change (`store.audit`), and read back newest first by administrators.

A learner's own doings (getting a course, submitting their record, asking for an extension)
and an integration's reports are recorded on what they made, not here: the log answers
"who decided this?", and they decided nothing for anyone else.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from resolvers.auth import Caller, require_admin
from resolvers.pages import Cursors, Page
from store import audit
from store.assignments import Assignment
from store.audit import Change, Event, EventFilter
from store.database import Database
from store.users import Role, User


class Action(StrEnum):
    """What was done: the mutation that did it."""

    CREATE_USER = "CREATE_USER"
    UPDATE_USER = "UPDATE_USER"
    DEACTIVATE_USER = "DEACTIVATE_USER"
    REACTIVATE_USER = "REACTIVATE_USER"
    REVOKE_USER_TOKENS = "REVOKE_USER_TOKENS"
    CREATE_GROUP = "CREATE_GROUP"
    UPDATE_GROUP = "UPDATE_GROUP"
    CREATE_API_TOKEN = "CREATE_API_TOKEN"
    REVOKE_API_TOKEN = "REVOKE_API_TOKEN"
    UPDATE_ORGANIZATION = "UPDATE_ORGANIZATION"
    CONFIGURE_SINGLE_SIGN_ON = "CONFIGURE_SINGLE_SIGN_ON"
    REMOVE_SINGLE_SIGN_ON = "REMOVE_SINGLE_SIGN_ON"
    CREATE_LABEL = "CREATE_LABEL"
    CREATE_COURSE = "CREATE_COURSE"
    CREATE_CREDENTIAL = "CREATE_CREDENTIAL"
    UPDATE_CREDENTIAL = "UPDATE_CREDENTIAL"
    ARCHIVE_CREDENTIAL = "ARCHIVE_CREDENTIAL"
    ASSIGN_CREDENTIAL = "ASSIGN_CREDENTIAL"
    EXEMPT_ASSIGNMENT = "EXEMPT_ASSIGNMENT"
    REMOVE_EXEMPTION = "REMOVE_EXEMPTION"
    EXTEND_DUE_DATE = "EXTEND_DUE_DATE"
    GRANT_EXTENSION = "GRANT_EXTENSION"
    DENY_EXTENSION = "DENY_EXTENSION"
    SUBMIT_TRAINING_RECORD = "SUBMIT_TRAINING_RECORD"
    APPROVE_TRAINING_RECORD = "APPROVE_TRAINING_RECORD"
    DECLINE_TRAINING_RECORD = "DECLINE_TRAINING_RECORD"
    REPORT_COURSE_PROGRESS = "REPORT_COURSE_PROGRESS"
    CERTIFY_ASSIGNMENT = "CERTIFY_ASSIGNMENT"
    REVOKE_ASSIGNMENT = "REVOKE_ASSIGNMENT"
    UNASSIGN_CREDENTIAL = "UNASSIGN_CREDENTIAL"
    REVOKE_TRAINING_RECORD = "REVOKE_TRAINING_RECORD"
    CREATE_WEBHOOK = "CREATE_WEBHOOK"
    DELETE_WEBHOOK = "DELETE_WEBHOOK"
    RESUME_WEBHOOK = "RESUME_WEBHOOK"
    ROTATE_SIGNING_KEY = "ROTATE_SIGNING_KEY"
    REVOKE_SIGNING_KEY = "REVOKE_SIGNING_KEY"
    IMPORT_TRAINING_RECORDS = "IMPORT_TRAINING_RECORDS"


AUDITED_ROLES = frozenset({Role.ADMIN, Role.MANAGER})


def event(
    actor: User | Caller,
    action: Action,
    subject_type: str,
    *,
    now: datetime,
    subject_id: str = "",
    reason: str | None = None,
    changes: tuple[Change, ...] = (),
    related: tuple[str, ...] = (),
) -> Event | None:
    """The event `actor`'s change leaves (None: theirs are not audited). A new subject's id
    is filled in by the store function that inserts it; `related` are the ids of what else it
    concerns (the learner of a cycle, the cycle of a request), whose logs list it too."""
    person = actor.user if isinstance(actor, Caller) else actor
    if person is None or person.role not in AUDITED_ROLES:
        return None
    return Event(
        org_id=person.org_id,
        at=now,
        actor_id=person.id,
        action=action.value,
        subject_type=subject_type,
        subject_id=subject_id,
        reason=reason,
        changes=changes,
        related=related,
    )


def on_cycle(
    actor: User | Caller,
    action: Action,
    cycle: Assignment,
    *,
    now: datetime,
    changes: tuple[Change, ...],
    reason: str | None = None,
) -> Event | None:
    """The event of a decision about a cycle, in its learner's and credential's logs too."""
    return event(
        actor, action, "CredentialAssignment", subject_id=cycle.id, now=now, reason=reason,
        changes=changes, related=(cycle.learner_id, cycle.credential_id),
    )  # fmt: skip


def diff(
    before: Mapping[str, Any], after: Mapping[str, Any], refers_to: Mapping[str, str] | None = None
) -> tuple[Change, ...]:
    """The fields of `after` whose value differs from `before` (a field `before` lacks was
    null), in `after`'s order."""
    refers_to = refers_to or {}
    return tuple(
        Change(name, before.get(name), value, refers_to.get(name))
        for name, value in after.items()
        if before.get(name) != value
    )


def created(
    after: Mapping[str, Any], refers_to: Mapping[str, str] | None = None
) -> tuple[Change, ...]:
    """A new thing's fields, each from nothing."""
    return diff({}, {k: v for k, v in after.items() if v is not None}, refers_to)


async def log_page(
    db: Database,
    viewer: Caller | None,
    *,
    subject_id: str | None,
    actor_id: str | None,
    action: Action | None,
    since: datetime | None,
    until: datetime | None,
    first: int | None,
    after: str | None,
) -> Page[Event]:
    """Administrators: the organization's events, newest first, filtered."""
    admin = require_admin(viewer)
    where = EventFilter(
        admin.org_id,
        subject_id,
        actor_id,
        action.value if action else None,
        since,
        until,
    )
    cursors = Cursors("auditLog", where)
    size, last = cursors.dated_keyset(first, after)
    fetched = await audit.page(db, where, after=last, limit=size + 1)
    return Page.of(
        fetched, size, await audit.count(db, where), lambda e: cursors.encode(e.at, e.id)
    )
