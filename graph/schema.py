"""The schema; `schema.graphql` is its export (`strawberry export-schema graph.schema:schema`)."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.types import ExecutionContext

from graph.errors import ErrorCodes, log_unexpected
from graph.mutations import Mutation
from graph.queries import ENTITIES, Query


class Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_unexpected(errors)


schema = Schema(
    query=Query,
    mutation=Mutation,
    types=list(ENTITIES),
    extensions=[
        ErrorCodes,
        lambda: ParserCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
    ],
)
