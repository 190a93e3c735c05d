"""One assignment cycle held against its credential version: its policy, window and assessment.

A cycle's evidence window begins at its `Bound`:
- a cycle an administrator assigns takes evidence still fresh at its start (dated on or after
  `startDate - validFor`; any date for a credential that never expires);
- a renewal opened by completing the cycle before takes evidence dated on or after
  `completeWithin` before that cycle's `validUntil` — the window in which one renews;
- either way, only evidence fresher than what the cycle before rests on (after its validFrom).
It ends where the next cycle's begins. An open cycle is completed only by evidence still valid
at the moment of completion and, for a cycle after another, lasting beyond the validity that
one gave: a renewal that would not extend anything is no renewal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from resolvers import criteria, plans
from resolvers.criteria import (
    Evaluation,
    LeafState,
    Node,
    NodeResult,
    Requirement,
    RequirementKind,
)
from resolvers.evidence import COUNTED, Bound, CourseHours, Evidence, RecordFacts, Source, Window
from resolvers.periods import Period
from resolvers.status import Timeline
from resolvers.tasks import Task, task
from store.assignments import Assignment
from store.courses import Course
from store.credentials import Credential
from store.enrollments import Enrollment
from store.records import RecordStatus


@dataclass(frozen=True, slots=True)
class Policy:
    """What one cycle is held to: its credential version's criteria and periods."""

    tree: Node
    complete_within: Period
    valid_for: Period | None

    @classmethod
    def of(cls, credential: Credential, number: int) -> Policy:
        version = credential.version(number)
        complete_within = Period.from_doc(version.complete_within)
        assert complete_within is not None
        return cls(
            tree=criteria.from_doc(version.criteria),
            complete_within=complete_within,
            valid_for=Period.from_doc(version.valid_for),
        )

    @property
    def counts_hours(self) -> bool:
        """Whether it asks for clock hours: then every completed course's hours matter."""
        return any(leaf.kind is RequirementKind.HOURS for leaf in criteria.requirements(self.tree))

    def takes_hours_of(self, label_id: str | None) -> bool:
        """Whether a course of this label adds to one of its HOURS requirements."""
        return any(
            leaf.kind is RequirementKind.HOURS and leaf.label_id in (None, label_id)
            for leaf in criteria.requirements(self.tree)
        )

    def path_ids(self) -> list[str]:
        return [
            leaf.course_id
            for leaf in criteria.requirements(self.tree)
            if leaf.kind is RequirementKind.LEARNING_PATH and leaf.course_id
        ]

    def course_ids(self) -> set[str]:
        return {leaf.course_id for leaf in criteria.requirements(self.tree) if leaf.course_id}

    def first_window_start(self, start: datetime) -> datetime | None:
        """An assigned cycle takes evidence still fresh at its start."""
        return self.valid_for.before(start) if self.valid_for else None


def _lapse(states: Mapping[str, LeafState], policy: Policy, beyond: datetime) -> datetime | None:
    """When an open cycle's assessment may next change by itself: its evidence counts while it
    lasts beyond now (or beyond a later floor), so when the first proof counted ends."""
    ends = (proof.valid_until(policy.valid_for) for s in states.values() for proof in s.proofs)
    return min((end for end in ends if end is not None and end > beyond), default=None)


def bound(assignment: Assignment) -> Bound:
    return Bound(start=assignment.window_start, after=assignment.window_after)


def window(assignment: Assignment) -> Window:
    """The cycle's evidence window as stored: up to where the next cycle's begins."""
    following = assignment.next
    if following is None:
        return Window(bound(assignment))
    return Window(bound(assignment), Bound(following.window_start, following.window_after))


def scheduled(renewal: Assignment, renewed: Assignment, policy: Policy) -> Assignment:
    """A renewal's dates, from the cycle it renews: its window opens `completeWithin` before
    that cycle lapses; it starts then (or when that cycle was completed, if later) and falls due
    no earlier than the lapse."""
    assert renewed.completed_at is not None
    assert renewed.valid_until is not None
    opens = policy.complete_within.before(renewed.valid_until)
    start = max(opens, renewed.completed_at)
    return replace(
        renewal,
        start_date=start,
        due_date=max(
            policy.complete_within.after(start),
            renewed.valid_until,
            renewal.extended_to or renewed.valid_until,  # an extension granted stands
        ),
        window_start=opens,
        window_after=renewed.valid_from,
        previous_valid_until=renewed.valid_until,
    )


def course_hours(found: Iterable[Course | None]) -> dict[str, CourseHours]:
    """What HOURS requirements read of these courses."""
    return {c.id: CourseHours(c.clock_hours, c.label_id) for c in found if c is not None}


def timeline(assignment: Assignment) -> Timeline:
    return Timeline(
        start=assignment.start_date,
        due=assignment.due_date,
        started_at=assignment.started_at,
        completed_at=assignment.completed_at,
        valid_until=assignment.valid_until,
        exempt=tuple((e.since, e.until) for e in assignment.exemptions),
        revoked_at=assignment.revocation.at if assignment.revocation else None,
        withdrawn_at=assignment.withdrawal.at if assignment.withdrawal else None,
    )


