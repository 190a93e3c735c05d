"""The caller of a plain HTTP route (not `/graphql`), and how its refusals answer: the same
tokens and codes as GraphQL, as HTTP statuses."""

from __future__ import annotations

from datetime import datetime

from starlette.requests import Request
from starlette.responses import JSONResponse

from graph.errors import UNAVAILABLE_MESSAGE, error_response
from resolvers.auth import Caller, authenticate
from resolvers.errors import Code, DomainError

STATUSES = {
    Code.UNAUTHENTICATED: 401,
    Code.FORBIDDEN: 403,
    Code.NOT_FOUND: 404,
    Code.FILE_TOO_LARGE: 413,
}


def now(request: Request) -> datetime:
    """The request's moment, by the app's clock: a plain route's answer is not polled with an
    ETag, so reading it here claims nothing (`graph.freshness`)."""
    return request.app.state.clock.now()


async def caller_of(request: Request) -> Caller | None:
    """The caller the request's bearer token names; None without one; `UNAUTHENTICATED` for a
    token that fails."""
    state = request.app.state
    session = await authenticate(
        state.database,
        request.headers.get("authorization"),
        secret=state.settings.secret,
        now=now(request),
        issuers=state.issuers,
    )
    return session.caller if session else None


def refusal(error: DomainError) -> JSONResponse:
    """A resolver's refusal as an HTTP answer: 401, 403, 404, 413, else 400, with its code."""
    return error_response(STATUSES.get(error.code, 400), error.code, error.message)


def unavailable() -> JSONResponse:
    return error_response(503, Code.SERVICE_UNAVAILABLE, UNAVAILABLE_MESSAGE)
