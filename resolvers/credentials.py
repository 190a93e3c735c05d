"""Defining credentials: validation of the whole definition, versioned edits, archiving."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from resolvers import audit, criteria, live_edits
from resolvers.audit import Action
from resolvers.auth import Caller, require_admin
from resolvers.criteria import Group, Node, Operator, RecordType, Requirement, RequirementKind
from resolvers.errors import Code, invalid, not_found
from resolvers.pages import Cursors, Page
from resolvers.periods import Period
from resolvers.reminders import Schedule
from resolvers.text import bounded, required, url
from store import assignments, courses, credentials, labels
from store.audit import Change
from store.courses import CourseKind
from store.credentials import Credential, Version
from store.database import Database
from store.ids import new
from store.labels import Label

MAX_REQUIREMENTS = 200
UNSET: Any = object()


@dataclass
class CriteriaSpec:
    """Criteria as a client sent them, before validation. `path` names it in error messages."""

    path: str
    operator: Operator | None = None
    minimum: int | None = None
    children: list[CriteriaSpec] = field(default_factory=list)
    course_id: str | None = None
    learning_path_id: str | None = None
    label_id: str | None = None
    record_type: RecordType | None = None
    title: str | None = None
    hours: float | None = None  # an HOURS requirement's minimum (with `label_id`, optional)


@dataclass
class CredentialSpec:
    """A full or partial definition; UNSET fields are left as they are by an update."""

    name: str = UNSET
    instructions: str = UNSET
    image_url: str | None = UNSET
    complete_within: Period = UNSET
    valid_for: Period | None = UNSET
    reassign_on_completion: bool = UNSET
    criteria: CriteriaSpec = UNSET
    reminders: Schedule | None = UNSET  # None: the defaults


async def build_criteria(db: Database, org_id: str, spec: CriteriaSpec) -> Node:
    """Validate a criteria tree against the catalogue and give every node a fresh id."""
    specs = _flatten(spec)
    leaves = [s for s in specs if s.operator is None]
    if len(leaves) > MAX_REQUIREMENTS:
        raise invalid(
            Code.CRITERIA_TOO_LARGE,
            f"criteria hold at most {MAX_REQUIREMENTS} requirements",
            spec.path,
        )
    course_ids = [found for s in leaves if (found := s.course_id or s.learning_path_id)]
    label_ids = [s.label_id for s in leaves if s.label_id]
    found_courses = {c.id: c for c in await courses.get_many(db, org_id=org_id, ids=course_ids)}
    found_labels = {lb.id: lb for lb in await labels.get_many(db, org_id=org_id, ids=label_ids)}

    def build(s: CriteriaSpec) -> Node:
        if s.operator is not None:
            return Group(
                id=new(),
                operator=s.operator,
                minimum=s.minimum if s.operator is Operator.AT_LEAST else None,
                children=tuple(build(child) for child in s.children),
            )
        if s.hours is not None:
            return _hours(s, found_labels)
        if s.label_id is not None:
            label = found_labels.get(s.label_id)
            if label is None:
                raise invalid(Code.UNKNOWN_LABEL, "no such label", f"{s.path}.trainingRecord.label")
            title = required(s.title or label.name, field=f"{s.path}.title")
            return Requirement(
                id=new(),
                kind=RequirementKind.TRAINING_RECORD,
                title=title,
                label_id=label.id,
                record_type=s.record_type,
            )
        wanted = CourseKind.COURSE if s.course_id else CourseKind.LEARNING_PATH
        key = "course" if s.course_id else "learningPath"
        course = found_courses.get(s.course_id or s.learning_path_id or "")
        if course is None:
            raise invalid(Code.UNKNOWN_COURSE, f"no such {wanted.value.lower()}", f"{s.path}.{key}")
        if course.kind is not wanted:
            raise invalid(
                Code.WRONG_COURSE_KIND,
                f"{course.title!r} is not a {wanted.value}",
                f"{s.path}.{key}",
            )
        return Requirement(
            id=new(),
            kind=RequirementKind(course.kind.value),
            title=course.title,
            course_id=course.id,
        )

    tree = build(spec)
    _refuse_duplicates(spec, tree)
    return tree


def _refuse_duplicates(spec: CriteriaSpec, node: Node) -> None:
    """The same requirement (or group) twice among siblings would count twice toward an
    AT_LEAST and means nothing elsewhere: it is refused, naming the second."""
    if not isinstance(node, Group):
        return
    seen: set[tuple[Any, ...]] = set()
    for child_spec, child in zip(spec.children, node.children, strict=True):
        key = criteria.canonical(child)
        if key in seen:
            raise invalid(
                Code.CRITERIA_DUPLICATE,
                "this repeats a requirement of the same group; list it once",
                child_spec.path,
            )
        seen.add(key)
        _refuse_duplicates(child_spec, child)


MAX_HOURS = 10_000


def _hours(s: CriteriaSpec, found_labels: dict[str, Label]) -> Requirement:
    assert s.hours is not None
    if not 0 < s.hours <= MAX_HOURS:
        raise invalid(
            Code.OUT_OF_RANGE, f"hours are between 0 and {MAX_HOURS}", f"{s.path}.hours.minimum"
        )
    label = None
    if s.label_id is not None:
        label = found_labels.get(s.label_id)
        if label is None:
            raise invalid(Code.UNKNOWN_LABEL, "no such label", f"{s.path}.hours.label")
    named = f"{s.hours:g} clock hours" + (f" of {label.name}" if label else "")
    return Requirement(
        id=new(),
        kind=RequirementKind.HOURS,
        title=required(s.title or named, field=f"{s.path}.title"),
        label_id=label.id if label else None,
        hours=s.hours,
    )


def _flatten(spec: CriteriaSpec) -> list[CriteriaSpec]:
    """Every node, checking shape (emptiness, minimums) and depth without recursion."""
    found, stack = [], [(spec, 1)]
    while stack:
        node, level = stack.pop()
        found.append(node)
        if node.operator is None:
            continue
        if level > criteria.MAX_DEPTH:
            raise invalid(
                Code.CRITERIA_TOO_DEEP,
                f"criteria nest at most {criteria.MAX_DEPTH} groups deep",
                node.path,
            )
        if not node.children:
            raise invalid(Code.CRITERIA_EMPTY, "a group needs at least one requirement", node.path)
        if node.operator is Operator.AT_LEAST and not (
            node.minimum is not None and 1 <= node.minimum <= len(node.children)
        ):
            raise invalid(
                Code.CRITERIA_MINIMUM_INVALID,
                f"AT_LEAST needs a minimum between 1 and its {len(node.children)} children",
                f"{node.path}.minimum",
            )
        stack.extend((child, level + 1) for child in reversed(node.children))
    return found


async def _definition(db: Database, org_id: str, spec: CredentialSpec) -> dict[str, Any]:
    """Validated fields of `spec` (the ones it sets), keyed by storage name."""
    fields: dict[str, Any] = {}
    if spec.name is not UNSET:
        fields["name"] = required(spec.name, field="name")
    if spec.instructions is not UNSET:
        fields["instructions"] = bounded(
            spec.instructions.strip(), field="instructions", limit=20_000
        )
    if spec.image_url is not UNSET:
        fields["imageUrl"] = url(spec.image_url, field="imageUrl")
    if spec.reassign_on_completion is not UNSET:
        fields["reassignOnCompletion"] = spec.reassign_on_completion
    if spec.criteria is not UNSET:
        fields["criteria"] = await build_criteria(db, org_id, spec.criteria)
    if spec.reminders is not UNSET:
        fields["reminders"] = spec.reminders.to_doc() if spec.reminders else None
    return fields


def _check_renewal(reassign: bool, valid_for: Period | None) -> None:
    if reassign and valid_for is None:
        raise invalid(
            Code.RENEWAL_NEEDS_VALIDITY,
            "a credential that never expires cannot be reassigned on completion",
            "reassignOnCompletion",
        )


def _version(
    number: int, tree: Node, complete_within: Period, valid_for: Period | None, now: datetime
) -> dict[str, Any]:
    return credentials.version_doc(
        number=number,
        criteria=criteria.to_doc(tree),
        node_ids=[node.id for node in criteria.walk(tree)],
        complete_within=complete_within.to_doc(),
        valid_for=valid_for.to_doc() if valid_for else None,
        now=now,
    )


async def create_credential(
    db: Database, viewer: Caller | None, spec: CredentialSpec, *, now: datetime
) -> Credential:
    admin = require_admin(viewer)
    fields = await _definition(db, admin.org_id, spec)
    valid_for = None if spec.valid_for is UNSET else spec.valid_for
    reassign = fields.get("reassignOnCompletion", False)
    _check_renewal(reassign, valid_for)
    version = _version(1, fields["criteria"], spec.complete_within, valid_for, now)
    shown = {k: v for k, v in fields.items() if k != "criteria"}
    made = audit.event(
        admin,
        Action.CREATE_CREDENTIAL,
        "Credential",
        now=now,
        changes=audit.created({**shown, **_shown_version(version)}),
    )
    return await credentials.create(
        db,
        org_id=admin.org_id,
        name=fields["name"],
        instructions=fields.get("instructions", ""),
        image_url=fields.get("imageUrl"),
        reassign_on_completion=reassign,
        reminders=fields.get("reminders"),
        version=version,
        now=now,
        event=made,
    )


def _shown_version(version: dict[str, Any]) -> dict[str, Any]:
    """What a version is, as an audit event shows it."""
    return {
        "version": version["number"],
        "criteria": version["criteria"],
        "completeWithin": version["completeWithin"],
        "validFor": version["validFor"],
    }


@dataclass(frozen=True, slots=True)
class Edit:
    """An edit of a credential, validated and not yet made: its changed fields, and the new
    version its criteria or period changes make (None: none)."""

    current: Credential
    fields: dict[str, Any]
    version: dict[str, Any] | None


async def update_credential(
    db: Database,
    viewer: Caller | None,
    id: str,
    spec: CredentialSpec,
    *,
    now: datetime,
    apply_to_open_cycles: bool = False,
) -> Credential:
    """Edit in place; criteria or period changes make a new version for future assignments —
    and, with `apply_to_open_cycles`, for every cycle not yet completed."""
    admin = require_admin(viewer)
    edit = await planned(db, admin.org_id, id, spec, now=now)
    current, new_version = edit.current, edit.version
    was = credentials.stored(current)
    fields = {name: value for name, value in edit.fields.items() if was[name] != value}
    if not fields and new_version is None:
        return current  # an edit of nothing writes nothing
    changes = audit.diff(was, fields)
    if new_version is not None:
        version = _shown_version(new_version)
        before = _shown_version(
            {
                "number": current.current.number,
                "criteria": current.current.criteria,
                "completeWithin": current.current.complete_within,
                "validFor": current.current.valid_for,
            }
        )
        changes += audit.diff(before, version)
        if apply_to_open_cycles:  # and every open cycle moves to it
            changes += (Change("appliedToOpenCycles", None, True),)
    made = audit.event(
        admin, Action.UPDATE_CREDENTIAL, "Credential", subject_id=id, now=now, changes=changes
    )
    updated = await credentials.update(
        db, current=current, fields=fields, version=new_version, now=now, event=made
    )
    if updated is None:
        raise invalid(
            Code.EDIT_CONFLICT, "the credential changed meanwhile; reload and retry", "id"
        )
    if apply_to_open_cycles and new_version is not None:
        await live_edits.apply(db, updated, now=now)
    return updated


async def preview_update(
    db: Database, viewer: Caller | None, id: str, spec: CredentialSpec, *, now: datetime
) -> live_edits.Preview:
    """What the edit would do to the credential's open cycles, were it applied to them."""
    admin = require_admin(viewer)
    edit = await planned(db, admin.org_id, id, spec, now=now)
    return await live_edits.preview(db, edit.current, edit.version, now=now)


