"""The `/graphql` endpoint: Strawberry's ASGI view with credgraph's context and error shapes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL

from graph.context import Context
from graph.errors import UNAVAILABLE_MESSAGE
from resolvers.auth import authenticate
from resolvers.documents import size_text
from resolvers.errors import Code, DomainError
from store.errors import Unavailable

GRAPHIQL = (Path(__file__).parent / "static" / "graphiql.html").read_text()

HTTP_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


def error_response(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    """A GraphQL-shaped error body for failures that happen before execution."""
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]},
        status_code=status,
        headers=headers or None,
    )


FORM_OVERHEAD = 1024 * 1024


def _too_large(request: Request) -> bool:
    """A multipart body announced larger than any acceptable document, refused unread."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return False
    try:
        length = int(request.headers.get("content-length", "0"))
    except ValueError:
        return False
    return length > request.app.state.settings.max_document + FORM_OVERHEAD


class _DatabaseDown(Exception):
    """Raised from `get_context` when the caller cannot even be authenticated."""


class GraphQLView(GraphQL[Context, None]):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await error_response(400, "BAD_REQUEST", "only HTTP is served here")(
                scope, receive, send
            )
            return
        request = Request(scope, receive)
        if _too_large(request):
            limit = request.app.state.settings.max_document
            response = error_response(
                413, "PAYLOAD_TOO_LARGE", f"an upload is at most {size_text(limit)}"
            )
            await response(scope, receive, send)
            return
        try:
            response = await self.run(request)
        except HTTPException as error:
            code = HTTP_CODES.get(error.status_code, "BAD_REQUEST")
            response = error_response(error.status_code, code, error.reason)
        except _DatabaseDown:
            response = error_response(
                503, Code.SERVICE_UNAVAILABLE, UNAVAILABLE_MESSAGE, **{"Retry-After": "5"}
            )
        await response(scope, receive, send)

    async def get_context(self, request: Request, response: Response) -> Context:  # type: ignore[override]
        state: Any = request.app.state
        context = Context(
            request=request,
            response=response,
            db=state.database,
            settings=state.settings,
            clock=state.clock,
            now=state.clock.now(),
        )
        try:
            context.caller = await authenticate(
                context.db,
                request.headers.get("authorization"),
                secret=context.settings.secret,
                now=context.now,
            )
        except DomainError as error:
            context.auth_error = error
        except Unavailable as error:
            raise _DatabaseDown from error
        return context

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse(GRAPHIQL)
