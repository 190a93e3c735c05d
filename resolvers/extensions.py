"""Extensions of a due date: granted by an administrator or the learner's manager, directly
(`extend_due_date`) or on the learner's request (`request_extension`, then `grant_extension`
or `deny_extension`).

An extension moves the cycle's due date later and is kept in its history (`extensions`: from
which date, to which, by whom, why), so the original due date is never lost; a renewal's
schedule, derived again from the cycle it renews, never falls back before it
(`resolvers.cycles.scheduled`). A grant is decided first, then applied to its cycle; a crash
between is finished at the next start (`reapply`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime

from resolvers import audit
from resolvers.assignments import decided_cycle, revised
from resolvers.audit import Action
from resolvers.auth import Caller, require_person, require_reviewer, require_viewer
from resolvers.clock import as_utc
from resolvers.errors import Code, DomainError, invalid, not_found
from resolvers.pages import Cursors, Page
from resolvers.records import reviewers
from resolvers.text import required
from store import assignments, extension_requests, notifications
from store.assignments import Assignment, Extension, Revision
from store.audit import Change
from store.database import Database
from store.errors import Conflict
from store.extension_requests import ExtensionRequest, RequestStatus
from store.notifications import NotificationKind, SubjectType
from store.users import User

MAX_REASON = 2_000


async def extend_due_date(
    db: Database,
    viewer: Caller | None,
    assignment_id: str,
    *,
    due_date: datetime,
    reason: str,
    now: datetime,
) -> Assignment:
    reviewer = require_reviewer(viewer)
    reason = required(reason, field="reason", limit=MAX_REASON)
    due = as_utc(due_date, field="dueDate")
    cycle = await decided_cycle(db, require_viewer(viewer), assignment_id)
    extended = await _extended(db, cycle, to=due, by=reviewer, reason=reason, now=now)
    await _tell(db, extended, [extended.learner_id], NotificationKind.EXTENSION_GRANTED, now)
    return extended


async def request_extension(
    db: Database,
    viewer: Caller | None,
    assignment_id: str,
    *,
    due_date: datetime,
    reason: str,
    now: datetime,
) -> ExtensionRequest:
    """A learner asks for a later due date for their own open cycle; one request waits at a
    time. Their managers are told (the administrators when they have none)."""
    learner = require_person(viewer)
    reason = required(reason, field="reason", limit=MAX_REASON)
    due = as_utc(due_date, field="dueDate")
    cycle = await assignments.get(db, org_id=learner.org_id, id=assignment_id)
    if cycle is None or cycle.learner_id != learner.id:
        raise not_found("the assignment", field="assignment")
    _check(cycle, due)
    try:
        made = await extension_requests.create(
            db,
            org_id=cycle.org_id,
            assignment_id=cycle.id,
            learner_id=learner.id,
            requested_by=learner.id,
            requested_due_date=due,
            reason=reason,
            now=now,
        )
    except Conflict as error:
        raise invalid(
            Code.EXTENSION_PENDING, "a request for this cycle is waiting already", "assignment"
        ) from error
    told = await reviewers(db, cycle.org_id, learner.id, learner.id)
    await _tell(db, cycle, told, NotificationKind.EXTENSION_REQUESTED, now)
    return made


async def grant_extension(
    db: Database, viewer: Caller | None, request_id: str, *, note: str | None, now: datetime
) -> ExtensionRequest:
    """Grant a waiting request: refused while it could change nothing (the cycle completed,
    or due later already), so a grant always moves the due date it names."""

    async def still_grantable(request: ExtensionRequest) -> tuple[Change, ...]:
        """Refused while it could change nothing; else the move of the due date it makes."""
        cycle = await assignments.get(db, org_id=request.org_id, id=request.assignment_id)
        if cycle is None:
            raise not_found("the request", field="request")
        try:
            _check(cycle, request.requested_due_date)
        except DomainError as error:
            raise invalid(error.code, error.message, "request") from error
        return (Change("dueDate", cycle.due_date, request.requested_due_date),)

    decided = await _decide(
        db, viewer, request_id, RequestStatus.GRANTED, note, now, before=still_grantable
    )
    await _apply(db, decided, now)
    return decided


async def deny_extension(
    db: Database, viewer: Caller | None, request_id: str, *, note: str | None, now: datetime
) -> ExtensionRequest:
    note = required(note or "", field="note", limit=MAX_REASON)
    decided = await _decide(db, viewer, request_id, RequestStatus.DENIED, note, now)
    cycle = await assignments.get(db, org_id=decided.org_id, id=decided.assignment_id)
    if cycle is not None:
        await _tell(db, cycle, [decided.learner_id], NotificationKind.EXTENSION_DENIED, now)
    return decided


async def reapply(db: Database, *, now: datetime) -> int:
    """Apply the grants a crash kept from their cycles (start-up repair); how many."""
    waiting = await extension_requests.unapplied(db)
    for request in waiting:
        await _apply(db, request, now)
    return len(waiting)


async def visible_request(db: Database, viewer: Caller, id: str) -> ExtensionRequest | None:
    found = await extension_requests.get(db, org_id=viewer.org_id, id=id)
    return found if found is not None and viewer.sees(found.learner_id) else None


async def requests_of(db: Database, viewer: Caller, cycle: Assignment) -> list[ExtensionRequest]:
    """A cycle's requests, for whoever sees the cycle."""
    if not viewer.sees(cycle.learner_id):
        return []
    return await extension_requests.for_assignments(
        db, org_id=cycle.org_id, assignment_ids=[cycle.id]
    )


