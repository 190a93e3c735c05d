"""The `/graphql` endpoint: Strawberry's ASGI view with credgraph's context, error shapes,
HTTP caching for polls (see `graph.polling`) and automatic persisted queries."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import OperationType
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types import ExecutionResult

from graph import polling
from graph.context import Context
from graph.errors import UNAVAILABLE_MESSAGE, parse_failure_code
from resolvers.auth import authenticate
from resolvers.documents import size_text
from resolvers.errors import Code, DomainError
from store import organizations
from store.errors import Unavailable

GRAPHIQL = (Path(__file__).parent / "static" / "graphiql.html").read_text()

HTTP_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}
FORM_OVERHEAD = 1024 * 1024
CACHE_HEADERS = {"Cache-Control": "private, no-cache", "Vary": "Authorization"}


def error_response(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    """A GraphQL-shaped error body for failures that happen before execution."""
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]},
        status_code=status,
        headers=headers or None,
    )


class _DatabaseDown(Exception):
    """Raised from `get_context` when the caller cannot even be authenticated."""


class _NotModified(Exception):
    def __init__(self, tag: str) -> None:
        self.tag = tag


class _PersistedQueryNotFound(Exception):
    pass


PREFLIGHTED = ("authorization", "apollo-require-preflight", "x-apollo-operation-name")


def _forgeable(request: Request) -> bool:
    """A request a cross-site form or link could send: a GET or multipart POST carrying no
    header that would make a browser ask first (the way Apollo's CSRF prevention works).
    A browser visiting for GraphiQL is let through: that page runs no operation."""
    content_type = request.headers.get("content-type", "")
    simple = request.method == "GET" or content_type.startswith("multipart/form-data")
    if not simple or any(name in request.headers for name in PREFLIGHTED):
        return False
    return not _visiting(request)


def _visiting(request: Any) -> bool:
    """A GET that carries no operation: a visit to the page, not a query."""
    params = request.query_params
    return request.method == "GET" and not (params.get("query") or params.get("extensions"))


def _body_limit(request: Request) -> int:
    """How large a body may be: a document plus its form for uploads, else `max_body`."""
    settings = request.app.state.settings
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        return int(settings.max_document + FORM_OVERHEAD)
    return int(settings.max_body)


def _too_large(request: Request) -> bool:
    """A body announced larger than the limit, refused unread."""
    try:
        length = int(request.headers.get("content-length", "0"))
    except ValueError:
        return False
    return length > _body_limit(request)


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.persisted = polling.PersistedQueries()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await error_response(400, "BAD_REQUEST", "only HTTP is served here")(
                scope, receive, send
            )
            return
        request = Request(scope, receive)
        if _forgeable(request):
            response: Response = error_response(
                400,
                "CSRF_PREFLIGHT_REQUIRED",
                "GET and multipart requests need an Authorization or "
                "Apollo-Require-Preflight header",
            )
        elif _too_large(request):
            response = error_response(
                413, "PAYLOAD_TOO_LARGE", f"a request is at most {size_text(_body_limit(request))}"
            )
        else:
            response = await self._respond(request)
        await response(scope, receive, send)

    async def _respond(self, request: Request) -> Response:
        try:
            return await self.run(request)
        except HTTPException as error:
            code = HTTP_CODES.get(error.status_code, "BAD_REQUEST")
            return error_response(error.status_code, code, error.reason)
        except _NotModified as unchanged:
            return Response(status_code=304, headers={"ETag": unchanged.tag, **CACHE_HEADERS})
        except _PersistedQueryNotFound:
            return error_response(200, "PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")
        except _DatabaseDown:
            return error_response(
                503, Code.SERVICE_UNAVAILABLE, UNAVAILABLE_MESSAGE, **{"Retry-After": "5"}
            )

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
            context.session = await authenticate(
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

    async def execute_single(  # type: ignore[override]
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Answer an unchanged poll with 304 before any resolver runs; tag fresh answers."""
        request_data = self._with_persisted_query(request_data)
        shape = (
            polling.shape(request_data.query, request_data.operation_name)
            if request_data.query
            else None
        )
        session = context.session
        tag = None
        if shape is not None and shape.operation is OperationType.QUERY:
            sub_response.headers.update(CACHE_HEADERS)
            if session is not None:
                tag = polling.etag(
                    query=request_data.query or "",
                    operation_name=request_data.operation_name,
                    variables=request_data.variables,
                    user_id=session.user.id,
                    data_version=session.data_version,
                    clock=shape.clock,
                    now=context.now,
                )
                if polling.matches(tag, request.headers.get("if-none-match")):
                    raise _NotModified(tag)
        result = await super().execute_single(
            request=request,
            request_adapter=request_adapter,
            sub_response=sub_response,
            context=context,
            root_value=root_value,
            request_data=request_data,
        )
        if tag is not None and not result.errors:
            sub_response.headers["ETag"] = tag
        if shape is not None and shape.operation is OperationType.MUTATION and session is not None:
            await organizations.touch(context.db, id=session.user.org_id)
        return result

    def _with_persisted_query(self, data: GraphQLRequestData) -> GraphQLRequestData:
        persisted = (data.extensions or {}).get("persistedQuery")
        if not isinstance(persisted, dict):
            return data
        wanted = persisted.get("sha256Hash")
        if not isinstance(wanted, str):
            raise HTTPException(400, "persistedQuery.sha256Hash must be a string")
        if data.query is None:
            query = self.persisted.get(wanted)
            if query is None:
                raise _PersistedQueryNotFound
            return dataclasses.replace(data, query=query)
        if polling.digest(data.query) != wanted:
            raise HTTPException(400, "persistedQuery.sha256Hash does not match the query")
        self.persisted.put(wanted, data.query)
        return data

    async def process_result(  # type: ignore[override]
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """Every error leaves with a code: those raised while parsing never reach `ErrorCodes`."""
        response = await super().process_result(request, result)
        for error in response.get("errors") or ():
            extensions = error.setdefault("extensions", {})
            extensions.setdefault("code", parse_failure_code(str(error.get("message", ""))))
        return response

    def parse_json(self, data: str | bytes) -> object:
        """orjson: fast, and it refuses absurd nesting (as JSONDecodeError, hence a 400) where
        the standard library would overflow the stack."""
        return orjson.loads(data)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def should_render_graphql_ide(self, request: Any) -> bool:
        """GraphiQL for a browser's plain visit; a GET carrying a persisted query is a query."""
        return _visiting(request) and "text/html" in request.headers.get("accept", "")

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse(GRAPHIQL)
