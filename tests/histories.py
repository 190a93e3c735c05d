"""Generated credential histories, and what a user can observe of one: shared by the pure
property tests (`tests/resolvers/test_chains.py`) and the store-level ones
(`tests/graph/test_histories.py`).

A history is a credential (nested criteria over courses, a learning path, records and
documents; a validity; renewal or not), an assignment's start, and evidence events, with a
second order of the same events. The clock stands still (every event happens "now"), so only
the order differs between two runs of one history. An `Override` may end it: a decision about
the cycle current now (certified, unassigned), the latest earned one (revoked), or an approved
record (revoked).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from hypothesis import strategies as st

from resolvers import criteria
from resolvers.criteria import Group, Operator, RecordType, Requirement, RequirementKind
from resolvers.cycles import Facts, Policy, timeline
from resolvers.evidence import Bound, CourseHours
from resolvers.periods import Period, PeriodUnit
from store.assignments import Assignment
from store.credentials import Credential, Version
from store.records import RecordRevocation

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
DAY = timedelta(days=1)
PATHS = {"P": ("C2", "C3")}
HOURS = {  # the courses' clock hours and labels, for HOURS requirements
    "C0": CourseHours(2.0, None),
    "C1": CourseHours(3.0, "BLS"),
    "C2": CourseHours(1.0, None),
    "C3": CourseHours(4.0, "ACLS"),
}
AS_OF = [NOW + d * DAY for d in (-400, -30, -1, 0, 1, 29, 30, 100, 364, 400, 700, 800, 1200)]


@dataclass(frozen=True)
class Record:
    id: str
    type: RecordType
    status: str
    label_id: str | None
    completed_at: datetime | None
    issue_date: date | None
    end_date: date | None
    lesson_status: str | None = None
    assignment_id: str | None = None
    requirement_id: str | None = None
    submitted_at: datetime = NOW
    clock_hours: float | None = None
    revocation: RecordRevocation | None = None
    import_id: str | None = None


@dataclass(frozen=True)
class CourseDone:
    course: str
    at: datetime


@dataclass(frozen=True)
class Submitted:
    record: Record


OVERRIDES = ("certify", "revoke", "unassign", "revoke_record")


@dataclass(frozen=True)
class Override:
    """A decision after the evidence: `kind` of OVERRIDES; a certification attests `days` ago."""

    kind: str
    days: int = 0


# --- generated histories ---------------------------------------------------------------------

ids = (f"n{i}" for i in itertools.count())
LABELS = ("BLS", "ACLS")


def leaf() -> st.SearchStrategy[Requirement]:
    course = st.sampled_from(["C0", "C1", "C2"]).map(
        lambda c: Requirement(next(ids), RequirementKind.COURSE, c, course_id=c)
    )
    path = st.just("P").map(
        lambda p: Requirement(next(ids), RequirementKind.LEARNING_PATH, p, course_id=p)
    )
    record = st.tuples(st.sampled_from(LABELS), st.sampled_from([None, *RecordType])).map(
        lambda lt: Requirement(
            next(ids), RequirementKind.TRAINING_RECORD, lt[0], label_id=lt[0], record_type=lt[1]
        )
    )
    hours = st.tuples(st.sampled_from([2.0, 4.0, 7.0]), st.sampled_from([None, *LABELS])).map(
        lambda hl: Requirement(
            next(ids), RequirementKind.HOURS, f"{hl[0]:g} h", label_id=hl[1], hours=hl[0]
        )
    )
    return st.one_of(course, path, record, hours)


def tree(depth: int = 2) -> st.SearchStrategy:
    if depth == 0:
        return leaf()
    kids = st.lists(tree(depth - 1), min_size=1, max_size=3, unique_by=criteria.canonical)
    return st.one_of(
        leaf(),
        kids.map(lambda c: Group(next(ids), Operator.ALL, tuple(c))),
        kids.map(lambda c: Group(next(ids), Operator.ANY, tuple(c))),
        kids.flatmap(
            lambda c: st.integers(1, len(c)).map(
                lambda n: Group(next(ids), Operator.AT_LEAST, tuple(c), n)
            )
        ),
    )


periods = st.sampled_from(
    [
        Period(1, PeriodUnit.WEEK),
        Period(30, PeriodUnit.DAY),
        Period(1, PeriodUnit.MONTH),
        Period(1, PeriodUnit.YEAR),
        Period(2, PeriodUnit.YEAR),
    ]
)


@st.composite
def credentials(draw, renewing: bool = False) -> Credential:
    """Any credential; `renewing` ones expire and are reassigned on completion."""
    valid_for = draw(periods if renewing else st.one_of(st.none(), periods))
    version = Version(
        number=1,
        criteria=criteria.to_doc(draw(tree())),
        complete_within=draw(periods).to_doc(),
        valid_for=valid_for.to_doc() if valid_for else None,
        created_at=NOW,
    )
    return Credential(
        id="cred",
        org_id="o",
        name="Generated",
        instructions="",
        image_url=None,
        reassign_on_completion=valid_for is not None
        and (renewing or draw(st.sampled_from([True, True, False]))),
        versions=(version,),
        created_at=NOW,
        updated_at=NOW,
        archived_at=None,
    )


days_ago = st.one_of(st.integers(0, 60), st.integers(0, 900)).map(lambda d: NOW - d * DAY)


@st.composite
def records(draw, index: int, leaf: Requirement | None) -> Record:
    """A record: for a training-record requirement mostly one that matches it."""
    if leaf is not None and leaf.kind is RequirementKind.TRAINING_RECORD:
        label, kind = leaf.label_id, leaf.record_type or draw(st.sampled_from(RecordType))
    elif leaf is not None and leaf.kind is RequirementKind.HOURS:
        label = leaf.label_id or draw(st.sampled_from(LABELS))
        kind = draw(st.sampled_from(RecordType))
    else:
        label, kind = draw(st.sampled_from(LABELS)), draw(st.sampled_from(RecordType))
    when = draw(days_ago)
    document = kind is RecordType.CREDENTIAL_DOCUMENT
    end = draw(st.one_of(st.none(), st.integers(-100, 900))) if document else None
    return Record(
        id=f"r{index}",
        type=kind,
        status=draw(st.sampled_from(["APPROVED"] * 6 + ["PENDING", "DECLINED"])),
        label_id=label,
        completed_at=None if document else when,
        issue_date=when.date() if document else None,
        end_date=(when + end * DAY).date() if end is not None and end >= 0 else None,
        lesson_status=draw(st.sampled_from([None] * 6 + ["PASSED", "FAILED"])),
        clock_hours=draw(st.sampled_from([None, 1.0, 2.0, 4.0])),
    )


@st.composite
def evidence_for(draw, index: int, leaves: list[Requirement]) -> CourseDone | Submitted:
    """Mostly evidence for one of the credential's requirements, sometimes anything."""
    leaf = draw(st.one_of(st.none(), st.sampled_from(leaves), st.sampled_from(leaves)))
    if leaf is not None and leaf.kind is RequirementKind.COURSE and draw(st.booleans()):
        done = draw(records(index, None))  # the course done elsewhere, submitted for its task
        return Submitted(
            replace(
                done,
                type=RecordType.ADDITIONAL_TRAINING,
                completed_at=done.completed_at or NOW - DAY,
                label_id=None,
                issue_date=None,
                end_date=None,
                requirement_id=leaf.id,
            )
        )
    if leaf is not None and leaf.kind is RequirementKind.HOURS and draw(st.booleans()):
        fits = [c for c, h in HOURS.items() if leaf.label_id in (None, h.label_id)]
        return CourseDone(draw(st.sampled_from(fits)), draw(days_ago))
    if leaf is not None and leaf.kind in (RequirementKind.COURSE, RequirementKind.LEARNING_PATH):
        courses = PATHS.get(leaf.course_id or "", (leaf.course_id,))
        return CourseDone(draw(st.sampled_from(courses)), draw(days_ago))
    if leaf is None and draw(st.booleans()):
        return CourseDone(draw(st.sampled_from(["C0", "C1", "C2", "C3"])), draw(days_ago))
    return Submitted(draw(records(index, leaf)))


