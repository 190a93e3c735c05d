"""The schema; `schema.graphql` is its export (`strawberry export-schema graph.schema:schema`)."""

from __future__ import annotations

import strawberry

from graph.errors import ErrorCodes
from graph.mutations import Mutation
from graph.queries import NODE_TYPES, Query

schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    types=list(NODE_TYPES.values()),
    extensions=[ErrorCodes],
)
