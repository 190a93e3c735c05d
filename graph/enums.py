"""The API's enums are the domain's own, exposed as-is: each is registered here under its
GraphQL name, so a field annotated with `Status` shows as `CredentialStatus` and a resolver
receives and returns the very value the domain uses, with no translation in between. Import
them from here: that is what registers them before a type uses them."""

from __future__ import annotations

from enum import Enum

import strawberry

from resolvers.audit import Action
from resolvers.criteria import Operator, RequirementKind
from resolvers.errors import Code
from resolvers.listing import SortField
from resolvers.periods import PeriodUnit
from resolvers.status import Status
from resolvers.tasks import TaskAction, TaskState
from store.api_tokens import Scope
from store.courses import CourseKind
from store.enrollments import EnrollmentStatus
from store.extension_requests import RequestStatus
from store.feed import FeedKind
from store.imports import ImportStatus, Outcome
from store.notifications import NotificationKind
from store.records import LessonStatus, RecordStatus, RecordType
from store.users import Role

__all__ = [
    "Action",
    "Code",
    "CourseKind",
    "EnrollmentStatus",
    "FeedKind",
    "ImportStatus",
    "LessonStatus",
    "NotificationKind",
    "Operator",
    "Outcome",
    "PeriodUnit",
    "RecordStatus",
    "RecordType",
    "RequestStatus",
    "RequirementKind",
    "Role",
    "Scope",
    "SortField",
    "Status",
    "TaskAction",
    "TaskState",
]

EXPOSED: list[tuple[type[Enum], str | None, str | None]] = [
    (Action, "AuditAction", "What an audited change did: the mutation that made it."),
    (Code, "ErrorCode", "Stable codes for every failure."),
    (CourseKind, None, "A course or a learning path."),
    (EnrollmentStatus, None, None),
    (
        FeedKind,
        "EventKind",
        "What happened: OVERDUE and EXPIRED come with time, told once per cycle and moment.",
    ),
    (
        ImportStatus,
        None,
        "RUNNING while rows are read; DONE at the end of the file; FAILED when "
        "the file could not be read on (its error says why; rows applied before stay).",
    ),
    (
        Outcome,
        "ImportRowOutcome",
        "APPLIED: the row became a record; DUPLICATE: a record "
        "already says what it says (nothing applied twice); ERROR: the row was refused.",
    ),
    (LessonStatus, None, "Only an empty, PASSED, COMPLETED or NOT_APPLICABLE status counts."),
    (NotificationKind, None, None),
    (Operator, "CriteriaOperator", None),
    (PeriodUnit, None, "Calendar unit of a period."),
    (RecordStatus, "TrainingRecordStatus", None),
    (RecordType, "TrainingRecordType", None),
    (RequestStatus, "ExtensionRequestStatus", None),
    (RequirementKind, None, None),
    (
        Role,
        None,
        "What a user may do in their organization: a MANAGER is a learner who also sees and "
        "acts for the members of the groups they manage.",
    ),
    (
        Scope,
        "ApiTokenScope",
        "What an API token may do: READ runs every organization-wide query (no mutation); "
        "COURSE_PLAYER reports course progress for any learner; RECORDS_WRITE submits "
        "training records on learners' behalf.",
    ),
    (SortField, "AssignmentOrderField", None),
    (Status, "CredentialStatus", None),
    (TaskAction, None, "What the task's button does."),
    (TaskState, None, None),
]
for enum, name, description in EXPOSED:
    strawberry.enum(enum, name=name, description=description)
