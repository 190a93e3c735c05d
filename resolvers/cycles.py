"""One assignment cycle held against its credential version: the policy and its assessment."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from resolvers import criteria
from resolvers.criteria import Evaluation, LeafState, Node, RequirementKind
from resolvers.evidence import Evidence, RecordFacts
from resolvers.periods import Period
from resolvers.status import Timeline
from resolvers.tasks import Task, task
from store.assignments import Assignment
from store.credentials import Credential
from store.enrollments import Enrollment


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

    def path_ids(self) -> list[str]:
        return [
            leaf.course_id
            for leaf in criteria.requirements(self.tree)
            if leaf.kind is RequirementKind.LEARNING_PATH and leaf.course_id
        ]

    def course_ids(self) -> set[str]:
        return {leaf.course_id for leaf in criteria.requirements(self.tree) if leaf.course_id}


def window_start(cycle: int, start: datetime, valid_for: Period | None) -> datetime | None:
    """Evidence counts from here: still-fresh evidence for a first cycle, new for a renewal."""
    if cycle > 1:
        return start
    return valid_for.before(start) if valid_for else None


def timeline(assignment: Assignment) -> Timeline:
    return Timeline(
        start=assignment.start_date,
        due=assignment.due_date,
        started_at=assignment.started_at,
        completed_at=assignment.completed_at,
        valid_until=assignment.valid_until,
    )


@dataclass(frozen=True, slots=True)
class Assessment:
    evaluation: Evaluation
    evidence: Evidence
    states: Mapping[str, LeafState]

    def tasks(self) -> list[Task]:
        return [
            task(leaf, self.states[leaf.id], self.evidence)
            for leaf in criteria.requirements(self.evaluation.root.node)
        ]


def assess(
    assignment: Assignment,
    policy: Policy,
    *,
    enrollments: Iterable[Enrollment],
    records: Iterable[RecordFacts],
    paths: Mapping[str, Sequence[str]],
    now: datetime,
) -> Assessment:
    evidence = Evidence(
        enrollments=enrollments,
        records=records,
        paths=paths,
        window_start=assignment.window_start,
        now=now,
    )
    states = evidence.states(criteria.requirements(policy.tree))
    evaluation = criteria.evaluate(policy.tree, states, valid_for=policy.valid_for)
    return Assessment(evaluation=evaluation, evidence=evidence, states=states)
