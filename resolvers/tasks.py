"""Fulfillment tasks: one per requirement, with its check mark and what its button does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from resolvers.criteria import LeafState, Requirement, RequirementKind
from resolvers.evidence import Evidence, RecordFacts, record_evidence_at, record_proof
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


def task(leaf: Requirement, state: LeafState, evidence: Evidence) -> Task:
    records = sorted(evidence.records_for(leaf), key=lambda r: r.submitted_at, reverse=True)
    course_id = leaf.course_id if leaf.kind is not RequirementKind.TRAINING_RECORD else None
    if state.met:
        completed_at = max(proof.at for proof in state.proofs)
        used = next(
            (
                r
                for r in records
                if record_proof(r, window_start=evidence.window_start, now=evidence.now)
                and record_evidence_at(r) == completed_at
            ),
            None,
        )
        enrollment = evidence.latest_completed(course_id) if course_id and used is None else None
        return Task(leaf, TaskState.COMPLETE, TaskAction.NONE, completed_at, enrollment, used)
    latest = records[0] if records else None
    if latest is not None and latest.status == "PENDING":
        return Task(leaf, TaskState.PENDING_APPROVAL, TaskAction.NONE, record=latest)
    if course_id is None:
        declined = latest is not None and latest.status == "DECLINED"
        return Task(
            leaf,
            TaskState.DECLINED if declined else TaskState.NOT_STARTED,
            TaskAction.SUBMIT_RECORD,
            record=latest if declined else None,
        )
    enrollment = evidence.open_enrollment(course_id)
    if latest is not None and latest.status == "DECLINED" and enrollment is None:
        return Task(leaf, TaskState.DECLINED, TaskAction.GET_COURSE, record=latest)
    if enrollment is None:
        return Task(leaf, TaskState.NOT_STARTED, TaskAction.GET_COURSE)
    started = enrollment.launched_at is not None or state.progress > 0
    return Task(
        leaf,
        TaskState.IN_PROGRESS if started else TaskState.NOT_STARTED,
        TaskAction.LAUNCH,
        enrollment=enrollment,
    )
