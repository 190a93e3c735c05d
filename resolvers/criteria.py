"""Fulfillment criteria: the tree, its rendering, and its evaluation for one learner.

Pure: the caller supplies, per requirement, what the learner has done (`LeafState`); this module
answers whether the tree is satisfied, how far along each node is, and which evidence the
credential rests on (`valid_from`, `valid_until`). The fewest steps left are `resolvers.plans`'.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from resolvers.periods import Period
from store.records import RecordType

MAX_DEPTH = 8
UNMET_CEILING = 0.99  # an unmet requirement never shows 100 %, even if its course player said so


class Operator(StrEnum):
    ALL = "ALL"
    ANY = "ANY"
    AT_LEAST = "AT_LEAST"


class RequirementKind(StrEnum):
    COURSE = "COURSE"
    LEARNING_PATH = "LEARNING_PATH"
    TRAINING_RECORD = "TRAINING_RECORD"
    HOURS = "HOURS"  # clock hours of completed courses and approved records, of a label or any


@dataclass(frozen=True, slots=True)
class Requirement:
    id: str
    kind: RequirementKind
    title: str
    course_id: str | None = None
    label_id: str | None = None
    record_type: RecordType | None = None
    hours: float | None = None  # the minimum of an HOURS requirement

    @property
    def target(self) -> tuple[str, str | None, str | None]:
        """What fulfils it, so two leaves asking for the same thing count once."""
        if self.kind is RequirementKind.HOURS:
            return (self.kind, self.label_id, f"{self.hours:g}")
        return (self.kind, self.course_id or self.label_id, self.record_type)


@dataclass(frozen=True, slots=True)
class Group:
    id: str
    operator: Operator
    children: tuple[Node, ...]
    minimum: int | None = None

    @property
    def needed(self) -> int:
        """How many children must be satisfied."""
        match self.operator:
            case Operator.ALL:
                return len(self.children)
            case Operator.ANY:
                return 1
            case Operator.AT_LEAST:
                return self.minimum or 1


Node = Group | Requirement


def requirements(node: Node) -> list[Requirement]:
    """The leaves, left to right."""
    if isinstance(node, Requirement):
        return [node]
    return [leaf for child in node.children for leaf in requirements(child)]


def walk(node: Node) -> Iterator[Node]:
    yield node
    if isinstance(node, Group):
        for child in node.children:
            yield from walk(child)


def depth(node: Node) -> int:
    """Levels of groups above the deepest leaf (a lone requirement is 0)."""
    if isinstance(node, Requirement):
        return 0
    return 1 + max((depth(child) for child in node.children), default=0)


CONNECTIVES = {Operator.ALL: "AND", Operator.ANY: "OR"}


def expression(node: Node, *, nested: bool = False) -> str:
    """`(CPR Online AND BLS) OR Instructor Led CPR`."""
    if isinstance(node, Requirement):
        return node.title
    if len(node.children) == 1 and node.operator is not Operator.AT_LEAST:
        return expression(node.children[0], nested=nested)
    parts = [expression(child, nested=True) for child in node.children]
    if node.operator is Operator.AT_LEAST:
        return f"AT LEAST {node.minimum} OF ({', '.join(parts)})"
    text = f" {CONNECTIVES[node.operator]} ".join(parts)
    return f"({text})" if nested else text


HEADINGS = {Operator.ALL: "all of", Operator.ANY: "one of"}


def narrative(node: Node, depth: int = 0) -> str:
    """The tree as a Markdown list a person reads (a verifiable credential's criteria):
    `- Complete all of:` with each child indented beneath it."""
    indent = "  " * depth
    if isinstance(node, Requirement):
        return f"{indent}- {node.title}"
    if len(node.children) == 1 and node.operator is not Operator.AT_LEAST:
        return narrative(node.children[0], depth)
    heading = HEADINGS.get(node.operator) or f"at least {node.minimum} of"
    children = (narrative(child, depth + 1) for child in node.children)
    return "\n".join((f"{indent}- Complete {heading}:", *children))


# --- evaluation ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class Proof:
    """One way a requirement (or subtree) is met: its freshest evidence and its end-date cap."""

    at: datetime
    cap: datetime | None = None

    def joined(self, other: Proof) -> Proof:
        """Both at once: the fresher evidence, the earlier cap."""
        caps = [c for c in (self.cap, other.cap) if c is not None]
        return Proof(at=max(self.at, other.at), cap=min(caps) if caps else None)

    def valid_until(self, valid_for: Period | None) -> datetime | None:
        """`at + valid_for`, capped; None means it never lapses."""
        ends = [e for e in (valid_for.after(self.at) if valid_for else None, self.cap) if e]
        return min(ends) if ends else None


@dataclass(frozen=True, slots=True)
class LeafState:
    """What the learner has for one requirement: proofs (empty = unmet), progress, and for an
    unmet one the units of work still to do (a course, each unfinished course of a path, a
    kind of record), so requirements that share work are seen to share it."""

    proofs: tuple[Proof, ...] = ()
    progress: float = 0.0
    units: frozenset[str] = frozenset()

    def lasting(self, valid_for: Period | None, beyond: datetime) -> LeafState:
        """Only the proofs still valid after `beyond`: lapsed evidence completes nothing."""
        kept = tuple(p for p in self.proofs if _latest(p.valid_until(valid_for)) > (0, beyond))
        if kept == self.proofs:
            return self
        return LeafState(proofs=kept, progress=self.progress if kept else 0.0, units=self.units)

    @property
    def met(self) -> bool:
        return bool(self.proofs)


@dataclass(frozen=True, slots=True)
class NodeResult:
    node: Node
    satisfied: bool
    progress: float
    children: tuple[NodeResult, ...] = ()
    front: tuple[Proof, ...] = field(default=(), repr=False)


@dataclass(frozen=True, slots=True)
class Evaluation:
    root: NodeResult
    valid_from: datetime | None
    valid_until: datetime | None
    completed_requirements: int
    total_requirements: int

    @property
    def satisfied(self) -> bool:
        return self.root.satisfied

    @property
    def progress(self) -> float:
        return self.root.progress

    def results(self) -> dict[str, NodeResult]:
        """Every node's result by node id."""
        found: dict[str, NodeResult] = {}
        stack = [self.root]
        while stack:
            result = stack.pop()
            found[result.node.id] = result
            stack.extend(result.children)
        return found


def evaluate(
    root: Node, states: Mapping[str, LeafState], *, valid_for: Period | None
) -> Evaluation:
    """Evaluate the tree; requirements missing from `states` are unmet with no progress."""
    result = _evaluate(root, states)
    leaves = requirements(root)
    valid_from = valid_until = None
    if result.satisfied:
        best = max(result.front, key=lambda p: (_latest(p.valid_until(valid_for)), p.at))
        valid_from, valid_until = best.at, best.valid_until(valid_for)
    return Evaluation(
        root=result,
        valid_from=valid_from,
        valid_until=valid_until,
        completed_requirements=sum(states.get(leaf.id, LeafState()).met for leaf in leaves),
        total_requirements=len(leaves),
    )


def _evaluate(node: Node, states: Mapping[str, LeafState]) -> NodeResult:
    if isinstance(node, Requirement):
        state = states.get(node.id, LeafState())
        if state.met:
            return NodeResult(node, True, 1.0, front=_pareto(state.proofs))
        progress = min(max(state.progress, 0.0), UNMET_CEILING)
        return NodeResult(node, False, progress)

    children = tuple(_evaluate(child, states) for child in node.children)
    needed = node.needed
    top = sorted((r.progress for r in children), reverse=True)[:needed]
    progress = sum(top) / needed
    satisfied = sum(r.satisfied for r in children) >= needed
    if satisfied:
        return NodeResult(node, True, 1.0, children, front=_choose(children, needed))
    return NodeResult(node, False, min(progress, UNMET_CEILING), children)


def _choose(children: tuple[NodeResult, ...], needed: int) -> tuple[Proof, ...]:
    """The Pareto front of proofs for any `needed` of the satisfied children together."""
    fronts: list[tuple[Proof, ...]] = [()] * (needed + 1)
    for child in (r for r in children if r.satisfied):
        for k in range(needed, 0, -1):
            if k == 1:
                candidates: tuple[Proof, ...] | list[Proof] = child.front
            elif fronts[k - 1]:
                candidates = [a.joined(b) for a in fronts[k - 1] for b in child.front]
            else:
                continue
            fronts[k] = _pareto((*fronts[k], *candidates))
    return fronts[needed]


def _pareto(proofs: tuple[Proof, ...] | list[Proof]) -> tuple[Proof, ...]:
    """Drop every proof that another beats on both freshness and cap."""
    ordered = sorted(set(proofs), key=lambda p: (p.at, _latest(p.cap)), reverse=True)
    front: list[Proof] = []
    for proof in ordered:
        if not front or _latest(proof.cap) > _latest(front[-1].cap):
            front.append(proof)
    return tuple(front)


def _latest(moment: datetime | None) -> tuple[int, datetime | None]:
    """Sort key where None (no end) is later than any date."""
    return (1, None) if moment is None else (0, moment)


def canonical(node: Node) -> tuple[Any, ...]:
    """What a node asks for, whatever its ids and its children's order: two siblings with the
    same canonical form are the same requirement twice."""
    if isinstance(node, Requirement):
        return node.target
    keys = sorted((canonical(child) for child in node.children), key=repr)
    return (node.operator, node.needed, tuple(keys))


# --- storage form -----------------------------------------------------------------------


def to_doc(node: Node) -> dict[str, Any]:
    if isinstance(node, Requirement):
        return {
            "id": node.id,
            "kind": node.kind.value,
            "title": node.title,
            "courseId": node.course_id,
            "labelId": node.label_id,
            "recordType": node.record_type.value if node.record_type else None,
            "hours": node.hours,
        }
    return {
        "id": node.id,
        "operator": node.operator.value,
        "minimum": node.minimum,
        "children": [to_doc(child) for child in node.children],
    }


def from_doc(doc: dict[str, Any]) -> Node:
    if "operator" in doc:
        return Group(
            id=doc["id"],
            operator=Operator(doc["operator"]),
            minimum=doc.get("minimum"),
            children=tuple(from_doc(child) for child in doc["children"]),
        )
    return Requirement(
        id=doc["id"],
        kind=RequirementKind(doc["kind"]),
        title=doc["title"],
        course_id=doc.get("courseId"),
        label_id=doc.get("labelId"),
        record_type=RecordType(doc["recordType"]) if doc.get("recordType") else None,
        hours=doc.get("hours"),
    )
