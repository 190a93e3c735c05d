"""Training records: submission (with a document), review, and who may see what.

A learner's submission waits for review and tells whoever reviews it: the learner's managers,
and the administrators when the learner has none (or the organization wants them told always).
A reviewer's submission for a learner is approved at once; an integration's (`RECORDS_WRITE`)
waits for review like a learner's. Approval re-evaluates the learner's credentials.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from resolvers import audit, criteria, documents
from resolvers.assignments import settle, startable
from resolvers.audit import Action
from resolvers.auth import Caller, require_reviewer, require_viewer
from resolvers.clock import within_range
from resolvers.documents import IncomingFile
from resolvers.errors import Code, forbidden, invalid, not_found, role_required
from resolvers.pages import Cursors, Page
from resolvers.text import bounded, required
from store import courses, groups, labels, notifications, organizations, records, users
from store import documents as document_store
from store.api_tokens import Scope
from store.assignments import Assignment
from store.audit import Change
from store.database import Database
from store.errors import Conflict
from store.notifications import NotificationKind, SubjectType
from store.records import LessonStatus, Record, RecordStatus, RecordType
from store.users import Role, User

MAX_NOTE = 2_000


@dataclass
class Submission:
    type: RecordType
    learner_id: str | None = None
    assignment_id: str | None = None
    requirement_id: str | None = None
    title: str | None = None
    label_id: str | None = None
    provider: str | None = None
    clock_hours: float | None = None
    description: str | None = None
    lesson_status: LessonStatus | None = None
    completed_at: datetime | None = None
    issue_date: date | None = None
    end_date: date | None = None
    idempotency_key: str | None = None
    resubmits_id: str | None = None


async def submit(
    db: Database,
    viewer: Caller | None,
    submission: Submission,
    file: IncomingFile | None,
    *,
    max_document: int,
    now: datetime,
) -> Record:
    """Validate everything, store the document, then the record; on any failure, neither."""
    submitter = require_viewer(viewer)
    if submitter.user is None and not submitter.has(Scope.RECORDS_WRITE):
        raise role_required("an API token may do only what its scopes allow")
    org_id = submitter.org_id
    key = submission.idempotency_key
    if key is not None:
        key = bounded(key, field="idempotencyKey", limit=200)
        earlier = await _earlier(db, submitter, submission, key, has_file=file is not None)
        if earlier is not None:
            return earlier
    doc = await _validated(db, submitter, submission, has_file=file is not None, now=now)
    if file is not None:
        stored = await documents.store(db, org_id=org_id, file=file, limit=max_document)
        doc["document"] = {
            "fileId": stored.file_id,
            "filename": stored.filename,
            "contentType": stored.content_type,
            "size": stored.size,
            "sha256": stored.sha256,
        }
    if key is not None:
        digest = _digest(submission, doc["learnerId"], has_file=file is not None)
        doc |= {"idempotencyKey": key, "requestDigest": digest}
    made = None
    approved = doc["status"] == RecordStatus.APPROVED.value  # as submitted: a decision
    if doc["learnerId"] != submitter.id or approved:
        shown = {
            "learner": doc["learnerId"],
            "type": doc.get("type"),
            "title": doc.get("title"),
            "status": doc.get("status"),
        }
        made = audit.event(
            submitter,
            Action.SUBMIT_TRAINING_RECORD,
            "TrainingRecord",
            now=now,
            changes=audit.created(shown, {"learner": "User"}),
            related=(doc["learnerId"],),
        )
    try:
        record = await records.insert(db, doc=doc, event=made)
    except BaseException as error:
        if file is not None:
            await document_store.delete(db, file_id=doc["document"]["fileId"])
        if isinstance(error, Conflict) and key is not None:
            earlier = await _earlier(db, submitter, submission, key, has_file=file is not None)
            if earlier is not None:
                return earlier
        raise
    if record.status is RecordStatus.PENDING:
        await settle(db, org_id=org_id, learner_ids=[record.learner_id], now=now)
        await notifications.notify(
            db,
            org_id=org_id,
            user_ids=await reviewers(db, org_id, record.learner_id, submitter.id),
            kind=NotificationKind.RECORD_SUBMITTED,
            subject_type=SubjectType.TRAINING_RECORD,
            subject_id=record.id,
            now=now,
        )
    else:
        await decided(db, record, now)
    return record


async def reviewers(db: Database, org_id: str, learner_id: str, submitter_id: str) -> list[str]:
    """Who is told of a submission: the learner's active managers (not the submitter), and the
    administrators when there is none or the organization asks (`alwaysNotifyAdministrators`)."""
    named = {m for g in await groups.of_member(db, org_id=org_id, member_id=learner_id)
             for m in g.manager_ids} - {submitter_id}  # fmt: skip
    managers = [
        u.id
        for u in await users.get_many(db, org_id=org_id, ids=sorted(named))
        if u.role is Role.MANAGER and u.disabled_at is None
    ]
    if managers:
        org = await organizations.get(db, id=org_id)
        if org is None or not org.always_notify_administrators:
            return managers
    return managers + await users.admin_ids(db, org_id=org_id)


def _digest(submission: Submission, learner_id: str, *, has_file: bool) -> str:
    """What a retry must repeat for its key to mean the same submission (the file's bytes
    aside: a retried upload carries the same document)."""
    fields = {
        **dataclasses.asdict(submission),
        "learner_id": learner_id,
        "idempotency_key": None,
        "document": has_file,
    }
    return hashlib.sha256(repr(sorted(fields.items())).encode()).hexdigest()


async def _earlier(
    db: Database, submitter: Caller, submission: Submission, key: str, *, has_file: bool
) -> Record | None:
    """The record a key already made for this caller and learner, if the request is the same;
    the same key with another request is refused, never answered with another's record."""
    learner_id = submission.learner_id or submitter.id
    earlier = await records.by_idempotency_key(
        db, org_id=submitter.org_id, submitted_by=submitter.id, learner_id=learner_id, key=key
    )
    if earlier is None:
        return None
    if earlier.request_digest != _digest(submission, learner_id, has_file=has_file):
        raise invalid(
            Code.IDEMPOTENCY_KEY_REUSED,
            "this idempotency key was used for another submission; use a new key",
            "idempotencyKey",
        )
    return earlier


