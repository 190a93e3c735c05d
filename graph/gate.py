"""What every operation passes before anything runs for it, cheapest first.

1. The body's size, counted as it arrives (`graph.edge`): `PAYLOAD_TOO_LARGE`, 413.
2. A parse bounded by tokens, comments and length: `TOO_MANY_TOKENS`, 400
   (`GRAPHQL_PARSE_FAILED` when it is not GraphQL).
3. Depth, aliases and estimated cost, measured once per fragment (`graph.limits`):
   `QUERY_TOO_DEEP`, `TOO_MANY_ALIASES`, `QUERY_TOO_COMPLEX`, 400.
4. The schema's own validation: `GRAPHQL_VALIDATION_FAILED`.
Only then is the caller authenticated and the operation executed.

What a document is found to be is kept by its text, so a repeated poll costs a dictionary
lookup. Everything a stranger can send ends up here, so the cache is bounded by bytes as well as
entries, and large documents are not kept at all.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    parse,
)

from graph.limits import Limits, check

CACHE_ENTRIES = 1024
CACHE_BYTES = 8 * 1024 * 1024
LARGEST_CACHED = 64 * 1024  # bytes of document text; larger ones are prepared every time
ENTRY_OVERHEAD = 20  # a parsed document holds about this many bytes per byte of its text
PARSE_IN_THREAD = 8 * 1024  # bytes of text past which a parse leaves the event loop


@dataclass(slots=True)
class Prepared:
    """A document as the gate found it: refused with `error`, or ready to run."""

    document: DocumentNode | None = None
    operation: OperationDefinitionNode | None = None
    error: GraphQLError | None = None
    personal: bool = True  # the answer depends on who asks (`_asks_who`)
    validation: list[GraphQLError] | None = field(default=None)  # filled on first validation

    @property
    def kind(self) -> OperationType | None:
        return self.operation.operation if self.operation else None


class Gate:
    def __init__(self, schema: GraphQLSchema, limits: Limits, *, max_length: int) -> None:
        self.schema = schema
        self.limits = limits
        self.max_length = max_length
        self.cache: OrderedDict[tuple[str, str | None], tuple[Prepared, int]] = OrderedDict()
        self.cached_bytes = 0
        self.lock = threading.Lock()

    async def prepared(self, query: str, operation_name: str | None) -> Prepared:
        """`prepare`, off the event loop for a large document not seen before: parsing a few
        thousand tokens takes tens of milliseconds that other requests should not wait for."""
        found = self._known(query, operation_name)
        if found is not None:
            return found
        if len(query) > PARSE_IN_THREAD:
            return await asyncio.to_thread(self.prepare, query, operation_name)
        return self.prepare(query, operation_name)

    def prepare(self, query: str, operation_name: str | None) -> Prepared:
        found = self._known(query, operation_name)
        if found is not None:
            return found
        prepared = self._prepare(query, operation_name)
        if len(query) <= LARGEST_CACHED:
            self._keep((query, operation_name), prepared, len(query) * ENTRY_OVERHEAD)
        return prepared

    def _known(self, query: str, operation_name: str | None) -> Prepared | None:
        key = (query, operation_name)
        with self.lock:
            found = self.cache.get(key)
            if found is None:
                return None
            self.cache.move_to_end(key)
            return found[0]

    def _keep(self, key: tuple[str, str | None], prepared: Prepared, size: int) -> None:
        with self.lock:
            if key in self.cache:
                return
            self.cache[key] = (prepared, size)
            self.cached_bytes += size
            while len(self.cache) > CACHE_ENTRIES or self.cached_bytes > CACHE_BYTES:
                _, (_, dropped) = self.cache.popitem(last=False)
                self.cached_bytes -= dropped

    def _prepare(self, query: str, operation_name: str | None) -> Prepared:
        if _tokens_exceed(query, self.limits.max_tokens):
            error = GraphQLError(
                f"Document contains more than {self.limits.max_tokens} tokens. Parsing aborted.",
                extensions={"code": "TOO_MANY_TOKENS"},
            )
            return Prepared(error=error)
        try:
            document = parse(
                query,
                no_location=False,
                max_lexical_tokens=self.limits.max_tokens,
                max_comments=self.limits.max_tokens,
                max_source_length=self.max_length,
            )
        except GraphQLError as error:
            code = "TOO_MANY_TOKENS" if "aborted" in error.message else "GRAPHQL_PARSE_FAILED"
            return Prepared(error=_coded(error, code))
        operation = _operation(document, operation_name)
        if operation is None:
            return Prepared(document=document)  # GraphQL's own validation will say why
        try:
            check(document, operation, self.limits)
        except GraphQLError as error:
            return Prepared(document=document, operation=operation, error=error)
        return Prepared(
            document=document, operation=operation, personal=_asks_who(document, operation)
        )


# GraphQL's lexical tokens, roughly: strings and block strings, names, numbers, punctuators;
# and comments, counted apart. Enough to refuse a flood of tokens without the parser.
TOKEN = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""|"(?:[^"\\\n]|\\.)*"'
    r"|[_A-Za-z][_0-9A-Za-z]*|-?\d[\d.eE+-]*|\.\.\.|[!$&()\[\]{}:=@|]|(#[^\n\r]*)"
)


def _tokens_exceed(query: str, limit: int) -> bool:
    """Whether the document has more than `limit` tokens or comments: a regular expression
    (in C) counts them and stops at the limit, so a refusal costs a small fraction of what
    Python's parser would spend reaching the same conclusion."""
    tokens = comments = 0
    for match in TOKEN.finditer(query):
        if match.group(1) is None:
            tokens += 1
        else:
            comments += 1
        if tokens > limit or comments > limit:
            return True
    return False


def _coded(error: GraphQLError, code: str) -> GraphQLError:
    return GraphQLError(
        error.message, source=error.source, positions=error.positions, extensions={"code": code}
    )


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [op for op in operations if name is None or (op.name and op.name.value == name)]
    return chosen[0] if len(chosen) == 1 else None


PERSONAL_ROOTS = frozenset({"me", "node"})  # `node` may be the caller's notification
PERSONAL = frozenset({"notifications"})  # each user's own, whoever's `User` it is asked on


def _asks_who(document: DocumentNode, operation: OperationDefinitionNode) -> bool:
    """Whether any field of the operation (through fragments too) answers differently for each
    caller: without one, an administrator's query answers alike for every administrator of the
    organization, and one execution can serve them all."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    pending: list[tuple[SelectionSetNode, bool]] = [(operation.selection_set, True)]
    seen: set[tuple[str, bool]] = set()
    while pending:
        selections, root = pending.pop()
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                if name in PERSONAL or (root and name in PERSONAL_ROOTS):
                    return True
                if selection.selection_set is not None:
                    pending.append((selection.selection_set, False))
            elif isinstance(selection, InlineFragmentNode):
                pending.append((selection.selection_set, root))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in fragments and (name, root) not in seen:
                    seen.add((name, root))
                    pending.append((fragments[name].selection_set, root))
    return False
