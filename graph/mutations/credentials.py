"""Defining credentials and their criteria (`resolvers.credentials`)."""

from __future__ import annotations

from typing import TypeGuard, TypeVar

import strawberry

from graph import ids
from graph.context import Info
from graph.enums import Operator, RecordType
from graph.errors import UserError, attempt
from graph.types.credential import Credential
from graph.types.time import PeriodInput
from resolvers import credentials, reminders
from resolvers.credentials import CredentialSpec, CriteriaSpec
from resolvers.criteria import MAX_DEPTH
from resolvers.errors import Code, invalid
from resolvers.reminders import Schedule
from store.credentials import Credential as StoredCredential

T = TypeVar("T")


@strawberry.input(description="A training record requirement: a record with this label.")
class TrainingRecordRequirementInput:
    label: strawberry.ID
    record_type: RecordType | None = None
    title: str | None = strawberry.field(default=None, description="Defaults to the label's name.")


@strawberry.input(
    description="Clock hours: met by at least `minimum` hours of completed courses and "
    "approved records (with this label, if given) inside the cycle's evidence window."
)
class HoursRequirementInput:
    minimum: float
    label: strawberry.ID | None = None
    title: str | None = strawberry.field(
        default=None, description='Defaults to "24 clock hours of Ethics".'
    )


@strawberry.input
class AtLeastInput:
    minimum: int
    of: list[CriteriaInput]


@strawberry.input(
    one_of=True,
    description="Exactly one of: a group (`all`, `any`, `atLeast`) or a requirement. "
    '"(Course 1 and Course 2) or Course 3" is '
    "`{any: [{all: [{course: C1}, {course: C2}]}, {course: C3}]}`.",
)
class CriteriaInput:
    all: list[CriteriaInput] | None = strawberry.UNSET
    any: list[CriteriaInput] | None = strawberry.UNSET
    at_least: AtLeastInput | None = strawberry.UNSET
    course: strawberry.ID | None = strawberry.UNSET
    learning_path: strawberry.ID | None = strawberry.UNSET
    training_record: TrainingRecordRequirementInput | None = strawberry.UNSET
    hours: HoursRequirementInput | None = strawberry.UNSET


def _given(value: T | None) -> TypeGuard[T]:
    """Whether an input field was given a value: neither omitted nor null (an empty ID is
    given: it fails as an id)."""
    return value is not None and value is not strawberry.UNSET


def to_spec(node: CriteriaInput, path: str = "criteria", level: int = 0) -> CriteriaSpec:
    """The input as a `CriteriaSpec`, decoding ids; refuses to descend past the depth limit."""
    groups = (
        (Operator.ALL, node.all, None),
        (Operator.ANY, node.any, None),
        (Operator.AT_LEAST, node.at_least.of if node.at_least else None, node.at_least),
    )
    for operator, children, at_least in groups:
        if not _given(children):
            continue
        if level >= MAX_DEPTH:
            raise invalid(
                Code.CRITERIA_TOO_DEEP, f"criteria nest at most {MAX_DEPTH} groups deep", path
            )
        key = {Operator.ALL: "all", Operator.ANY: "any", Operator.AT_LEAST: "atLeast.of"}[operator]
        return CriteriaSpec(
            path=path,
            operator=operator,
            minimum=at_least.minimum if at_least else None,
            children=[
                to_spec(child, f"{path}.{key}[{i}]", level + 1) for i, child in enumerate(children)
            ],
        )
    if _given(node.course):
        return CriteriaSpec(
            path=path, course_id=ids.db_id(node.course, expect="Course", field=f"{path}.course")
        )
    if _given(node.learning_path):
        return CriteriaSpec(
            path=path,
            learning_path_id=ids.db_id(
                node.learning_path, expect="Course", field=f"{path}.learningPath"
            ),
        )
    if _given(node.hours):
        label = node.hours.label
        return CriteriaSpec(
            path=path,
            hours=node.hours.minimum,
            label_id=ids.db_id(label, expect="Label", field=f"{path}.hours.label")
            if label
            else None,
            title=node.hours.title,
        )
    record = node.training_record
    assert record, "oneOf guarantees exactly one field is given"
    return CriteriaSpec(
        path=path,
        label_id=ids.db_id(record.label, expect="Label", field=f"{path}.trainingRecord.label"),
        record_type=record.record_type,
        title=record.title,
    )


@strawberry.input(
    description="When the learner (and their managers) are reminded: offsets before the due "
    "date, and before validUntil once earned; at most 5 each, a year ahead at most. Besides, "
    "once when it becomes overdue and once when it expires."
)
class RemindersInput:
    before_due: list[PeriodInput]
    before_expiry: list[PeriodInput]

    def to_schedule(self) -> Schedule:
        return reminders.validated(
            [p.to_period("reminders.beforeDue") for p in self.before_due],
            [p.to_period("reminders.beforeExpiry") for p in self.before_expiry],
        )