async def _validated(
    db: Database, submitter: Caller, s: Submission, *, has_file: bool, now: datetime
) -> dict[str, Any]:
    """The record's fields, or the first problem as a `DomainError` naming its field."""
    org_id = submitter.org_id
    learner = await _learner(db, submitter, s.learner_id)
    assignment, leaf = await _requirement(db, learner, s, now)
    title = s.title if s.title is not None else (leaf.title if leaf else "")
    expected_label = await _default_label(db, org_id, leaf) if leaf else None
    label_id = s.label_id or expected_label
    if s.label_id and await labels.get(db, org_id=org_id, id=s.label_id) is None:
        raise invalid(Code.UNKNOWN_LABEL, "no such label", "label")
    if leaf is not None:
        _check_match(s, leaf, expected_label)
    if s.clock_hours is not None and not 0 <= s.clock_hours <= 10_000:
        raise invalid(Code.OUT_OF_RANGE, "clockHours is between 0 and 10000", "clockHours")
    for day, name in ((s.issue_date, "issueDate"), (s.end_date, "endDate")):
        if day is not None:
            within_range(day, field=name)
    if s.completed_at is not None and s.completed_at > now:
        raise invalid(Code.FUTURE_DATE, "completedAt cannot be in the future", "completedAt")
    if s.issue_date is not None and s.issue_date > now.date():
        raise invalid(Code.FUTURE_DATE, "issueDate cannot be in the future", "issueDate")
    if s.end_date is not None and s.issue_date is not None and s.end_date < s.issue_date:
        raise invalid(Code.END_BEFORE_ISSUE, "endDate cannot be before issueDate", "endDate")
    if s.type is RecordType.CREDENTIAL_DOCUMENT:
        if s.completed_at is not None:
            raise invalid(
                Code.FIELD_NOT_ALLOWED,
                "a credential document is dated by its issueDate; completedAt is for "
                "additional training",
                "completedAt",
            )
        if s.issue_date is None:
            raise invalid(Code.REQUIRED, "a credential document needs an issueDate", "issueDate")
        if not has_file:
            raise invalid(Code.REQUIRED, "a credential document needs a document", "document")
    elif s.completed_at is None:
        raise invalid(Code.REQUIRED, "additional training needs completedAt", "completedAt")
    previous = await _resubmitted(db, learner, s.resubmits_id)
    by_admin = submitter.decides_for(learner.id)  # needs no review of theirs
    return {
        "orgId": org_id,
        "learnerId": learner.id,
        "type": s.type.value,
        "title": required(title, field="title"),
        "labelId": label_id,
        "provider": _optional(s.provider, "provider", 200),
        "clockHours": s.clock_hours,
        "description": _optional(s.description, "description", 5_000),
        "lessonStatus": s.lesson_status.value if s.lesson_status else None,
        "completedAt": s.completed_at,
        "issueDate": s.issue_date,
        "endDate": s.end_date,
        "document": None,
        "status": (RecordStatus.APPROVED if by_admin else RecordStatus.PENDING).value,
        "submittedBy": submitter.id,
        "submittedAt": now,
        "reviewedBy": submitter.id if by_admin else None,
        "reviewedAt": now if by_admin else None,
        "reviewNote": None,
        "assignmentId": s.assignment_id,
        "credentialId": assignment.credential_id if assignment else None,
        "requirementId": leaf.id if leaf else None,
        "previousId": previous.id if previous else None,
        "learnerNotified": False if by_admin else None,
    }