@dataclass(frozen=True, slots=True)
class Assessment:
    evaluation: Evaluation
    evidence: Evidence
    states: Mapping[str, LeafState]
    changes: datetime | None = None  # the first moment it may change without a write

    @property
    def leaves(self) -> list[Requirement]:
        return criteria.requirements(self.evaluation.root.node)

    def tasks(self, *, available: bool) -> list[Task]:
        """One per requirement; `available` once the cycle's start date has come."""
        return [
            task(leaf, self.states[leaf.id], self.evidence, available=available)
            for leaf in self.leaves
        ]

    def next_steps(self) -> tuple[Requirement, ...]:
        return plans.next_steps(self.evaluation.root.node, self.states)

    def evidence_of(self, result: NodeResult) -> list[Source]:
        """What a satisfied node rests on: a requirement's evidence still counted, a group's
        satisfied children's (each once), oldest first; nothing for an unsatisfied node."""
        if not result.satisfied:
            return []
        node = result.node
        if isinstance(node, Requirement):
            if node.kind is RequirementKind.HOURS:  # the hours it adds up
                return sorted(self.evidence.sources(node), key=lambda s: s.proof.at)
            rests = set(result.front)  # the proofs it is judged by, not every one that lasts
            leaf = [s for s in self.evidence.sources(node) if s.proof in rests]
            if node.kind is RequirementKind.LEARNING_PATH and leaf:
                leaf = self.evidence.path_parts(node) or leaf  # its courses' completions
            return sorted(leaf, key=lambda s: s.proof.at)
        found: dict[tuple[str, str], Source] = {}
        for child in result.children:
            for source in self.evidence_of(child):
                found.setdefault(source.key, source)
        return sorted(found.values(), key=lambda s: s.proof.at)

    def valid_until_set_by(
        self, valid_until: datetime | None, valid_for: Period | None
    ) -> Source | None:
        """The evidence that gives `valid_until`: a document whose end date it is, else what
        was completed `valid_for` before it (the freshest, when several did at once)."""
        if valid_until is None:
            return None
        sources = self.evidence_of(self.evaluation.root)
        capping = [s for s in sources if s.proof.cap == valid_until]
        if capping:
            return capping[0]
        dating = [s for s in sources if valid_for and valid_for.after(s.proof.at) == valid_until]
        return dating[-1] if dating else None

    def started_at(self, start: datetime) -> datetime | None:
        """When the cycle went under way: the first step toward it, not before its start."""
        first = self.evidence.first_activity(self.leaves)
        return max(first, start) if first is not None else None


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything one learner has done, and the moment it is judged at."""

    enrollments: Sequence[Enrollment]
    records: Sequence[RecordFacts]
    paths: Mapping[str, Sequence[str]]
    now: datetime
    courses: Mapping[str, CourseHours] = field(default_factory=dict)  # for HOURS requirements
    counted: frozenset[RecordStatus] = COUNTED  # the record statuses that are evidence

    def assess(
        self,
        assignment: Assignment,
        policy: Policy,
        upper: Bound | Literal["stored"] | None = "stored",
    ) -> Assessment:
        """Evaluate the cycle on the evidence in its window (up to `upper`, by default where
        the next cycle's begins) that is still valid when it completes — now, for an open
        cycle — and lasts beyond the validity of the cycle it follows."""
        evidence = Evidence(
            enrollments=self.enrollments,
            records=self.records,
            paths=self.paths,
            window=window(assignment) if upper == "stored" else Window(bound(assignment), upper),
            assignment_id=assignment.id,
            courses=self.courses,
            counted=self.counted,
        )
        found = evidence.states(criteria.requirements(policy.tree))
        beyond = assignment.completed_at or max(self.now, assignment.start_date)
        if assignment.previous_valid_until is not None:
            beyond = max(beyond, assignment.previous_valid_until)
        states = {id: state.lasting(policy.valid_for, beyond) for id, state in found.items()}
        evaluation = criteria.evaluate(policy.tree, states, valid_for=policy.valid_for)
        return Assessment(
            evaluation=evaluation,
            evidence=evidence,
            states=states,
            changes=None if assignment.completed_at else _lapse(found, policy, beyond),
        )

    def split(self, assignment: Assignment, policy: Policy, renewal: Period) -> Assessment:
        """The cycle's share of the evidence when a renewal follows it: replayed in date order,
        evidence extends the cycle until the renewal window it gives (`renewal` before its
        validUntil) has opened; from there on it is the renewal's.

        Decided by the evidence's dates alone, not by when it was submitted or approved, so
        the share is the same whatever order the evidence arrived in.
        """
        share = self.assess(assignment, policy, None)
        if not share.evaluation.satisfied:
            return share
        for later in share.evidence.dates(share.leaves)[1:]:
            before = self.assess(assignment, policy, Bound(start=later))
            valid_until = before.evaluation.valid_until
            if (
                before.evaluation.satisfied
                and valid_until is not None
                and later >= renewal.before(valid_until)
            ):
                share = before
                break
        # The same evidence, seen up to the renewal's own bound, so that activity is shared
        # by the same edge as evidence.
        valid_from, valid_until = share.evaluation.valid_from, share.evaluation.valid_until
        if valid_until is None:
            return share
        return self.assess(assignment, policy, Bound(renewal.before(valid_until), valid_from))
