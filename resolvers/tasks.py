"""Fulfillment tasks: one per requirement, with its check mark and what its button does."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from resolvers.criteria import LeafState, Requirement, RequirementKind
from resolvers.evidence import Evidence, RecordFacts
from store.enrollments import Enrollment


class TaskState(StrEnum):
    NOT_STARTED = "NOT_STARTED"
    IN_PROGRESS = "IN_PROGRESS"
    PENDING_APPROVAL = "PENDING_APPROVAL"
    DECLINED = "DECLINED"
    COMPLETE = "COMPLETE"


class TaskAction(StrEnum):
    GET_COURSE = "GET_COURSE"
    LAUNCH = "LAUNCH"
    SUBMIT_RECORD = "SUBMIT_RECORD"
    NONE = "NONE"


@dataclass(frozen=True, slots=True)
class Task:
    requirement: Requirement
    state: TaskState
    action: TaskAction
    completed_at: datetime | None = None
    enrollment: Enrollment | None = None
    record: RecordFacts | None = None


def task(leaf: Requirement, state: LeafState, evidence: Evidence, *, available: bool) -> Task:
    """The check mark when met (with the freshest evidence it rests on); otherwise what waits
    for review or was declined, else how far the course is. `record` is the one the task rests
    on, else the latest submitted for it, whatever became of it. Before the cycle's start date
    no button does anything (`NONE`): the learner is never shown one that would refuse."""
    found = _task(leaf, state, evidence)
    return found if available else replace(found, action=TaskAction.NONE)


def _task(leaf: Requirement, state: LeafState, evidence: Evidence) -> Task:
    records = sorted(evidence.records_for(leaf), key=lambda r: r.submitted_at, reverse=True)
    latest = records[0] if records else None
    if state.met:
        completed_at = max(proof.at for proof in state.proofs)
        source = next(s for s in evidence.sources(leaf) if s.proof.at == completed_at)
        return Task(
            leaf,
            TaskState.COMPLETE,
            TaskAction.NONE,
            completed_at,
            source.enrollment,
            source.record,
        )
    if latest is not None and latest.status == "PENDING":
        return Task(leaf, TaskState.PENDING_APPROVAL, TaskAction.NONE, record=latest)
    declined = latest is not None and latest.status == "DECLINED"
    if leaf.kind is RequirementKind.TRAINING_RECORD or leaf.course_id is None:
        return Task(
            leaf,
            TaskState.DECLINED if declined else TaskState.NOT_STARTED,
            TaskAction.SUBMIT_RECORD,
            record=latest,
        )
    enrollment = evidence.open_enrollment(leaf.course_id)
    if enrollment is None:
        under_way = TaskState.IN_PROGRESS if state.progress > 0 else TaskState.NOT_STARTED
        return Task(
            leaf,
            TaskState.DECLINED if declined else under_way,
            TaskAction.GET_COURSE,
            record=latest,
        )
    started = enrollment.launched_at is not None or state.progress > 0
    return Task(
        leaf,
        TaskState.IN_PROGRESS if started else TaskState.NOT_STARTED,
        TaskAction.LAUNCH,
        enrollment=enrollment,
        record=latest,
    )