def _optional(value: str | None, field: str, limit: int) -> str | None:
    if value is None or not value.strip():
        return None
    return bounded(value.strip(), field=field, limit=limit)


async def _learner(db: Database, submitter: Caller, learner_id: str | None) -> User:
    if submitter.user is not None and learner_id in (None, submitter.id):
        return submitter.user
    if learner_id is None:
        raise invalid(Code.REQUIRED, "an API token names the learner", "learner")
    if not (submitter.manages(learner_id) or submitter.has(Scope.RECORDS_WRITE)):
        raise forbidden("a learner may only submit their own training")
    learner = await users.get(db, org_id=submitter.org_id, id=learner_id)
    if learner is None:
        raise invalid(Code.UNKNOWN_LEARNER, "no such learner", "learner")
    return learner


async def _requirement(
    db: Database, learner: User, s: Submission, now: datetime
) -> tuple[Assignment | None, criteria.Requirement | None]:
    """The assignment and task the record is for, checked against each other."""
    if s.assignment_id is None:
        if s.requirement_id is not None:
            raise invalid(Code.REQUIRED, "a requirement is given with its assignment", "assignment")
        return None, None
    assignment, policy = await startable(db, learner, s.assignment_id, now)
    if s.requirement_id is None:
        return assignment, None
    leaf = next((r for r in criteria.requirements(policy.tree) if r.id == s.requirement_id), None)
    if leaf is None:
        raise invalid(Code.NOT_IN_CREDENTIAL, "not a requirement of this credential", "requirement")
    return assignment, leaf


def _check_match(s: Submission, leaf: criteria.Requirement, label_id: str | None) -> None:
    """A record submitted for a task must be the kind of evidence the task asks for."""
    if leaf.kind is criteria.RequirementKind.TRAINING_RECORD:
        wanted = leaf.record_type
    else:
        wanted = RecordType.ADDITIONAL_TRAINING  # a course done elsewhere
    if wanted is not None and s.type is not wanted:
        raise invalid(Code.RECORD_MISMATCH, f"this task asks for {wanted.value.lower()}", "type")
    if s.label_id is not None and s.label_id != label_id:
        raise invalid(Code.RECORD_MISMATCH, "this task asks for another label", "label")


async def _default_label(db: Database, org_id: str, leaf: criteria.Requirement) -> str | None:
    if leaf.label_id is not None:
        return leaf.label_id
    if leaf.course_id is None:
        return None
    course = await courses.get(db, org_id=org_id, id=leaf.course_id)
    return course.label_id if course else None


async def _resubmitted(db: Database, learner: User, record_id: str | None) -> Record | None:
    if record_id is None:
        return None
    previous = await records.get(db, org_id=learner.org_id, id=record_id)
    if previous is None or previous.learner_id != learner.id:
        raise not_found("the record", field="resubmits")
    if previous.status is not RecordStatus.DECLINED:
        raise invalid(Code.NOT_DECLINED, "only a declined record can be resubmitted", "resubmits")
    return previous


