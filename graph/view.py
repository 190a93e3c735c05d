"""The `/graphql` endpoint: Strawberry's ASGI view with credgraph's context, error shapes,
HTTP caching for polls (see `graph.polling`) and automatic persisted queries."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import GraphQLError, OperationType
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types import ExecutionResult

from graph import logs, media, polling
from graph.admission import RETRY_AFTER_SECONDS, Admission, Overloaded
from graph.context import Context
from graph.edge import visiting
from graph.errors import UNAVAILABLE_MESSAGE, error_response, parse_failure_code
from graph.gate import Prepared
from graph.schema import Schema
from graph.sharing import Answer, SharedAnswers
from resolvers import writes
from resolvers.auth import Session, authenticate
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
CACHE_HEADERS = {"Cache-Control": "private, no-cache", "Vary": "Authorization, Accept"}


def _place(operations: dict[str, Any], path: str, upload: object) -> None:
    """Put a file at `path` (e.g. `variables.input.document`), which must hold a null (or, in
    an object, be absent)."""
    *parents, last = path.split(".")
    target: Any = operations
    try:
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if isinstance(target, list):
            index = int(last)
            if target[index] is not None:
                raise KeyError(last)
            target[index] = upload
        elif isinstance(target, dict) and target.get(last) is None:
            target[last] = upload
        else:
            raise KeyError(last)
    except (KeyError, IndexError, ValueError, TypeError) as error:
        raise HTTPException(400, f"{path!r} does not lead to a null in operations") from error


def _refusal(error: GraphQLError, legacy: bool) -> JSONResponse:
    """A document the gate refused: a limit is a 400; a document that does not parse too,
    except for a legacy `application/json` client, to which GraphQL answers 200."""
    parse_failure = (error.extensions or {}).get("code") == "GRAPHQL_PARSE_FAILED"
    return JSONResponse(
        {"errors": [error.formatted]}, status_code=200 if parse_failure and legacy else 400
    )


def _operation_label(given: str | None, prepared: Prepared | None) -> str:
    """What logs and metrics call the operation: its name (sent, or in the document), else its
    kind (`query`, `mutation`)."""
    operation = prepared.operation if prepared else None
    if given or operation is None:
        return given or ""
    return operation.name.value if operation.name else operation.operation.value


def _key(
    request: Request,
    data: GraphQLRequestData,
    prepared: Prepared | None,
    session: Session | None,
) -> polling.Key | None:
    """What a query's answer is made of (`graph.polling`); None but for a caller's query.
    The audience is the caller, or all who answer alike (`Caller.audience`) when nothing in
    the query depends on which of them asks — one answer they can share (`graph.sharing`)."""
    if session is None or prepared is None or prepared.kind is not OperationType.QUERY:
        return None
    caller = session.caller
    return polling.Key(
        query=data.query or "",
        operation_name=data.operation_name,
        variables=data.variables,
        audience=caller.id if prepared.personal else caller.audience,
        data_version=session.data_version,
        media=media.of(request.scope),
    )


class _DatabaseDown(Exception):
    """Raised when the caller cannot even be authenticated."""


class _NotModified(Exception):
    def __init__(self, tag: str) -> None:
        self.tag = tag


class _PersistedQueryNotFound(Exception):
    pass


class _Refused(Exception):
    """The gate refused the document: answered before authentication or execution."""

    def __init__(self, error: GraphQLError) -> None:
        self.error = error


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, schema: Schema, *, admission: Admission, **kwargs: Any) -> None:
        super().__init__(schema, **kwargs)
        self.gate = schema.gate
        self.admission = admission
        self.persisted = polling.PersistedQueries()
        self.shared = SharedAnswers()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await error_response(400, "BAD_REQUEST", "only HTTP is served here")(
                scope, receive, send
            )
            return
        request = Request(scope, receive)
        wanted = media.remember(scope, request.headers.get("accept"))
        response = await self._respond(request, legacy=wanted == media.JSON)
        if response.headers.get("content-type") == media.JSON:
            response.headers["content-type"] = wanted
        await response(scope, receive, send)

    async def _respond(self, request: Request, legacy: bool) -> Response:
        try:
            return await self.run(request)
        except HTTPException as error:
            code = HTTP_CODES.get(error.status_code, "BAD_REQUEST")
            allowed = "POST" if request.method == "GET" else "GET, POST"
            allow = {"Allow": allowed} if error.status_code == 405 else {}
            return error_response(error.status_code, code, error.reason, **allow)
        except _Refused as refused:
            return _refusal(refused.error, legacy)
        except _NotModified as unchanged:
            return Response(status_code=304, headers={"ETag": unchanged.tag, **CACHE_HEADERS})
        except _PersistedQueryNotFound:
            return error_response(
                200 if legacy else 400, "PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound"
            )
        except _DatabaseDown:
            return error_response(
                503, Code.SERVICE_UNAVAILABLE, UNAVAILABLE_MESSAGE, **{"Retry-After": "5"}
            )
        except Overloaded:
            return error_response(
                503,
                Code.SERVICE_UNAVAILABLE,
                "The server is busy; ask again shortly.",
                **{"Retry-After": str(RETRY_AFTER_SECONDS)},
            )

    async def get_context(self, request: Request, response: Response) -> Context:  # type: ignore[override]
        """The request's context; the caller is authenticated later, once the document has
        passed the gate (a refused document costs no database work)."""
        state: Any = request.app.state
        return Context(
            request=request,
            response=response,
            db=state.database,
            settings=state.settings,
            clock=state.clock,
            _now=state.clock.now(),
        )

    async def _authenticate(self, context: Context) -> None:
        try:
            context.session = await authenticate(
                context.db,
                context.request.headers.get("authorization"),
                secret=context.settings.secret,
                now=context.started,
                issuers=context.request.app.state.issuers,
            )
        except DomainError as error:
            context.auth_error = error
        except Unavailable as error:
            raise _DatabaseDown from error

    async def execute_single(
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Refuse what the gate refuses; answer an unchanged poll with 304 before any resolver
        runs; tag fresh answers."""
        if not isinstance(request_data.operation_name, str | None):
            raise HTTPException(400, "operationName must be a string or null")
        request_data, registering = self._with_persisted_query(request_data)
        prepared = (
            await self.gate.prepared(request_data.query, request_data.operation_name)
            if request_data.query
            else None
        )
        if prepared is not None and prepared.error is not None:
            raise _Refused(prepared.error)
        kind = prepared.kind if prepared is not None else None
        if request.method == "GET" and kind is not None and kind is not OperationType.QUERY:
            raise HTTPException(405, f"a {kind.value} must be sent with POST")
        await request.app.state.issuers.settled(request.headers.get("authorization"))
        async with self.admission.slot():  # from reading the caller to the answer
            return await self._answer(
                request, request_adapter, sub_response, context, request_data, prepared, registering
            )

    async def _answer(
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Response,
        context: Context,
        request_data: GraphQLRequestData,
        prepared: Prepared | None,
        registering: str | None,
    ) -> ExecutionResult:
        """Authenticate, then answer: 304 for an unchanged poll, else an execution (shared
        with identical requests, `graph.sharing`), tagged."""
        context.prepared = prepared
        await self._authenticate(context)
        session = context.session
        logs.note(
            request.scope,
            operation=_operation_label(request_data.operation_name, prepared),
            organization=session.caller.org_id if session else "",
        )
        if registering is not None and session is not None and request_data.query:
            self.persisted.put(registering, request_data.query)

        async def execute() -> Answer:
            result = await super(GraphQLView, self).execute_single(
                request=request,
                request_adapter=request_adapter,
                sub_response=sub_response,
                context=context,
                root_value=None,
                request_data=request_data,
            )
            return Answer(result, context.freshness.until)

        if prepared is not None and prepared.kind is OperationType.QUERY:
            sub_response.headers.update(CACHE_HEADERS)
        key = _key(request, request_data, prepared, session)
        if prepared is not None and prepared.kind is OperationType.MUTATION:
            async with writes.one_change(context.db):
                result = (await execute()).result
        elif key is None:
            result = (await execute()).result
        else:
            held = key.unchanged(request.headers.get("if-none-match"), context.started)
            if held is not None:
                raise _NotModified(held)
            answer = await self.shared.answer(key, context.started, execute)
            result = answer.result
            if not result.errors:
                sub_response.headers["ETag"] = key.tag(answer.until)
        if media.never_executed(request.scope, result.data, result.errors):
            sub_response.status_code = 400
        return result

    def _with_persisted_query(
        self, data: GraphQLRequestData
    ) -> tuple[GraphQLRequestData, str | None]:
        """The request with its persisted document, and the hash to register its document
        under (for an authenticated caller) when it sends one."""
        persisted = (data.extensions or {}).get("persistedQuery")
        if not isinstance(persisted, dict):
            return data, None
        wanted = persisted.get("sha256Hash")
        if not isinstance(wanted, str):
            raise HTTPException(400, "persistedQuery.sha256Hash must be a string")
        if data.query is None:
            query = self.persisted.get(wanted)
            if query is None:
                raise _PersistedQueryNotFound
            return dataclasses.replace(data, query=query), None
        if polling.digest(data.query) != wanted:
            raise HTTPException(400, "persistedQuery.sha256Hash does not match the query")
        return data, wanted

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """Every error leaves with a code: those raised while parsing never reach `ErrorCodes`.
        A request never executed has no `data` in the newer media type."""
        response = await super().process_result(request, result)
        if media.never_executed(request.scope, result.data, result.errors):
            response.pop("data", None)
        errors: list[dict[str, Any]] = response.get("errors") or []  # type: ignore[assignment]
        for error in errors:
            extensions = error.setdefault("extensions", {})
            extensions.setdefault("code", parse_failure_code(str(error.get("message", ""))))
        return response

    def parse_json(self, data: str | bytes) -> object:
        """A JSON object — every JSON this endpoint reads (a request, a multipart request's
        `operations` and `map`) is one — parsed by orjson, which refuses absurd nesting (as
        JSONDecodeError, hence a 400) where the standard library would overflow the stack."""
        parsed = orjson.loads(data)
        if not isinstance(parsed, dict):
            raise HTTPException(400, "expected a JSON object")
        return parsed

    async def parse_multipart(self, request: Any) -> dict[str, Any]:
        """A GraphQL multipart request (github.com/jaydenseric/graphql-multipart-request-spec),
        every part of its shape checked: each file goes where a `null` placeholder waits."""
        try:
            form = await request.get_form_data()
        except (ValueError, StarletteHTTPException) as error:
            raise HTTPException(400, "unable to parse the multipart body") from error
        operations = form.form.get("operations")
        files_map = form.form.get("map", "{}")
        if not isinstance(operations, str | bytes) or not isinstance(files_map, str | bytes):
            raise HTTPException(400, "a multipart request needs `operations` and `map` fields")
        parsed = self.parse_json(operations)
        assert isinstance(parsed, dict)
        for key, paths in dict(self.parse_json(files_map)).items():  # type: ignore[call-overload]
            upload = form.files.get(key)
            if upload is None:
                raise HTTPException(400, f"map names {key!r}, which is not a file part")
            if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
                raise HTTPException(400, f"map[{key!r}] must be a list of paths")
            for path in paths:
                _place(parsed, path, upload)
        return parsed

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def should_render_graphql_ide(self, request: Any) -> bool:
        """GraphiQL for a browser's visit (share links included)."""
        return visiting(request.method, request.headers.get("accept", ""))

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse(GRAPHIQL)
