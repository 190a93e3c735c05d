"""What a learner has done, turned into each requirement's `LeafState` for one cycle.

Evidence counts toward a cycle only when dated on or after the cycle's window start. A course is
evidenced by a completed enrollment; a learning path by all its courses; any requirement by an
APPROVED record linked to it, and a training-record requirement by an approved record with its
label (and type, when the requirement names one). A record counts only with an acceptable
lesson status and while its end date has not passed; its end date caps the validity.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from resolvers.criteria import LeafState, Proof, RecordType, Requirement, RequirementKind
from store.enrollments import Enrollment, EnrollmentStatus

ACCEPTED_LESSON_STATUSES = {None, "", "PASSED", "COMPLETED", "NOT_APPLICABLE"}


class RecordFacts(Protocol):
    """The parts of a training record that evidence reads."""

    @property
    def id(self) -> str: ...
    @property
    def type(self) -> RecordType: ...
    @property
    def status(self) -> str: ...
    @property
    def label_id(self) -> str | None: ...
    @property
    def requirement_id(self) -> str | None: ...
    @property
    def lesson_status(self) -> str | None: ...
    @property
    def completed_at(self) -> datetime | None: ...
    @property
    def issue_date(self) -> date | None: ...
    @property
    def end_date(self) -> date | None: ...
    @property
    def submitted_at(self) -> datetime: ...


def start_of(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def record_cap(record: RecordFacts) -> datetime | None:
    """A document is valid through its end date (UTC), so it lapses at the next midnight."""
    return start_of(record.end_date) + timedelta(days=1) if record.end_date else None


def record_evidence_at(record: RecordFacts) -> datetime | None:
    if record.completed_at is not None:
        return record.completed_at
    return start_of(record.issue_date) if record.issue_date else None


def concerns(record: RecordFacts, leaf: Requirement) -> bool:
    """Whether the record was submitted for this requirement or matches what it asks for."""
    if record.requirement_id == leaf.id:
        return True
    return (
        leaf.kind is RequirementKind.TRAINING_RECORD
        and record.label_id is not None
        and record.label_id == leaf.label_id
        and (leaf.record_type is None or record.type == leaf.record_type)
    )


def record_proof(
    record: RecordFacts, *, window_start: datetime | None, now: datetime
) -> Proof | None:
    """The proof an approved, acceptable, unexpired, in-window record gives; else None."""
    at = record_evidence_at(record)
    cap = record_cap(record)
    if record.status != "APPROVED" or record.lesson_status not in ACCEPTED_LESSON_STATUSES:
        return None
    if at is None or (window_start is not None and at < window_start):
        return None
    if cap is not None and cap <= now:
        return None
    return Proof(at=at, cap=cap)


class Evidence:
    """One learner's enrollments and records, indexed for evaluating one cycle."""

    def __init__(
        self,
        *,
        enrollments: Iterable[Enrollment],
        records: Iterable[RecordFacts],
        paths: Mapping[str, Sequence[str]],
        window_start: datetime | None,
        now: datetime,
    ) -> None:
        self.by_course: dict[str, list[Enrollment]] = defaultdict(list)
        for enrollment in enrollments:
            self.by_course[enrollment.course_id].append(enrollment)
        self.records = list(records)
        self.paths = paths
        self.window_start = window_start
        self.now = now

    def completions(self, course_id: str) -> list[datetime]:
        return [
            e.completed_at
            for e in self.by_course.get(course_id, ())
            if e.completed_at is not None
            and (self.window_start is None or e.completed_at >= self.window_start)
        ]

    def course_progress(self, course_id: str) -> float:
        if self.completions(course_id):
            return 1.0
        open_ = [
            e.progress
            for e in self.by_course.get(course_id, ())
            if e.status != EnrollmentStatus.COMPLETED
        ]
        return max(open_, default=0.0)

    def open_enrollment(self, course_id: str) -> Enrollment | None:
        return next(
            (
                e
                for e in self.by_course.get(course_id, ())
                if e.status != EnrollmentStatus.COMPLETED
            ),
            None,
        )

    def latest_completed(self, course_id: str) -> Enrollment | None:
        done = [e for e in self.by_course.get(course_id, ()) if e.completed_at is not None]
        return max(done, key=lambda e: e.completed_at or self.now, default=None)

    def records_for(self, leaf: Requirement) -> list[RecordFacts]:
        return [r for r in self.records if concerns(r, leaf)]

    def state(self, leaf: Requirement) -> LeafState:
        proofs = [
            proof
            for record in self.records_for(leaf)
            if (proof := record_proof(record, window_start=self.window_start, now=self.now))
        ]
        progress = 0.0
        if leaf.kind is RequirementKind.COURSE and leaf.course_id:
            proofs += [Proof(at=at) for at in self.completions(leaf.course_id)]
            progress = self.course_progress(leaf.course_id)
        elif leaf.kind is RequirementKind.LEARNING_PATH and leaf.course_id:
            courses = self.paths.get(leaf.course_id, ())
            latest = [max(self.completions(c), default=None) for c in courses]
            if courses and all(latest):
                proofs.append(Proof(at=max(t for t in latest if t)))
            if courses:
                progress = sum(self.course_progress(c) for c in courses) / len(courses)
        return LeafState(proofs=tuple(proofs), progress=1.0 if proofs else progress)

    def states(self, leaves: Iterable[Requirement]) -> dict[str, LeafState]:
        return {leaf.id: self.state(leaf) for leaf in leaves}