@strawberry.input
class CreateCredentialInput:
    name: str
    complete_within: PeriodInput = strawberry.field(description="Time from the start date.")
    criteria: CriteriaInput
    valid_for: PeriodInput | None = strawberry.field(
        default=None, description="Validity once earned; omit for a credential that never expires."
    )
    instructions: str = ""
    image_url: str | None = None
    reassign_on_completion: bool = strawberry.field(
        default=False, description="Open the next cycle (renewal) when one is completed."
    )
    reminders: RemindersInput | None = strawberry.field(
        default=None,
        description="Default: 30 and 7 days before the due date; 60, 30 and 7 before expiry.",
    )


@strawberry.input(description="Only the fields given change; `validFor: null` removes expiry.")
class UpdateCredentialInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    complete_within: PeriodInput | None = strawberry.UNSET
    criteria: CriteriaInput | None = strawberry.UNSET
    valid_for: PeriodInput | None = strawberry.UNSET
    instructions: str | None = strawberry.UNSET
    image_url: str | None = strawberry.UNSET
    reassign_on_completion: bool | None = strawberry.UNSET
    reminders: RemindersInput | None = strawberry.field(
        default=strawberry.UNSET, description="null: back to the defaults."
    )
    apply_to_open_cycles: bool = strawberry.field(
        default=False,
        description="Criteria or period changes apply to every cycle not yet completed too "
        "(each derived again: one the new criteria are met by completes at once); see "
        "`previewCredentialUpdate` first. Completed cycles keep theirs.",
    )


@strawberry.input
class ArchiveCredentialInput:
    id: strawberry.ID


@strawberry.type
class CreateCredentialPayload:
    credential: Credential | None
    user_errors: list[UserError]


@strawberry.type
class UpdateCredentialPayload:
    credential: Credential | None
    user_errors: list[UserError]


@strawberry.type
class ArchiveCredentialPayload:
    credential: Credential | None
    user_errors: list[UserError]


def spec_of(source: CreateCredentialInput | UpdateCredentialInput) -> CredentialSpec:
    spec = CredentialSpec()
    if _given(source.name):
        spec.name = source.name
    if _given(source.instructions):
        spec.instructions = source.instructions
    if source.image_url is not strawberry.UNSET:
        spec.image_url = source.image_url
    if _given(source.reassign_on_completion):
        spec.reassign_on_completion = source.reassign_on_completion
    if _given(source.complete_within):
        spec.complete_within = source.complete_within.to_period("completeWithin")
    if source.valid_for is not strawberry.UNSET:
        spec.valid_for = source.valid_for.to_period("validFor") if source.valid_for else None
    if _given(source.criteria):
        spec.criteria = to_spec(source.criteria)
    if source.reminders is not strawberry.UNSET:
        spec.reminders = source.reminders.to_schedule() if source.reminders else None
    return spec


def _shown(found: StoredCredential | None) -> Credential | None:
    return Credential.from_record(found) if found else None


def _credential(gid: strawberry.ID) -> str:
    return ids.db_id(gid, expect="Credential", field="id")


@strawberry.type
class CredentialMutations:
    @strawberry.mutation(description="Administrators: define a credential.")
    async def create_credential(
        self, info: Info, input: CreateCredentialInput
    ) -> CreateCredentialPayload:
        ctx = info.context
        found, errors = await attempt(
            lambda: credentials.create_credential(ctx.db, ctx.viewer, spec_of(input), now=ctx.now)
        )
        return CreateCredentialPayload(credential=_shown(found), user_errors=errors)

    @strawberry.mutation(
        description="Administrators: edit a credential. Criteria or period changes apply to new "
        "assignments and renewals; existing cycles keep the version they were assigned with, "
        "unless `applyToOpenCycles`."
    )
    async def update_credential(
        self, info: Info, input: UpdateCredentialInput
    ) -> UpdateCredentialPayload:
        ctx = info.context
        found, errors = await attempt(
            lambda: credentials.update_credential(
                ctx.db,
                ctx.viewer,
                _credential(input.id),
                spec_of(input),
                now=ctx.now,
                apply_to_open_cycles=input.apply_to_open_cycles,
            )
        )
        return UpdateCredentialPayload(credential=_shown(found), user_errors=errors)

    @strawberry.mutation(description="Administrators: retire a credential; its cycles go on.")
    async def archive_credential(
        self, info: Info, input: ArchiveCredentialInput
    ) -> ArchiveCredentialPayload:
        ctx = info.context
        found, errors = await attempt(
            lambda: credentials.archive_credential(
                ctx.db, ctx.viewer, _credential(input.id), now=ctx.now
            )
        )
        return ArchiveCredentialPayload(credential=_shown(found), user_errors=errors)
