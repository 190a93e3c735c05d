"""Chains derived from generated histories, in memory: the same answers whatever order the
evidence arrives in, and the invariants after every event (see `tests/histories.py`)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from hypothesis import given, settings

from resolvers import criteria
from resolvers.chains import derive
from resolvers.criteria import RecordType, Requirement, RequirementKind
from resolvers.cycles import Facts, Policy, scheduled, timeline
from resolvers.periods import Period, PeriodUnit
from resolvers.status import Status
from store.assignments import Assignment, Extension
from store.credentials import Credential, Version
from store.enrollments import Enrollment, EnrollmentStatus
from store.overrides import Certification, Revocation, Withdrawal
from store.records import RecordRevocation
from tests.histories import (
    DAY,
    HOURS,
    NOW,
    PATHS,
    CourseDone,
    Override,
    Record,
    Submitted,
    answers,
    assigned,
    certifiable,
    current,
    histories,
    invariants,
    overrides,
)


@dataclass
class World:
    credential: Credential
    chain: list[Assignment]
    enrollments: list[Enrollment] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)

    @property
    def facts(self) -> Facts:
        return Facts(self.enrollments, self.records, PATHS, NOW, HOURS)

    def settle(self) -> None:
        self.chain = derive(
            self.chain,
            self.credential,
            enrollments=self.enrollments,
            records=self.records,
            paths=PATHS,
            now=NOW,
            courses=HOURS,
        )

    def apply(self, event: CourseDone | Submitted) -> None:
        if isinstance(event, CourseDone):
            self.enrollments.append(
                Enrollment(
                    id=f"e{len(self.enrollments)}",
                    org_id="o",
                    learner_id="l",
                    course_id=event.course,
                    status=EnrollmentStatus.COMPLETED,
                    progress=1.0,
                    enrolled_at=event.at - DAY,
                    launched_at=event.at - DAY,
                    completed_at=event.at,
                )
            )
        else:
            self.records.append(event.record)
        self.settle()
        invariants(self.chain, self.credential, self.facts)
        settled = list(self.chain)
        self.settle()
        assert self.chain == settled, "deriving again changes nothing"

    def override(self, decision: Override) -> None:
        """As `resolvers.overrides` decides: on the cycle current now, if it allows it."""
        if decision.kind == "revoke_record":
            approved = [r for r in self.records if r.status == "APPROVED"]
            if approved:  # the same one whatever order they came in
                chosen = min(approved, key=repr)
                revoked = replace(chosen, status="REVOKED",
                                  revocation=RecordRevocation(NOW, "admin", "forged"))  # fmt: skip
                self.records = [revoked if r is chosen else r for r in self.records]
        else:
            earned = [c for c in self.chain if c.completed_at and not c.fixed]
            cycle = earned[-1] if decision.kind == "revoke" and earned else current(self.chain, NOW)
            if cycle is None or cycle.fixed:
                return
            decided = cycle
            attested = NOW - decision.days * DAY
            if decision.kind == "revoke" and cycle.completed_at is not None:
                decided = replace(cycle, revocation=Revocation(
                    max(NOW, cycle.completed_at), "admin", "forged"))  # fmt: skip
            elif decision.kind == "unassign" and cycle.open:
                decided = replace(cycle, withdrawal=Withdrawal(NOW, "admin", "moved"))
            elif (
                decision.kind == "certify"
                and cycle.open
                and certifiable(cycle, self.credential, attested)
            ):
                decided = replace(
                    cycle, certification=Certification(NOW, "admin", attested, "paper")
                )
            self.chain = [decided if a is cycle else a for a in self.chain]
        self.settle()
        invariants(self.chain, self.credential, self.facts)
        settled = list(self.chain)
        self.settle()
        assert self.chain == settled, "deriving again changes nothing"


def run(credential, start, events) -> World:
    world = World(credential, [assigned(credential, start)])
    world.settle()
    for event in events:
        world.apply(event)
    return world


@settings(max_examples=400, deadline=None)
@given(histories())
def test_every_order_of_events_gives_the_same_answers(history):
    credential, start, events, order = history
    forward = run(credential, start, events)
    shuffled = run(credential, start, order)
    assert answers(forward.chain) == answers(shuffled.chain)


@settings(max_examples=400, deadline=None)
@given(histories(), overrides)
def test_a_decision_after_either_order_gives_the_same_answers(history, decision):
    """Certifying, revoking or unassigning the cycle current now, or revoking a record, after
    the same evidence in two orders: the invariants hold and the answers agree."""
    credential, start, events, order = history
    worlds = [run(credential, start, events), run(credential, start, order)]
    for world in worlds:
        world.override(decision)
    assert answers(worlds[0].chain) == answers(worlds[1].chain)


@settings(max_examples=200, deadline=None)
@given(histories())
def test_an_assessment_holds_until_the_moment_it_names(history):
    """What a learner's tasks and completion show is judged now; a poll is answered 304 until
    `Assessment.changes`, so judged at any moment before it, each cycle must look the same."""
    credential, start, events, _ = history
    world = run(credential, start, events)
    for cycle in world.chain:
        policy = Policy.of(credential, cycle.version)

        def judged(moment, cycle=cycle, policy=policy):
            facts = Facts(world.enrollments, world.records, PATHS, moment, HOURS)
            return facts.assess(cycle, policy)

        now = judged(NOW)
        later = [NOW + 1200 * DAY] if now.changes is None else []
        if now.changes is not None:
            assert now.changes > NOW
            later = [now.changes - timedelta(microseconds=1), NOW + (now.changes - NOW) / 2]
        for moment in later:
            then = judged(moment)
            assert (then.evaluation, then.states) == (now.evaluation, now.states), moment


def test_a_renewal_opened_early_takes_the_evidence_of_its_window():
    """The nurse: an old licence, then the renewed one, give two completed cycles."""
    lic = Requirement(
        "lic",
        RequirementKind.TRAINING_RECORD,
        "RN",
        label_id="RN",
        record_type=RecordType.CREDENTIAL_DOCUMENT,
    )
    version = Version(
        1,
        criteria.to_doc(lic),
        Period(90, PeriodUnit.DAY).to_doc(),
        Period(2, PeriodUnit.YEAR).to_doc(),
        NOW,
    )
    credential = Credential("cred", "o", "RN", "", None, True, (version,), NOW, NOW, None)

    def licence(n: int, issued: date, ends: date) -> Submitted:
        return Submitted(
            Record(f"r{n}", RecordType.CREDENTIAL_DOCUMENT, "APPROVED", "RN", None, issued, ends)
        )

    old = licence(1, date(2024, 4, 10), date(2026, 4, 1))
    new = licence(2, date(2026, 3, 1), date(2028, 3, 1))
    first, second = (run(credential, NOW, order).chain for order in ([old, new], [new, old]))
    assert [replace(a, id="", previous_id=None, assigned_at=NOW) for a in first] == [
        replace(a, id="", previous_id=None, assigned_at=NOW) for a in second
    ]
    assert [a.completed_at is not None for a in first] == [True, True, False]
    assert timeline(current(first, NOW + 60 * DAY)).status(NOW + 60 * DAY) is Status.COMPLETED


@settings(max_examples=200, deadline=None)
@given(histories())
def test_a_completed_cycles_validity_is_explained_by_its_evidence(history):
    """`validUntilSetBy`: in every history, a completed cycle's validUntil is the end date of
    a document it rests on, or `validFor` after evidence it rests on."""
    credential, start, events, _ = history
    world = run(credential, start, events)
    for cycle in world.chain:
        if cycle.completed_at is None or cycle.valid_until is None:
            continue
        policy = Policy.of(credential, cycle.version)
        facts = Facts(world.enrollments, world.records, PATHS, NOW, HOURS)
        assessment = facts.assess(cycle, policy)
        source = assessment.valid_until_set_by(cycle.valid_until, policy.valid_for)
        assert source is not None, (cycle, assessment.evidence_of(assessment.evaluation.root))
        assert cycle.valid_until in (
            source.proof.cap,
            policy.valid_for.after(source.proof.at) if policy.valid_for else None,
        )
        assert source in assessment.evidence_of(assessment.evaluation.root)


def test_a_renewal_rescheduled_keeps_its_extension():
    """An open renewal is scheduled again from the cycle it renews when late evidence moves
    that one's lapse; a due date an extension gave never falls back."""
    lic = Requirement(
        "lic", RequirementKind.TRAINING_RECORD, "RN", label_id="RN",
        record_type=RecordType.CREDENTIAL_DOCUMENT,
    )  # fmt: skip
    version = Version(1, criteria.to_doc(lic), Period(90, PeriodUnit.DAY).to_doc(),
                      Period(2, PeriodUnit.YEAR).to_doc(), NOW)  # fmt: skip
    credential = Credential("cred", "o", "RN", "", None, True, (version,), NOW, NOW, None)
    policy = Policy.of(credential, 1)
    renewed = replace(
        assigned(credential, NOW - 400 * DAY),
        completed_at=NOW - 300 * DAY, valid_from=NOW - 300 * DAY, valid_until=NOW + 65 * DAY,
    )  # fmt: skip
    renewal = scheduled(assigned(credential, NOW), renewed, policy)
    for lapse in (NOW + 70 * DAY, NOW + 400 * DAY):  # a little later; past the extension
        extended_to = renewal.due_date + 30 * DAY
        extension = Extension(NOW, "admin", renewal.due_date, extended_to, "leave")
        moved = replace(renewal, due_date=extended_to, extensions=(extension,))
        later = replace(renewed, valid_until=lapse)
        assert scheduled(moved, later, policy).due_date == max(
            extended_to, scheduled(renewal, later, policy).due_date
        )