@st.composite
def histories(draw, renewing: bool = False):
    credential = draw(credentials(renewing))
    leaves = criteria.requirements(criteria.from_doc(credential.current.criteria))
    start = NOW + draw(st.sampled_from([-500, -60, -10, 0, 0, 10])) * DAY
    events = [draw(evidence_for(index, leaves)) for index in range(draw(st.integers(1, 9)))]
    order = draw(st.permutations(events))
    return credential, start, events, order


overrides = st.builds(Override, st.sampled_from(OVERRIDES), st.sampled_from([0, 10, 200, 800]))


def certifiable(cycle: Assignment, credential: Credential, attested: datetime) -> bool:
    """Whether `certifyAssignment` takes this date for the cycle (`resolvers.overrides`)."""
    policy = Policy.of(credential, cycle.version)
    if not Bound(cycle.window_start, cycle.window_after).admits(attested):
        return False
    lapses = policy.valid_for.after(attested) if policy.valid_for else None
    return lapses is None or lapses > max(NOW, cycle.previous_valid_until or NOW)


def assigned(credential: Credential, start: datetime) -> Assignment:
    policy = Policy.of(credential, 1)
    return Assignment.opened(
        org_id="o",
        credential_id=credential.id,
        learner_id="l",
        version=1,
        previous=None,
        assigned_at=NOW,
        assigned_by="admin",
        start=start,
        due=policy.complete_within.after(start),
        window_start=policy.first_window_start(start),
    )