async def planned(
    db: Database, org_id: str, id: str, spec: CredentialSpec, *, now: datetime
) -> Edit:
    """The edit `spec` makes of the credential, validated, nothing written."""
    current = await credentials.get(db, org_id=org_id, id=id)
    if current is None:
        raise not_found("the credential", field="id")
    if current.archived_at is not None:
        raise invalid(Code.CREDENTIAL_ARCHIVED, "an archived credential cannot be edited", "id")
    fields = await _definition(db, org_id, spec)
    tree = fields.pop("criteria", None)
    version = current.current
    complete_within = (
        Period.from_doc(version.complete_within)
        if spec.complete_within is UNSET
        else spec.complete_within
    )
    valid_for = Period.from_doc(version.valid_for) if spec.valid_for is UNSET else spec.valid_for
    _check_renewal(fields.get("reassignOnCompletion", current.reassign_on_completion), valid_for)
    new_version = None
    if tree is not None or spec.complete_within is not UNSET or spec.valid_for is not UNSET:
        assert complete_within is not None
        new_version = _version(
            version.number + 1,
            tree or criteria.from_doc(version.criteria),
            complete_within,
            valid_for,
            now,
        )
        if _same(new_version, version):
            new_version = None  # the criteria and periods as they are: no new version
    return Edit(current, fields, new_version)


