"""The criteria tree as defined, and as evaluated for one learner."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from graph import ids
from graph.context import Info
from graph.enums import Operator, RecordType, RequirementKind
from graph.types.catalogue import Course, Enrollment, Label
from graph.types.node import Node, entity, node_type
from resolvers import criteria
from resolvers.credentials import find_criteria_node
from resolvers.cycles import Assessment
from resolvers.evidence import Source

if TYPE_CHECKING:
    from graph.types.record import TrainingRecord


@entity
@strawberry.type(description="A leaf of the criteria: a course, a learning path or a record.")
class Requirement(Node):
    kind: RequirementKind
    title: str
    record_type: RecordType | None
    minimum_hours: float | None = strawberry.field(
        description="Of an HOURS requirement: the clock hours it asks for."
    )
    leaf: strawberry.Private[criteria.Requirement]

    @classmethod
    def of(cls, leaf: criteria.Requirement) -> Self:
        return cls(
            id=strawberry.ID(ids.encode("Requirement", leaf.id)),
            kind=leaf.kind,
            title=leaf.title,
            record_type=leaf.record_type,
            minimum_hours=leaf.hours,
            leaf=leaf,
        )

    @classmethod
    async def load(cls, info: Info, db_id: str) -> Self | None:
        node = await find_criteria_node(info.context.db, info.context.viewer, db_id)
        return cls.of(node) if isinstance(node, criteria.Requirement) else None

    @strawberry.field(description="The course or learning path it asks for.")
    async def course(self, info: Info) -> Course | None:
        return await Course.load(info, self.leaf.course_id) if self.leaf.course_id else None

    @strawberry.field(description="The label a matching training record carries.")
    async def label(self, info: Info) -> Label | None:
        return await Label.load(info, self.leaf.label_id) if self.leaf.label_id else None


@entity
@strawberry.type(description="ALL, ANY or AT_LEAST `minimum` of its children.")
class CriteriaGroup(Node):
    operator: Operator
    minimum: int | None
    group: strawberry.Private[criteria.Group]

    @classmethod
    def of(cls, group: criteria.Group) -> Self:
        return cls(
            id=strawberry.ID(ids.encode("CriteriaGroup", group.id)),
            operator=group.operator,
            minimum=group.minimum,
            group=group,
        )

    @classmethod
    async def load(cls, info: Info, db_id: str) -> Self | None:
        node = await find_criteria_node(info.context.db, info.context.viewer, db_id)
        return cls.of(node) if isinstance(node, criteria.Group) else None

    @strawberry.field
    def children(self) -> list[CriteriaNode]:
        return [node_of(child) for child in self.group.children]


CriteriaNode = Annotated[CriteriaGroup | Requirement, strawberry.union("CriteriaNode")]


def node_of(node: criteria.Node) -> CriteriaGroup | Requirement:
    if isinstance(node, criteria.Requirement):
        return Requirement.of(node)
    return CriteriaGroup.of(node)


@strawberry.type(
    description="What a satisfied requirement rests on: a completed course or an approved "
    "record (one of `enrollment`, `record`)."
)
class CriteriaEvidence:
    at: datetime = strawberry.field(
        description="Its date: when the course was completed, the training done or the "
        "document issued."
    )
    ends_at: datetime | None = strawberry.field(
        description="When it stops counting: the day after a document's end date; null when "
        "it does not end."
    )
    source: strawberry.Private[Source]

    @classmethod
    def of(cls, source: Source) -> Self:
        return cls(at=source.proof.at, ends_at=source.proof.cap, source=source)

    @strawberry.field
    def enrollment(self) -> Enrollment | None:
        found = self.source.enrollment
        return Enrollment.from_record(found) if found else None

    @strawberry.field
    async def record(
        self, info: Info
    ) -> Annotated[TrainingRecord, strawberry.lazy("graph.types.record")] | None:
        if self.source.record is None:
            return None
        return await node_type("TrainingRecord").load(info, self.source.record.id)


@strawberry.type(description="A node of the criteria with how far this learner has come.")
class CriteriaNodeProgress:
    satisfied: bool
    progress: float = strawberry.field(description="0..1; 1 exactly when satisfied.")
    result: strawberry.Private[criteria.NodeResult]
    assessment: strawberry.Private[Assessment]

    @classmethod
    def of(cls, result: criteria.NodeResult, assessment: Assessment) -> Self:
        return cls(
            satisfied=result.satisfied,
            progress=result.progress,
            result=result,
            assessment=assessment,
        )

    @strawberry.field
    def node(self) -> CriteriaNode:
        return node_of(self.result.node)

    @strawberry.field
    def children(self) -> list[CriteriaNodeProgress]:
        return [CriteriaNodeProgress.of(child, self.assessment) for child in self.result.children]

    @strawberry.field(
        description="What this node rests on while satisfied (a group: its satisfied "
        "children's evidence), oldest first; empty otherwise."
    )
    def evidence(self) -> list[CriteriaEvidence]:
        return [CriteriaEvidence.of(s) for s in self.assessment.evidence_of(self.result)]