async def review(
    db: Database,
    viewer: Caller | None,
    record_id: str,
    *,
    approve: bool,
    note: str | None,
    now: datetime,
) -> Record:
    """Approve or decline a PENDING record; a second decision gets `ALREADY_REVIEWED`.
    Managers decide for the members of their groups (not for themselves); to them anyone
    else's record does not exist."""
    caller = require_viewer(viewer)
    admin = require_reviewer(caller)
    found = await records.get(db, org_id=admin.org_id, id=record_id)
    if found is None or not caller.decides_for(found.learner_id):
        raise not_found("the record", field="record")
    if approve:
        note = _optional(note, "note", MAX_NOTE)
    else:
        note = bounded(
            required(note or "", field="reason", limit=MAX_NOTE), field="reason", limit=MAX_NOTE
        )
    status = RecordStatus.APPROVED if approve else RecordStatus.DECLINED
    made = audit.event(
        admin,
        Action.APPROVE_TRAINING_RECORD if approve else Action.DECLINE_TRAINING_RECORD,
        "TrainingRecord",
        subject_id=record_id,
        now=now,
        reason=note,
        changes=(Change("status", RecordStatus.PENDING.value, status.value),),
        related=(found.learner_id,),
    )
    reviewed = await records.review(
        db,
        record=found,
        status=status,
        reviewer_id=admin.id,
        note=note,
        now=now,
        event=made,
    )
    if reviewed is None:
        raise invalid(Code.ALREADY_REVIEWED, "this record has already been reviewed", "record")
    await decided(db, reviewed, now)
    return reviewed


async def decided(db: Database, record: Record, now: datetime) -> None:
    """Derive the learner's cycles anew (an approval may complete or extend them, a revocation
    withdraw what rested on it, any record is activity), then tell the learner.

    The decision is stored first; what follows from it is repaired after a crash: the
    learner is told by `redeliver`, the cycles derived by `assignments.reconcile`.
    """
    await settle(db, org_id=record.org_id, learner_ids=[record.learner_id], now=now)
    await _tell_learner(db, record, now)


TOLD = {
    RecordStatus.APPROVED: NotificationKind.RECORD_APPROVED,
    RecordStatus.DECLINED: NotificationKind.RECORD_DECLINED,
    RecordStatus.REVOKED: NotificationKind.RECORD_REVOKED,
}


async def _tell_learner(db: Database, record: Record, now: datetime) -> None:
    await notifications.notify(
        db,
        org_id=record.org_id,
        user_ids=[record.learner_id],
        kind=TOLD[record.status],
        subject_type=SubjectType.TRAINING_RECORD,
        subject_id=record.id,
        now=now,
    )
    await records.mark_notified(db, org_id=record.org_id, id=record.id)


async def redeliver(db: Database, *, now: datetime) -> int:
    """Tell learners of decisions a crash kept from them (at least once); how many."""
    pending = await records.unnotified(db)
    for record in pending:
        await _tell_learner(db, record, now)  # each notification advances the data version
    return len(pending)


async def record_page(
    db: Database,
    viewer: Caller,
    *,
    learner: User | None,
    status: RecordStatus | None,
    type: RecordType | None,
    first: int | None,
    after: str | None,
) -> Page[Record]:
    """Administrators (and `READ`): the organization's records; managers: their members';
    learners: their own. Oldest first."""
    if learner is not None and not viewer.sees(learner.id):
        raise forbidden("a learner may only see their own records")
    learner_ids: list[str] | None = None
    if learner is not None:
        learner_ids = [learner.id]
    elif not viewer.reads_organization:
        learner_ids = sorted(viewer.members | {viewer.id}) if viewer.is_manager else [viewer.id]
    cursors = Cursors("records", learner_ids, status, type)
    size, key = cursors.dated_keyset(first, after)
    fetched = await records.page(
        db, org_id=viewer.org_id, learner_ids=learner_ids, status=status, type=type, after=key,
        limit=size + 1,
    )  # fmt: skip
    total = await records.count(
        db, org_id=viewer.org_id, learner_ids=learner_ids, status=status, type=type
    )
    return Page.of(fetched, size, total, lambda r: cursors.encode(r.submitted_at, r.id))
