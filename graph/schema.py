"""The schema; `schema.graphql` is its export (`strawberry export-schema graph.schema:schema`).

`build` makes one with the configured request limits; `schema` has the defaults.
"""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.types import ExecutionContext

from graph.errors import ErrorCodes, log_unexpected
from graph.limits import Limits, rules
from graph.mutations import Mutation
from graph.queries import ENTITIES, Query


class Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_unexpected(errors)


def build(limits: Limits | None = None, *, introspection: bool = True) -> Schema:
    limits = limits or Limits()
    validation = rules(limits)
    if not introspection:
        validation.append(NoSchemaIntrospectionCustomRule)
    extensions: list[Any] = [
        ErrorCodes,
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: ParserCache(maxsize=512),
        lambda: AddValidationRules(validation),
        lambda: ValidationCache(maxsize=512),
    ]
    return Schema(query=Query, mutation=Mutation, types=list(ENTITIES), extensions=extensions)


schema = build()
