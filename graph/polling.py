"""Cheap repeated polls: ETags that change exactly when an answer may, and persisted queries.

A query's tag covers the document, the variables, the caller and the organization's data
version (advanced after every write), plus the current moment when the answer reads the clock:
to the second for `status`, `expiresIn` and friends without an `asOf`, to the day for criteria
evaluation (a document's end date). An `If-None-Match` that matches is answered 304 before any
resolver runs.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    parse,
    visit,
)
from graphql.language import Visitor

SECOND, DAY = "second", "day"
SECOND_FIELDS = {"status", "expiresIn", "canStart", "complianceSummary", "stats"}
FILTERED_LISTS = {"credentials", "assignments"}
TIME_FILTERS = {"status", "dueBefore", "expiringBefore"}
DAY_FIELDS = {"completion", "criteria", "tasks"}


@dataclass(frozen=True, slots=True)
class Shape:
    """What an operation is, as far as caching cares."""

    operation: OperationType
    clock: str | None  # None, DAY or SECOND: how finely its answer depends on now


class _ClockReader(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.clock: str | None = None

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        name = node.name.value
        arguments = {argument.name.value for argument in node.arguments or ()}
        if "asOf" in arguments:
            return
        if name in SECOND_FIELDS or (name in FILTERED_LISTS and arguments & TIME_FILTERS):
            self.clock = SECOND
        elif name in DAY_FIELDS and self.clock is None:
            self.clock = DAY


@lru_cache(maxsize=512)
def shape(query: str, operation_name: str | None) -> Shape | None:
    """The operation's shape, or None when the document does not parse (GraphQL will say why)."""
    try:
        document: DocumentNode = parse(query)
    except GraphQLError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [
        op
        for op in operations
        if operation_name is None or (op.name and op.name.value == operation_name)
    ]
    if len(chosen) != 1:
        return None
    reader = _ClockReader()
    visit(document, reader)  # fragments included: a conservative reading of the whole document
    return Shape(operation=chosen[0].operation, clock=reader.clock)


def etag(
    *,
    query: str,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    user_id: str,
    data_version: int,
    clock: str | None,
    now: datetime,
) -> str:
    moment = ""
    if clock == SECOND:
        moment = now.strftime("%Y-%m-%dT%H:%M:%S")
    elif clock == DAY:
        moment = now.strftime("%Y-%m-%d")
    material = json.dumps(
        [query, operation_name, variables, user_id, data_version, moment],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return '"' + hashlib.sha256(material.encode()).hexdigest()[:32] + '"'


def matches(tag: str, if_none_match: str | None) -> bool:
    if not if_none_match:
        return False
    offered = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return tag in offered or "*" in offered


class PersistedQueries:
    """Automatic persisted queries: documents by their SHA-256, most recently used kept.

    Per process: a client whose hash another worker has not seen gets
    `PERSISTED_QUERY_NOT_FOUND` once and sends the document again.
    """

    def __init__(self, capacity: int = 2048) -> None:
        self.capacity = capacity
        self.documents: OrderedDict[str, str] = OrderedDict()

    def get(self, digest: str) -> str | None:
        query = self.documents.get(digest)
        if query is not None:
            self.documents.move_to_end(digest)
        return query

    def put(self, digest: str, query: str) -> None:
        self.documents[digest] = query
        self.documents.move_to_end(digest)
        while len(self.documents) > self.capacity:
            self.documents.popitem(last=False)


def digest(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()
