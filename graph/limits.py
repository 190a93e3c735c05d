"""Limits on what one request may ask: tokens, depth, aliases and estimated cost.

Measured over the document once per fragment, not once per path through it: a fragment that
spreads another twice, twenty levels deep, stands for 2^20 fields but costs twenty steps to
measure. So a refusal costs about what parsing did, whatever the document expands to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
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


@dataclass(frozen=True, slots=True)
class Measure:
    """A selection set, fragments expanded: its depth, its aliases, and its cost (fields
    resolved, each list field multiplying what is under it by its page size)."""

    depth: int = 0
    aliases: int = 0
    cost: int = 0


def check(document: DocumentNode, operation: OperationDefinitionNode, limits: Limits) -> None:
    """Raise a `GraphQLError` with the limit's code when the operation exceeds one."""
    measure = _Measurer(document, ceiling=limits.max_cost + 1).selections(operation.selection_set)
    if measure.depth > limits.max_depth:
        raise _error(
            f"the query nests {measure.depth} levels deep; the limit is {limits.max_depth}",
            operation,
            "QUERY_TOO_DEEP",
        )
    if measure.aliases > limits.max_aliases:
        raise _error(
            f"the query uses {measure.aliases} aliases; the limit is {limits.max_aliases}",
            operation,
            "TOO_MANY_ALIASES",
        )
    if measure.cost > limits.max_cost:
        raise _error(
            f"the query's estimated cost exceeds {limits.max_cost} "
            "(ask for smaller pages or fewer fields)",
            operation,
            "QUERY_TOO_COMPLEX",
        )


def _error(message: str, node: OperationDefinitionNode, code: str) -> GraphQLError:
    return GraphQLError(message, node, extensions={"code": code})


class _Measurer:
    """Measures selection sets, remembering each fragment's measure (a fragment that spreads
    itself, which validation refuses anyway, measures as empty)."""

    def __init__(self, document: DocumentNode, *, ceiling: int) -> None:
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.ceiling = ceiling  # costs are capped here: past the limit, more is no news
        self.known: dict[str, Measure] = {}
        self.open: set[str] = set()

    def selections(self, selection_set: SelectionSetNode | None) -> Measure:
        depth = aliases = cost = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                inner = self.selections(selection.selection_set)
                nested = selection.selection_set is not None
                depth = max(depth, inner.depth + 1 if nested else 0)
                aliases += (selection.alias is not None) + inner.aliases
                cost += 1 + _fanout(selection) * inner.cost
            else:
                inner = (
                    self.selections(selection.selection_set)
                    if isinstance(selection, InlineFragmentNode)
                    else self.fragment(cast(FragmentSpreadNode, selection))
                )
                depth = max(depth, inner.depth)
                aliases += inner.aliases
                cost += inner.cost
            cost = min(cost, self.ceiling)
        return Measure(depth, aliases, cost)

    def fragment(self, spread: FragmentSpreadNode) -> Measure:
        name = spread.name.value
        if name in self.known:
            return self.known[name]
        definition = self.fragments.get(name)
        if definition is None or name in self.open:
            return Measure()
        self.open.add(name)
        measure = self.selections(definition.selection_set)
        self.open.discard(name)
        self.known[name] = measure
        return measure


def _fanout(field: FieldNode) -> int:
    """How many items a field stands for: its `first`, a page by default, else a guess."""
    for argument in field.arguments or ():
        if argument.name.value == "first":
            if isinstance(argument.value, IntValueNode):
                return max(1, int(argument.value.value))
            return MAX_PAGE  # a variable: it is not known before execution, so the largest
    name = field.name.value
    if name in PAGED_FIELDS:
        return DEFAULT_PAGE
    if name == "children":
        return TREE_BRANCHING
    return UNPAGED_LIST if name in LIST_FIELDS else 1
