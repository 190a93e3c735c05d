"""The schema; `schema.graphql` is its export (`strawberry export-schema graph.schema:schema`).

`build` makes one with the configured request limits; `schema` has the defaults.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from graph.errors import ErrorCodes, log_unexpected
from graph.gate import Gate, Prepared
from graph.limits import Limits
from graph.mutations import Mutation
from graph.queries import ENTITIES, Query
from graph.types.time import LONG, Long

DEFAULT_MAX_LENGTH = 1024 * 1024


class Schema(strawberry.Schema):
    gate: Gate

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_unexpected(errors)


class PreparedDocuments(SchemaExtension):
    """Hands Strawberry the document the gate already parsed and measured, and remembers its
    validation: a repeated document is parsed and validated once."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.prepared: Prepared | None = None

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query is not None:
            # The view's, when it ran the gate (a large document is not cached to be found again)
            self.prepared = getattr(context.context, "prepared", None) or self.gate.prepare(
                context.query, context.operation_name
            )
            context.graphql_document = self.prepared.document
        yield

    def on_validate(self) -> Iterator[None]:
        prepared, context = self.prepared, self.execution_context
        if prepared is not None and prepared.validation is not None:
            context.pre_execution_errors = list(prepared.validation)
        yield
        if prepared is not None and prepared.validation is None:
            prepared.validation = list(context.pre_execution_errors or ())


def build(
    limits: Limits | None = None,
    *,
    introspection: bool = True,
    max_length: int = DEFAULT_MAX_LENGTH,
    extensions: Sequence[Any] = (),
) -> Schema:
    """The schema with its request limits; `extensions` adds more (the tests' witnesses)."""
    limits = limits or Limits()
    built: Schema
    added: list[Any] = [ErrorCodes, lambda: PreparedDocuments(built.gate)]
    if not introspection:
        added.append(lambda: AddValidationRules([NoSchemaIntrospectionCustomRule]))
    built = Schema(
        query=Query,
        mutation=Mutation,
        types=list(ENTITIES),
        extensions=[*added, *extensions],
        config=StrawberryConfig(scalar_map={Long: LONG}),
    )
    built.gate = Gate(built._schema, limits, max_length=max_length)
    return built


schema = build()
