"""How failures reach clients: every GraphQL error carries `extensions.code`, never a trace.

Resolvers raise `DomainError`. In a mutation it becomes a `userErrors` entry (expected failures
change nothing); elsewhere, and for authentication and role gates, a GraphQL error with the same
code. A store outage is `SERVICE_UNAVAILABLE`; anything unexpected is logged and masked as
`INTERNAL_SERVER_ERROR`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import strawberry
from graphql import GraphQLError
from starlette.responses import JSONResponse
from strawberry.extensions import SchemaExtension

from graph.enums import Code
from resolvers.errors import AccessError, DomainError
from store.errors import Unavailable

log = logging.getLogger("credgraph")
T = TypeVar("T")


TOKEN_LIMIT = "Document contains more than"
UNAVAILABLE_MESSAGE = "the database is unavailable; try again shortly"
INTERNAL_MESSAGE = "internal server error"


@strawberry.type(description="An expected failure of a mutation; nothing was changed.")
class UserError:
    field: str | None
    message: str
    code: Code


async def attempt(work: Callable[[], Awaitable[T]]) -> tuple[T | None, list[UserError]]:
    """Run a mutation's work, turning its expected failures into `userErrors`.

    A thunk (`lambda: resolver(..., ids.db_id(input.x, ...))`), not an awaitable, so that
    decoding ids and dates — which raise `INVALID_ID`, `INVALID_DATE` — happens inside the
    call, where a failure becomes a user error, whatever order the arguments are written in."""
    try:
        return await work(), []
    except AccessError:
        raise
    except DomainError as error:
        return None, [UserError(field=error.field, message=error.message, code=error.code)]


def classify(error: GraphQLError, phase: str | None) -> tuple[str, str]:
    """(code, message) a client may see for one error; `phase` names a pre-execution failure."""
    original = error.original_error
    if error.extensions and error.extensions.get("code"):
        return error.extensions["code"], error.message
    if phase is not None:
        return phase, error.message
    if isinstance(original, DomainError):
        return original.code, original.message
    if isinstance(original, Unavailable):
        return Code.SERVICE_UNAVAILABLE, UNAVAILABLE_MESSAGE
    if original is None or isinstance(original, GraphQLError):
        # Not from a resolver: the variables did not fit their declared types.
        return "BAD_USER_INPUT", error.message
    return Code.INTERNAL_SERVER_ERROR, INTERNAL_MESSAGE


def parse_failure_code(message: str) -> str:
    """The code of an error raised while parsing, where no extension sees it: the parser cache
    and the token limit raise from their own hooks, ahead of `ErrorCodes`."""
    return "TOO_MANY_TOKENS" if TOKEN_LIMIT in message else "GRAPHQL_PARSE_FAILED"


def log_unexpected(errors: list[GraphQLError]) -> None:
    """Log what a client cannot fix (with its traceback, server-side only); skip the rest."""
    for error in errors:
        original = error.original_error
        if original is None or isinstance(original, GraphQLError | DomainError | Unavailable):
            continue
        log.error("%s at %s", type(original).__name__, error.path, exc_info=original)


def with_code(error: GraphQLError, phase: str | None = None) -> GraphQLError:
    code, message = classify(error, phase)
    extensions = {**(error.extensions or {}), "code": str(code)}
    if isinstance(error.original_error, DomainError) and error.original_error.field:
        extensions["field"] = error.original_error.field
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=extensions,
    )


class ErrorCodes(SchemaExtension):
    """Rewrite each error of a result once, after the whole operation (not per field)."""

    def __init__(self) -> None:
        self.phases: dict[int, str] = {}

    def _remember(self, phase: str) -> None:
        for error in self.execution_context.pre_execution_errors or ():
            self.phases.setdefault(id(error), phase)

    def on_validate(self) -> Iterator[None]:
        yield
        self._remember("GRAPHQL_VALIDATION_FAILED")

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [with_code(e, self.phases.get(id(e))) for e in result.errors]


def error_response(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    """A GraphQL-shaped error body for failures that happen before execution."""
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]},
        status_code=status,
        headers=headers or None,
    )
