"""Limits on what one request may ask: depth, aliases, tokens and estimated cost.

Each is a graphql-core validation rule (or parser option), so a refused query costs no
resolver work and fails with its own stable code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
)

DEFAULT_PAGE, MAX_PAGE = 20, 100
UNPAGED_LIST = 10  # a guess at lists without `first` (tasks, requirements, nextSteps)
TREE_BRANCHING = 2  # criteria `children`: 8 levels of 2 already exceed a tree's 200 leaves
PAGED_FIELDS = {"credentials", "assignments", "enrollments", "trainingRecords", "notifications"}
LIST_FIELDS = {"tasks", "requirements", "nextSteps", "courses", "byStatus", "labels"}


@dataclass(frozen=True)
class Limits:
    max_depth: int = 25
    max_aliases: int = 30
    max_tokens: int = 5_000
    max_cost: int = 100_000


def rules(limits: Limits) -> list[type[ASTValidationRule]]:
    """The validation rules enforcing `limits` (bound to them by closure)."""

    class Depth(ASTValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            depth = _depth(node.selection_set, _fragments(self.context), 0, set())
            if depth > limits.max_depth:
                self.report_error(
                    _error(
                        f"the query nests {depth} levels deep; the limit is {limits.max_depth}",
                        node,
                        "QUERY_TOO_DEEP",
                    )
                )

    class Aliases(ASTValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            count = _aliases(node.selection_set, _fragments(self.context), set())
            if count > limits.max_aliases:
                self.report_error(
                    _error(
                        f"the query uses {count} aliases; the limit is {limits.max_aliases}",
                        node,
                        "TOO_MANY_ALIASES",
                    )
                )

    class Cost(ASTValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            cost = _cost(node.selection_set, _fragments(self.context), 1, set())
            if cost > limits.max_cost:
                self.report_error(
                    _error(
                        f"the query's estimated cost is {cost}; the limit is {limits.max_cost} "
                        "(ask for smaller pages or fewer fields)",
                        node,
                        "QUERY_TOO_COMPLEX",
                    )
                )

    return [Depth, Aliases, Cost]


def _error(message: str, node: Any, code: str) -> GraphQLError:
    return GraphQLError(message, node, extensions={"code": code})


def _fragments(context: ValidationContext) -> dict[str, FragmentDefinitionNode]:
    return {
        d.name.value: d
        for d in context.document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }


def _children(
    selections: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    seen: set[str],
) -> list[FieldNode]:
    """The fields of a selection set, fragments inlined (each spread once per path)."""
    fields: list[FieldNode] = []
    for selection in selections.selections if selections else ():
        if isinstance(selection, FieldNode):
            fields.append(selection)
        elif isinstance(selection, InlineFragmentNode):
            fields += _children(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in fragments and name not in seen:
                fields += _children(fragments[name].selection_set, fragments, seen | {name})
    return fields


def _depth(
    selections: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    level: int,
    seen: set[str],
) -> int:
    deepest = level
    for field in _children(selections, fragments, seen):
        if field.selection_set is not None:
            deepest = max(deepest, _depth(field.selection_set, fragments, level + 1, seen))
    return deepest


def _aliases(
    selections: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    seen: set[str],
) -> int:
    return sum(
        (field.alias is not None) + _aliases(field.selection_set, fragments, seen)
        for field in _children(selections, fragments, seen)
    )


def _cost(
    selections: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    multiplier: int,
    seen: set[str],
) -> int:
    """Fields resolved, each list field multiplying what is under it by its page size."""
    total = 0
    for field in _children(selections, fragments, seen):
        total += multiplier
        if field.selection_set is not None:
            total += _cost(field.selection_set, fragments, multiplier * _fanout(field), seen)
    return total


def _fanout(field: FieldNode) -> int:
    """How many items a field stands for: its `first`, a page by default, else a guess."""
    for argument in field.arguments or ():
        if argument.name.value == "first":
            if isinstance(argument.value, IntValueNode):
                return max(1, int(argument.value.value))
            return MAX_PAGE  # a variable: validation cannot see it, so assume the largest
    name = field.name.value
    if name in PAGED_FIELDS:
        return DEFAULT_PAGE
    if name == "children":
        return TREE_BRANCHING
    return UNPAGED_LIST if name in LIST_FIELDS else 1
