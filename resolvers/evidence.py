"""What a learner has done, turned into each requirement's `LeafState` for one cycle.

Every piece of evidence has a date — a course's completion, additional training's `completedAt`,
a document's `issueDate` — and belongs to the one cycle whose window holds that date: a cycle's
window runs from its own edge (`Bound`) up to the next cycle's edge, so what completed one cycle
can never complete the next.

A course requirement is met by a completed enrollment of the course (a learning path: of all its
courses) or by approved additional training submitted for that requirement; a training-record
requirement by an approved record with its label (and type, when it names one), whatever task it
was submitted for. A record counts only with an acceptable lesson status; a document's end date
caps the validity it gives.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol, TypeGuard

from resolvers.criteria import LeafState, Proof, RecordType, Requirement, RequirementKind
from store.enrollments import Enrollment, EnrollmentStatus
from store.records import LessonStatus, RecordRevocation, RecordStatus

ACCEPTED_LESSON_STATUSES = {
    None,
    "",
    LessonStatus.PASSED,
    LessonStatus.COMPLETED,
    LessonStatus.NOT_APPLICABLE,
}


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
    def assignment_id(self) -> str | None: ...
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
    @property
    def clock_hours(self) -> float | None: ...
    @property
    def revocation(self) -> RecordRevocation | None: ...
    @property
    def import_id(self) -> str | None: ...


def _stepped(record: RecordFacts) -> datetime:
    """When a record shows its learner under way: when it was submitted — or, for imported
    history, when the training was done (an import of 2020's courses is no step today)."""
    if record.import_id is None:
        return record.submitted_at
    if record.completed_at is not None:
        return record.completed_at
    if record.issue_date is not None:
        return datetime.combine(record.issue_date, time(), UTC)
    return record.submitted_at


COUNTED = frozenset({RecordStatus.APPROVED})
# Revoked records as they were before: what decides whether a completion rested on them.
AS_APPROVED = COUNTED | {RecordStatus.REVOKED}


def start_of(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def record_cap(record: RecordFacts) -> datetime | None:
    """A document is valid through its end date (UTC), so it lapses at the next midnight."""
    return start_of(record.end_date) + timedelta(days=1) if record.end_date else None


def dated(record: RecordFacts) -> datetime | None:
    """A document is dated by its issue date, additional training by when it was done."""
    if record.type is RecordType.CREDENTIAL_DOCUMENT:
        return start_of(record.issue_date) if record.issue_date else None
    return record.completed_at


def matches(record: RecordFacts, leaf: Requirement) -> bool:
    """Whether the record is the kind of evidence the requirement asks for."""
    if leaf.kind is RequirementKind.TRAINING_RECORD:
        return record.label_id == leaf.label_id and (
            leaf.record_type is None or record.type == leaf.record_type
        )
    return record.requirement_id == leaf.id and record.type is RecordType.ADDITIONAL_TRAINING


def counts(record: RecordFacts, counted: frozenset[RecordStatus] = COUNTED) -> bool:
    """Whether the record is evidence: approved (`counted`), with a lesson status that passes."""
    return record.status in counted and record.lesson_status in ACCEPTED_LESSON_STATUSES


@dataclass(frozen=True, slots=True)
class Bound:
    """Where a cycle's evidence begins: dated on or after `start` and strictly after `after`."""

    start: datetime | None = None
    after: datetime | None = None

    def admits(self, at: datetime) -> bool:
        return (self.start is None or at >= self.start) and (self.after is None or at > self.after)


@dataclass(frozen=True, slots=True)
class Window:
    """The dates whose evidence is one cycle's: from its bound, up to the next cycle's bound."""

    lower: Bound
    upper: Bound | None = None

    def __contains__(self, at: datetime) -> bool:
        return self.lower.admits(at) and not (self.upper is not None and self.upper.admits(at))


@dataclass(frozen=True, slots=True)
class CourseHours:
    """What an HOURS requirement reads of a course."""

    clock_hours: float | None
    label_id: str | None


@dataclass(frozen=True, slots=True)
class Source:
    """One proof and what gives it: a completed enrollment or an approved record."""

    proof: Proof
    enrollment: Enrollment | None = None
    record: RecordFacts | None = None

    @property
    def key(self) -> tuple[str, str]:
        """Which enrollment or record it is (a group names each once); a learning path done
        through its courses, without an instance of its own, by when it was."""
        if self.record is not None:
            return ("record", self.record.id)
        if self.enrollment is not None:
            return ("enrollment", self.enrollment.id)
        return ("completed", self.proof.at.isoformat())


def _completion(enrollment: Enrollment) -> datetime:
    assert enrollment.completed_at is not None
    return enrollment.completed_at


class Evidence:
    """One learner's enrollments and records, seen through one cycle's window."""

    def __init__(
        self,
        *,
        enrollments: Iterable[Enrollment],
        records: Iterable[RecordFacts],
        paths: Mapping[str, Sequence[str]],
        window: Window,
        assignment_id: str | None = None,
        courses: Mapping[str, CourseHours] | None = None,
        counted: frozenset[RecordStatus] = COUNTED,
    ) -> None:
        self.counted = counted
        self.by_course: dict[str, list[Enrollment]] = defaultdict(list)
        for enrollment in enrollments:
            self.by_course[enrollment.course_id].append(enrollment)
        self.records = list(records)
        self.paths = paths
        self.window = window
        self.assignment_id = assignment_id
        self.courses = courses or {}

    def _in_window(self, at: datetime | None) -> TypeGuard[datetime]:
        return at is not None and at in self.window

    def completed(self, course_id: str) -> list[Enrollment]:
        return [e for e in self.by_course.get(course_id, ()) if self._in_window(e.completed_at)]

    def _completions(self, course_id: str) -> list[datetime]:
        return [e.completed_at for e in self.completed(course_id) if e.completed_at is not None]

    def course_progress(self, course_id: str) -> float:
        if self.completed(course_id):
            return 1.0
        return max(
            (e.progress for e in self.by_course.get(course_id, ()) if e.completed_at is None),
            default=0.0,
        )

    def open_enrollment(self, course_id: str) -> Enrollment | None:
        return next(
            (
                e
                for e in self.by_course.get(course_id, ())
                if e.status != EnrollmentStatus.COMPLETED
            ),
            None,
        )

    def courses_of(self, leaf: Requirement) -> list[str]:
        """The courses whose enrollments are evidence or activity for the requirement."""
        if leaf.course_id is None:
            return []
        if leaf.kind is RequirementKind.LEARNING_PATH:
            return [leaf.course_id, *self.paths.get(leaf.course_id, ())]
        return [leaf.course_id]

    def records_for(self, leaf: Requirement) -> list[RecordFacts]:
        """Matching records this cycle shows: dated in its window or submitted for it."""
        return [
            r
            for r in self.records
            if matches(r, leaf) and (self._in_window(dated(r)) or self._submitted_here(r))
        ]

    def _submitted_here(self, record: RecordFacts) -> bool:
        return self.assignment_id is not None and record.assignment_id == self.assignment_id

    def hours(self, leaf: Requirement) -> list[tuple[Source, float]]:
        """What counts toward an HOURS requirement, with its clock hours: approved records and
        completed courses (each course once: its latest completion) in the window, of the
        requirement's label when it names one."""
        wanted = leaf.label_id
        found = [
            (Source(Proof(at=at, cap=record_cap(r)), record=r), r.clock_hours)
            for r in self.records
            if counts(r, self.counted)
            and r.clock_hours
            and (wanted is None or r.label_id == wanted)
            and self._in_window(at := dated(r))
        ]
        for course_id, course in self.courses.items():
            if course.clock_hours and (wanted is None or course.label_id == wanted):
                latest = max(self.completed(course_id), key=_completion, default=None)
                if latest is not None:
                    done = Source(Proof(at=_completion(latest)), enrollment=latest)
                    found.append((done, course.clock_hours))
        return sorted(found, key=lambda pair: pair[0].proof.at, reverse=True)

    def _hours_state(self, leaf: Requirement) -> LeafState:
        """Met once the hours reach the minimum. Its proofs: the freshest evidence enough to
        reach it, and the freshest enough without anything that ends (which may last longer)."""
        assert leaf.hours is not None
        found = self.hours(leaf)
        proofs = []
        for pool in (found, [(s, h) for s, h in found if s.proof.cap is None]):
            total, chosen = 0.0, []
            for source, hours in pool:
                chosen.append(source.proof)
                total += hours
                if total >= leaf.hours:
                    caps = [p.cap for p in chosen if p.cap is not None]
                    proofs.append(Proof(at=chosen[0].at, cap=min(caps) if caps else None))
                    break
        progress = min(sum(h for _, h in found) / leaf.hours, 1.0)
        units = frozenset({f"hours:{leaf.label_id or '*'}"})
        return LeafState(proofs=tuple(dict.fromkeys(proofs)), progress=progress, units=units)

    def path_parts(self, leaf: Requirement) -> list[Source]:
        """A learning path's courses, each by its latest completion in the window."""
        found = []
        for course_id in self.paths.get(leaf.course_id or "", ()):
            latest = max(self.completed(course_id), key=_completion, default=None)
            if latest is not None:
                found.append(Source(Proof(at=_completion(latest)), enrollment=latest))
        return found

    def sources(self, leaf: Requirement) -> list[Source]:
        if leaf.kind is RequirementKind.HOURS:
            return [source for source, _ in self.hours(leaf)]
        found = [
            Source(Proof(at=at, cap=record_cap(r)), record=r)
            for r in self.records
            if matches(r, leaf) and counts(r, self.counted) and self._in_window(at := dated(r))
        ]
        if leaf.kind is RequirementKind.COURSE and leaf.course_id:
            found += [
                Source(Proof(at=e.completed_at), enrollment=e)
                for e in self.completed(leaf.course_id)
                if e.completed_at is not None
            ]
        elif leaf.kind is RequirementKind.LEARNING_PATH and leaf.course_id:
            courses = self.paths.get(leaf.course_id, ())
            latest = [max(self._completions(c), default=None) for c in courses]
            if courses and all(latest):
                instances = self.completed(leaf.course_id)
                found.append(
                    Source(
                        Proof(at=max(t for t in latest if t)),
                        enrollment=max(instances, key=_completion, default=None),
                    )
                )
        return found

    def state(self, leaf: Requirement) -> LeafState:
        if leaf.kind is RequirementKind.HOURS:
            return self._hours_state(leaf)
        proofs = tuple(source.proof for source in self.sources(leaf))
        progress = 0.0
        units: frozenset[str]
        if leaf.kind is RequirementKind.TRAINING_RECORD:
            units = frozenset({f"record:{leaf.label_id}:{leaf.record_type or '*'}"})
        elif leaf.kind is RequirementKind.LEARNING_PATH and leaf.course_id:
            courses = self.paths.get(leaf.course_id, ())
            left = [c for c in courses if not self.completed(c)]
            units = frozenset(f"course:{c}" for c in left) or frozenset({f"path:{leaf.course_id}"})
            if courses:
                progress = sum(self.course_progress(c) for c in courses) / len(courses)
        else:
            units = frozenset({f"course:{leaf.course_id}"})
            progress = self.course_progress(leaf.course_id) if leaf.course_id else 0.0
        return LeafState(proofs=proofs, progress=1.0 if proofs else progress, units=units)

    def states(self, leaves: Iterable[Requirement]) -> dict[str, LeafState]:
        return {leaf.id: self.state(leaf) for leaf in leaves}

    def dates(self, leaves: Iterable[Requirement]) -> list[datetime]:
        """Every date of evidence for these requirements in the window, in order, once."""
        return sorted({s.proof.at for leaf in leaves for s in self.sources(leaf)})

    def first_activity(self, leaves: Iterable[Requirement]) -> datetime | None:
        """The learner's first step toward these requirements since the window opened: a course
        got, launched or completed, or a record submitted. (Unlike evidence, a step belongs to
        no one cycle: whatever the learner did since a cycle's window opened shows it under
        way.)"""
        moments: list[datetime] = []
        for leaf in leaves:
            for course_id in self.courses_of(leaf):
                for e in self.by_course.get(course_id, ()):
                    moments += [m for m in (e.enrolled_at, e.launched_at, e.completed_at) if m]
            moments += [_stepped(r) for r in self.records if matches(r, leaf)]
            if leaf.kind is RequirementKind.HOURS:  # any course or record adding to it
                moments += [s.proof.at for s in self.sources(leaf)]
        moments += [_stepped(r) for r in self.records if self._submitted_here(r)]
        return min((m for m in moments if self.window.lower.admits(m)), default=None)
