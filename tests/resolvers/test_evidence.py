from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from resolvers.criteria import RecordType, Requirement, RequirementKind
from resolvers.evidence import Evidence
from resolvers.tasks import TaskAction, TaskState, task
from store.enrollments import Enrollment, EnrollmentStatus

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
DAY = timedelta(days=1)
COURSE = Requirement("r-course", RequirementKind.COURSE, "CPR Online", course_id="cpr")
PATH = Requirement("r-path", RequirementKind.LEARNING_PATH, "Path", course_id="path")
BLS = Requirement(
    "r-bls",
    RequirementKind.TRAINING_RECORD,
    "BLS",
    label_id="bls",
    record_type=RecordType.CREDENTIAL_DOCUMENT,
)


@dataclass(frozen=True)
class Record:
    id: str = "rec"
    type: RecordType = RecordType.CREDENTIAL_DOCUMENT
    status: str = "APPROVED"
    label_id: str | None = "bls"
    requirement_id: str | None = None
    lesson_status: str | None = None
    completed_at: datetime | None = None
    issue_date: date | None = date(2026, 2, 1)
    end_date: date | None = None
    submitted_at: datetime = T0


def enrollment(
    course_id: str,
    *,
    completed: datetime | None = None,
    progress: float = 0.0,
    launched: datetime | None = None,
) -> Enrollment:
    return Enrollment(
        id=f"e-{course_id}-{completed}",
        org_id="o",
        learner_id="l",
        course_id=course_id,
        status=EnrollmentStatus.COMPLETED
        if completed
        else (EnrollmentStatus.IN_PROGRESS if launched else EnrollmentStatus.NOT_STARTED),
        progress=1.0 if completed else progress,
        enrolled_at=T0 - 30 * DAY,
        launched_at=launched,
        completed_at=completed,
    )


def evidence(*, enrollments=(), records=(), window=None, now=T0) -> Evidence:
    return Evidence(
        enrollments=enrollments,
        records=records,
        paths={"path": ("m1", "m2")},
        window_start=window,
        now=now,
    )


def test_a_completed_course_is_a_proof_at_its_completion():
    state = evidence(enrollments=[enrollment("cpr", completed=T0 - DAY)]).state(COURSE)
    assert state.met
    assert [p.at for p in state.proofs] == [T0 - DAY]


def test_a_completion_before_the_window_does_not_count():
    ev = evidence(enrollments=[enrollment("cpr", completed=T0 - 10 * DAY)], window=T0 - 5 * DAY)
    assert not ev.state(COURSE).met
    assert ev.state(COURSE).progress == 0


def test_open_enrollment_progress_is_the_leaf_progress():
    ev = evidence(enrollments=[enrollment("cpr", progress=0.4, launched=T0)])
    assert ev.state(COURSE).progress == 0.4


def test_a_path_needs_all_its_courses_and_rests_on_the_latest():
    one = evidence(enrollments=[enrollment("m1", completed=T0 - 3 * DAY)])
    assert not one.state(PATH).met
    assert one.state(PATH).progress == 0.5
    both = evidence(
        enrollments=[enrollment("m1", completed=T0 - 3 * DAY), enrollment("m2", completed=T0 - DAY)]
    )
    assert [p.at for p in both.state(PATH).proofs] == [T0 - DAY]


def test_an_approved_document_counts_from_its_issue_date_and_caps_at_its_end_date():
    record = Record(end_date=date(2027, 1, 31))
    (proof,) = evidence(records=[record]).state(BLS).proofs
    assert proof.at == datetime(2026, 2, 1, tzinfo=UTC)
    assert proof.cap == datetime(2027, 2, 1, tzinfo=UTC)


def test_completed_at_wins_over_issue_date():
    record = Record(completed_at=T0 - DAY)
    (proof,) = evidence(records=[record]).state(BLS).proofs
    assert proof.at == T0 - DAY


@pytest.mark.parametrize(
    "record",
    [
        Record(status="PENDING"),
        Record(status="DECLINED"),
        Record(lesson_status="FAILED"),
        Record(lesson_status="INCOMPLETE"),
        Record(end_date=date(2026, 3, 1)),
        Record(label_id="other"),
        Record(type=RecordType.ADDITIONAL_TRAINING),
        Record(issue_date=None),
    ],
)
def test_records_that_do_not_count(record):
    assert not evidence(records=[record]).state(BLS).met


@pytest.mark.parametrize("lesson", [None, "", "PASSED", "COMPLETED", "NOT_APPLICABLE"])
def test_accepted_lesson_statuses(lesson):
    assert evidence(records=[Record(lesson_status=lesson)]).state(BLS).met


def test_an_end_date_is_valid_through_that_day():
    record = Record(end_date=date(2026, 3, 2))
    assert evidence(records=[record], now=T0).state(BLS).met
    assert not evidence(records=[record], now=datetime(2026, 3, 3, tzinfo=UTC)).state(BLS).met


def test_a_record_linked_to_a_course_requirement_counts_for_it():
    record = Record(
        type=RecordType.ADDITIONAL_TRAINING,
        label_id=None,
        requirement_id="r-course",
        completed_at=T0 - DAY,
    )
    assert evidence(records=[record]).state(COURSE).met


def test_task_states_and_actions():
    def one(leaf, **kwargs):
        ev = evidence(**kwargs)
        return task(leaf, ev.state(leaf), ev)

    fresh = one(COURSE)
    assert (fresh.state, fresh.action) == (TaskState.NOT_STARTED, TaskAction.GET_COURSE)
    got = one(COURSE, enrollments=[enrollment("cpr")])
    assert (got.state, got.action) == (TaskState.NOT_STARTED, TaskAction.LAUNCH)
    going = one(COURSE, enrollments=[enrollment("cpr", launched=T0, progress=0.2)])
    assert (going.state, going.action) == (TaskState.IN_PROGRESS, TaskAction.LAUNCH)
    done = one(COURSE, enrollments=[enrollment("cpr", completed=T0 - DAY)])
    assert (done.state, done.action, done.completed_at) == (
        TaskState.COMPLETE,
        TaskAction.NONE,
        T0 - DAY,
    )
    assert done.enrollment is not None
    pending = one(BLS, records=[Record(status="PENDING")])
    assert (pending.state, pending.action) == (TaskState.PENDING_APPROVAL, TaskAction.NONE)
    declined = one(BLS, records=[Record(status="DECLINED")])
    assert (declined.state, declined.action) == (TaskState.DECLINED, TaskAction.SUBMIT_RECORD)
    approved = one(BLS, records=[Record()])
    assert approved.state is TaskState.COMPLETE
    assert approved.record is not None
    nothing = one(BLS)
    assert (nothing.state, nothing.action) == (TaskState.NOT_STARTED, TaskAction.SUBMIT_RECORD)