def test_a_renewal_stored_ahead_of_a_completion_that_lost_to_an_unassignment_goes_too():
    """A derivation stores the renewal a completion opens before the completion; an
    unassignment that wins the race leaves the cycle open and withdrawn, and the renewal
    withdrawn with it — never a renewal of nothing, counted on its own."""
    lic = Requirement(
        "lic", RequirementKind.TRAINING_RECORD, "RN", label_id="RN",
        record_type=RecordType.CREDENTIAL_DOCUMENT,
    )  # fmt: skip
    version = Version(1, criteria.to_doc(lic), Period(90, PeriodUnit.DAY).to_doc(),
                      Period(2, PeriodUnit.YEAR).to_doc(), NOW)  # fmt: skip
    credential = Credential("cred", "o", "RN", "", None, True, (version,), NOW, NOW, None)
    first = assigned(credential, NOW - 10 * DAY)
    withdrawn = replace(first, withdrawal=Withdrawal(NOW - DAY, "admin", "moved ward"))
    ahead = Assignment.opened(
        org_id="o", credential_id=credential.id, learner_id="l", version=1, previous=first,
        assigned_at=NOW - DAY, assigned_by=None, start=NOW, due=NOW + 90 * DAY,
        window_start=None,
    )  # fmt: skip
    card = Record("r1", RecordType.CREDENTIAL_DOCUMENT, "APPROVED", "RN", None,
                  (NOW - 2 * DAY).date(), (NOW + 700 * DAY).date())  # fmt: skip
    world = World(credential, [withdrawn, ahead], records=[card])
    world.settle()
    cycle, renewal = world.chain
    assert cycle.completed_at is None
    assert cycle.withdrawal == withdrawn.withdrawal
    assert renewal.withdrawal == replace(withdrawn.withdrawal, revoked=False)
    assert current(world.chain, NOW) is None