async def requests_page(
    db: Database, viewer: Caller, *, first: int | None, after: str | None
) -> Page[ExtensionRequest]:
    """The waiting requests, oldest first: every one for administrators and `READ`, a
    manager's members' (and their own), a learner's own."""
    caller = require_viewer(viewer)
    learners = None if caller.reads_organization else sorted(caller.members | {caller.id})
    cursors = Cursors("extensionRequests", learners)
    size, last = cursors.keyset(first, after)
    found = await extension_requests.waiting(
        db, org_id=caller.org_id, learner_ids=learners, after=last, limit=size + 1
    )
    total = await extension_requests.count_waiting(db, org_id=caller.org_id, learner_ids=learners)
    return Page.of(found, size, total, lambda r: cursors.encode(r.id))


async def _decide(
    db: Database,
    viewer: Caller | None,
    request_id: str,
    status: RequestStatus,
    note: str | None,
    now: datetime,
    before: Callable[[ExtensionRequest], Awaitable[tuple[Change, ...]]] | None = None,
) -> ExtensionRequest:
    reviewer = require_reviewer(viewer)
    caller = require_viewer(viewer)
    note = required(note, field="note", limit=MAX_REASON) if note and note.strip() else None
    found = await extension_requests.get(db, org_id=caller.org_id, id=request_id)
    if found is None or not caller.decides_for(found.learner_id):
        raise not_found("the request", field="request")
    if found.status is not RequestStatus.PENDING:
        raise invalid(Code.ALREADY_REVIEWED, "this request has been decided already", "request")
    also = await before(found) if before is not None else ()
    action = Action.GRANT_EXTENSION if status is RequestStatus.GRANTED else Action.DENY_EXTENSION
    made = audit.event(
        reviewer, action, "ExtensionRequest", subject_id=found.id, now=now, reason=note,
        changes=(Change("status", found.status.value, status.value), *also),
        related=(found.assignment_id, found.learner_id),
    )  # fmt: skip
    decided = await extension_requests.decide(
        db, org_id=caller.org_id, id=request_id, status=status, reviewer_id=reviewer.id,
        note=note, now=now, event=made,
    )  # fmt: skip
    if decided is None:
        raise invalid(Code.ALREADY_REVIEWED, "this request has been decided already", "request")
    return decided


async def _apply(db: Database, request: ExtensionRequest, now: datetime) -> None:
    """Extend the granted request's cycle (unless it no longer can: completed, or due later
    already), mark the grant applied, then tell the learner."""
    cycle = await assignments.get(db, org_id=request.org_id, id=request.assignment_id)
    assert request.reviewed_by is not None, "a granted request was reviewed"
    if cycle is not None:
        with contextlib.suppress(DomainError):  # completed meanwhile, or due later already
            cycle = await _extended(
                db, cycle, to=request.requested_due_date, by=request.reviewed_by,
                reason=request.review_note or request.reason, request_id=request.id, now=now,
            )  # fmt: skip
    await extension_requests.applied(db, org_id=request.org_id, id=request.id)
    if cycle is not None:
        await _tell(db, cycle, [request.learner_id], NotificationKind.EXTENSION_GRANTED, now)


def _check(cycle: Assignment, due: datetime) -> None:
    if cycle.completed_at is not None:
        raise invalid(Code.ALREADY_COMPLETED, "a completed cycle is due no more", "assignment")
    if due <= cycle.due_date:
        raise invalid(Code.OUT_OF_RANGE, "an extension moves the due date later", "dueDate")


async def _extended(
    db: Database,
    cycle: Assignment,
    *,
    to: datetime,
    by: str | User,
    reason: str,
    now: datetime,
    request_id: str | None = None,
) -> Assignment:
    """The cycle due `to` instead, the move kept in its history; audited when made by a
    person now (`by` a user), not when a grant decided earlier is applied."""
    by_id = by if isinstance(by, str) else by.id

    def extend(current: Assignment) -> Revision:
        _check(current, to)
        made = None
        if not isinstance(by, str):
            made = audit.on_cycle(
                by,
                Action.EXTEND_DUE_DATE,
                current,
                now=now,
                reason=reason,
                changes=(Change("dueDate", current.due_date, to),),
            )
        extension = Extension(now, by_id, current.due_date, to, reason, request_id)
        return Revision(extension=extension, event=made)

    return await revised(db, cycle, extend)


async def _tell(
    db: Database, cycle: Assignment, user_ids: list[str], kind: NotificationKind, now: datetime
) -> None:
    await notifications.notify(
        db,
        org_id=cycle.org_id,
        user_ids=user_ids,
        kind=kind,
        subject_type=SubjectType.CREDENTIAL_ASSIGNMENT,
        subject_id=cycle.id,
        now=now,
    )
