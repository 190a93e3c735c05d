from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from resolvers.criteria import RecordType, Requirement, RequirementKind
from resolvers.evidence import Bound, Evidence, Window
from resolvers.periods import Period, PeriodUnit
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
    assignment_id: str | None = None
    requirement_id: str | None = None
    lesson_status: str | None = None
    completed_at: datetime | None = None
    issue_date: date | None = date(2026, 2, 1)
    end_date: date | None = None
    submitted_at: datetime = T0
    import_id: str | None = None


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


def evidence(*, enrollments=(), records=(), window=None, upper=None) -> Evidence:
    return Evidence(
        enrollments=enrollments,
        records=records,
        paths={"path": ("m1", "m2")},
        window=Window(Bound(start=window), upper),
        assignment_id="a1",
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


def test_a_document_is_dated_by_its_issue_date_whatever_its_completed_at():
    record = Record(completed_at=T0 - DAY)
    (proof,) = evidence(records=[record]).state(BLS).proofs
    assert proof.at == datetime(2026, 2, 1, tzinfo=UTC)


def test_a_window_admits_from_its_bound_up_to_the_next_ones():
    """Evidence on or after `start` and after `after` is a cycle's, unless the next cycle's
    bound admits it."""
    window = Window(Bound(start=T0, after=T0 + DAY), Bound(start=T0 + 5 * DAY, after=T0 + 6 * DAY))
    admitted = [d for d in range(-1, 9) if T0 + d * DAY in window]
    assert admitted == [2, 3, 4, 5, 6]


@pytest.mark.parametrize(
    "record",
    [
        Record(status="PENDING"),
        Record(status="DECLINED"),
        Record(lesson_status="FAILED"),
        Record(lesson_status="INCOMPLETE"),
        Record(label_id="other"),
        Record(type=RecordType.ADDITIONAL_TRAINING, requirement_id="r-bls", completed_at=T0),
        Record(type=RecordType.ADDITIONAL_TRAINING, completed_at=T0),
        Record(issue_date=None),
    ],
)
def test_records_that_do_not_count(record):
    assert not evidence(records=[record]).state(BLS).met


@pytest.mark.parametrize("lesson", [None, "", "PASSED", "COMPLETED", "NOT_APPLICABLE"])
def test_accepted_lesson_statuses(lesson):
    assert evidence(records=[Record(lesson_status=lesson)]).state(BLS).met


def test_an_end_date_is_valid_through_that_day():
    state = evidence(records=[Record(end_date=date(2026, 3, 2))]).state(BLS)
    two_years = Period(2, PeriodUnit.YEAR)
    assert state.lasting(two_years, T0).met
    assert not state.lasting(two_years, datetime(2026, 3, 3, tzinfo=UTC)).met


def test_a_matching_record_counts_whatever_task_it_was_submitted_for():
    assert evidence(records=[Record(requirement_id=None)]).state(BLS).met
    assert evidence(records=[Record(requirement_id="elsewhere")]).state(BLS).met


def test_records_shown_are_those_dated_in_the_window_or_submitted_for_the_cycle():
    old = Record(id="old", issue_date=date(2020, 1, 1))
    here = Record(id="here", issue_date=date(2020, 1, 1), assignment_id="a1")
    shown = evidence(records=[old, here], window=T0 - DAY).records_for(BLS)
    assert [r.id for r in shown] == ["here"]


def test_activity_is_the_first_step_since_the_window_opened():
    launched = enrollment("cpr", launched=T0 - 2 * DAY)  # enrolled T0 - 30 days
    assert evidence(enrollments=[launched]).first_activity([COURSE]) == T0 - 30 * DAY
    late = evidence(enrollments=[launched], window=T0 - 10 * DAY)
    assert late.first_activity([COURSE]) == T0 - 2 * DAY
    pending = Record(status="PENDING", submitted_at=T0 + DAY)
    assert evidence(records=[pending], window=T0).first_activity([BLS]) == T0 + DAY
    assert evidence(records=[pending], window=T0).first_activity([COURSE]) is None


def test_a_record_linked_to_a_course_requirement_counts_for_it():
    record = Record(
        type=RecordType.ADDITIONAL_TRAINING,
        label_id=None,
        requirement_id="r-course",
        completed_at=T0 - DAY,
    )
    assert evidence(records=[record]).state(COURSE).met


def test_task_states_and_actions():
    def one(leaf, available=True, **kwargs):
        ev = evidence(**kwargs)
        return task(leaf, ev.state(leaf), ev, available=available)

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
    early = one(COURSE, available=False, enrollments=[enrollment("cpr")])
    assert (early.state, early.action) == (TaskState.NOT_STARTED, TaskAction.NONE)