def current(chain: list[Assignment], as_of: datetime) -> Assignment | None:
    """The latest cycle started by `as_of`, else the first; none once an unassignment took the
    chain out, and a revoked cycle again once its renewal was withdrawn with it."""
    index = max(i for i, a in enumerate(chain) if i == 0 or a.start_date <= as_of)
    for later in chain[index + 1 :]:
        if later.withdrawal and not later.withdrawal.revoked and later.withdrawal.at <= as_of:
            return None  # unassigned before it started
    found = chain[index]
    if found.withdrawal is not None and found.withdrawal.at <= as_of:
        return chain[index - 1] if found.withdrawal.revoked else None
    return found


def answers(chain: list[Assignment]) -> list[tuple]:
    """At each moment, what it shows: the current cycle's status and, what `expiresIn` counts
    down to, its start and due dates while it is open, its completion and validity once
    completed. What a learner, an administrator's report and complianceSummary see at `asOf`.

    (Which cycle of the history holds a completion may differ when evidence older than an
    already completed renewal arrives after it: a completed cycle is never undone.)"""
    found: list[tuple] = []
    for as_of in AS_OF:
        a = current(chain, as_of)
        if a is None:
            found.append((as_of, None, ()))
            continue
        done = a.completed_at is not None and a.completed_at <= as_of
        shown = (
            (a.completed_at, a.valid_from, a.valid_until) if done else (a.start_date, a.due_date)
        )
        found.append((as_of, timeline(a).status(as_of), shown))
    return found


# --- invariants ------------------------------------------------------------------------------


def invariants(chain: list[Assignment], credential: Credential, facts: Facts) -> None:
    """What holds of every cycle after every event."""
    for i, cycle in enumerate(chain):
        policy = Policy.of(credential, cycle.version)
        assessment = facts.assess(cycle, policy)
        if cycle.revocation is not None:  # fixed as it was earned, from its revocation on
            assert cycle.completed_at is not None
            assert cycle.revocation.at >= cycle.completed_at
        elif cycle.withdrawal is not None:  # fixed as it was open
            assert cycle.completed_at is None
            if cycle.withdrawal.revoked:
                assert chain[i - 1].revocation is not None
                assert cycle.withdrawal.at == chain[i - 1].revocation.at
        elif cycle.certification is not None:  # completed by it, extended by evidence only
            assert cycle.completed_at == max(cycle.certification.completed_at, cycle.start_date)
            attested = cycle.certification.completed_at
            lapses = policy.valid_for.after(attested) if policy.valid_for else None
            assert cycle.valid_from is not None
            assert cycle.valid_from >= attested
            assert lapses is None or cycle.valid_until is None or cycle.valid_until >= lapses
        else:
            # satisfied and completed never disagree
            assert assessment.evaluation.satisfied == (cycle.completed_at is not None), cycle
        if cycle.completed_at is not None and not cycle.fixed and not cycle.certification:
            assert cycle.completed_at >= cycle.start_date
            assert cycle.valid_from is not None
            # completed with evidence in its window, and never straight into EXPIRED
            assert Bound(cycle.window_start, cycle.window_after).admits(cycle.valid_from)
            assert cycle.valid_until is None or cycle.valid_until > cycle.completed_at
            assert (assessment.evaluation.valid_from, assessment.evaluation.valid_until) == (
                cycle.valid_from,
                cycle.valid_until,
            )
        if i:
            previous = chain[i - 1]
            assert cycle.start_date >= previous.start_date
            assert previous.next is not None
            assert previous.next.start == cycle.start_date
            if cycle.renews and previous.revocation is not None:
                # an open renewal goes with the revoked completion that opened it
                assert cycle.completed_at is not None or cycle.withdrawal is not None
            if cycle.renews and not cycle.withdrawal:
                # a renewal is due no earlier than the validity it renews ends
                assert previous.valid_until is not None
                assert cycle.due_date >= previous.valid_until
                assert previous.completed_at is not None
        else:
            assert cycle.next is None or len(chain) > 1
    assert chain[-1].next is None
    assert sum(a.open for a in chain) <= 1