def _same(new: dict[str, Any], version: Version) -> bool:
    """Whether a new version would say what `version` says (its criteria's ids aside, which
    every build makes afresh)."""
    return (
        _idless(new["criteria"]) == _idless(version.criteria)
        and new["completeWithin"] == version.complete_within
        and new["validFor"] == version.valid_for
    )


def _idless(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _idless(v) for k, v in value.items() if k != "id"}
    if isinstance(value, list):
        return [_idless(v) for v in value]
    return value


async def archive_credential(
    db: Database, viewer: Caller | None, id: str, *, now: datetime
) -> Credential:
    """Hide it from new assignments; existing assignments keep running."""
    admin = require_admin(viewer)
    changes = (Change("archivedAt", None, now),)
    made = audit.event(
        admin, Action.ARCHIVE_CREDENTIAL, "Credential", subject_id=id, now=now, changes=changes
    )
    archived = await credentials.archive(db, org_id=admin.org_id, id=id, now=now, event=made)
    if archived is None:
        raise not_found("the credential", field="id")
    return archived


async def credential_page(
    db: Database, viewer: Caller, *, include_archived: bool, first: int | None, after: str | None
) -> Page[Credential]:
    """Administrators and managers page through all; a learner sees those assigned to them."""
    everything = viewer.sees_all_credentials
    cursors = Cursors("credentials", everything, include_archived)
    size, last = cursors.keyset(first, after)
    if everything:
        fetched = await credentials.list_page(
            db, org_id=viewer.org_id, include_archived=include_archived, after=last, limit=size + 1
        )
        total = await credentials.count(db, org_id=viewer.org_id, include_archived=include_archived)
    else:
        ids = await assignments.credential_ids_for_learner(
            db, org_id=viewer.org_id, learner_id=viewer.id
        )
        mine = sorted(
            await credentials.get_many(db, org_id=viewer.org_id, ids=ids), key=lambda c: c.id
        )
        mine = [c for c in mine if include_archived or c.archived_at is None]
        total = len(mine)
        fetched = [c for c in mine if last is None or c.id > last][: size + 1]
    return Page.of(fetched, size, total, lambda c: cursors.encode(c.id))


async def find_criteria_node(db: Database, viewer: Caller, node_id: str) -> criteria.Node | None:
    """A requirement or group of any version of a credential the viewer may see."""
    found = await credentials.containing_node(db, org_id=viewer.org_id, node_id=node_id)
    if found is None or await visible_credential(db, viewer, found) is None:
        return None
    for version in reversed(found.versions):
        for node in criteria.walk(criteria.from_doc(version.criteria)):
            if node.id == node_id:
                return node
    return None


async def visible_credential(
    db: Database, viewer: Caller, credential: Credential | None
) -> Credential | None:
    """Administrators and managers see every credential; a learner, those assigned to them."""
    if credential is None or viewer.sees_all_credentials:
        return credential
    mine = await assignments.credential_ids_for_learner(
        db, org_id=viewer.org_id, learner_id=viewer.id
    )
    return credential if credential.id in mine else None
