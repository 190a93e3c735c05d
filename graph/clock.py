"""Which answers read the clock: declared where each field is defined, read by polling.

A field whose answer depends on "now" carries `reads_clock()` in its metadata. A cached answer
(an ETag) must then expire with the moment, unless the request pinned the moment itself with
the field's `asOf`. `graph.gate` finds the marked fields a document selects, and
`reads_now(...)` decides per request, from the values the variables have, whether any of them
reads the actual clock. The test suite checks that every field that reads the clock is marked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from graphql import ArgumentNode, FieldNode, NullValueNode, VariableNode

MARK = "credgraph.clock"

# Set only by the test that checks the marks: the field being resolved, and where to note
# that it read the clock.
RESOLVING: ContextVar[tuple[str, str] | None] = ContextVar("resolving", default=None)
WITNESS: ContextVar[set[tuple[str, str]] | None] = ContextVar("witness", default=None)


@dataclass(frozen=True, slots=True)
class ClockRule:
    """The field reads the clock unless its `unless` argument pins the moment; with `when`,
    only if one of those arguments (filters judged at that moment) is given."""

    unless: str = "asOf"
    when: frozenset[str] | None = None


def reads_clock(*, unless: str = "asOf", when: Iterable[str] | None = None) -> dict[str, Any]:
    """Field metadata marking a field whose answer depends on the current moment."""
    return {MARK: ClockRule(unless, frozenset(when) if when is not None else None)}


def noted() -> None:
    """Called where "now" is read: tells the witness, if one is listening, which field."""
    witness = WITNESS.get()
    field = RESOLVING.get()
    if witness is not None and field is not None:
        witness.add(field)


@dataclass(frozen=True, slots=True)
class ClockUse:
    """One selected field that may read the clock: always (`variable` None), or unless the
    variable that gives its moment has a value (or, not given, a default one)."""

    variable: str | None = None
    defaulted: bool = False


def use(node: FieldNode, rule: ClockRule) -> ClockUse | None:
    """How a selected, marked field reads the clock; None when this selection cannot."""
    arguments: dict[str, ArgumentNode] = {a.name.value: a for a in node.arguments or ()}
    if rule.when is not None and not any(
        name in arguments and not isinstance(arguments[name].value, NullValueNode)
        for name in rule.when
    ):
        return None
    pinned = arguments.get(rule.unless)
    if pinned is None or isinstance(pinned.value, NullValueNode):
        return ClockUse()
    if isinstance(pinned.value, VariableNode):
        return ClockUse(pinned.value.name.value)
    return None  # a literal moment


def reads_now(uses: Iterable[ClockUse], variables: Mapping[str, Any] | None) -> bool:
    """Whether any use reads the actual clock, given the request's variable values (a variable
    that is null or not given means now)."""
    values = variables or {}
    return any(
        u.variable is None
        or (values[u.variable] is None if u.variable in values else not u.defaulted)
        for u in uses
    )
