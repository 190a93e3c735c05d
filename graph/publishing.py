"""The public routes verifiers use, without a token: `POST /verify` checks a presented
credential; `GET /issuers/{organization}` is the issuer's profile, `…/jwks` its public keys;
`GET /status/{organization}/{list}` a signed revocation list (`resolvers.publications`).

They answer any origin (`AnyOrigin`): a wallet or a verifier running in a browser reads them
as a server would, whatever `CREDGRAPH_CORS_ORIGINS` lists for the API. Nothing they answer
depends on who asks, and no credentials (cookies, tokens) are ever taken from a browser.

A presented credential is read up to `MAX_PRESENTED` bytes (413 beyond) as the compact JWT
itself, or as JSON: the JWT as a string, `{"credential": "<jwt>"}`, or an
`EnvelopedVerifiableCredential` whose `id` is `data:application/vc+jwt,<jwt>`. What cannot be
read that way is a 400 saying so; a readable one gets a 200 whose `valid` says whether it
verifies and, when not, the `reason` code (`resolvers.verification`).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable
from typing import Any, TypeVar

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph.bearer import unavailable
from graph.errors import error_response
from graph.settings import Settings, display_host
from resolvers import publications, verification
from resolvers.links import Links
from resolvers.signing import MEDIA_TYPE
from resolvers.status_lists import CACHED
from resolvers.verification import MAX_PRESENTED, Reason, Verdict
from store.errors import Unavailable

T = TypeVar("T")
PUBLISHED = f"public, max-age={CACHED.seconds}"  # keys and lists: verifiers may keep them
ENVELOPE = "data:application/vc+jwt,"
PATHS = ("/verify", "/issuers/", "/status/")
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "86400",
}


class AnyOrigin:
    """CORS for the public routes, ahead of the API's own (`CORSMiddleware`, which knows only
    the origins it was given): any origin may read them, and ask first."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PATHS):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await Response(status_code=204, headers=PREFLIGHT_HEADERS)(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer = MutableHeaders(scope=message)
                answer["Access-Control-Allow-Origin"] = "*"
            await send(message)

        await self.app(scope, receive, sending)


def links(settings: Settings) -> Links:
    """Where credentials say their issuer, keys and lists are: the public URL, else the
    address `credgraph serve` listens on (fit for development only)."""
    return Links(settings.public_url or f"http://{display_host(settings.host)}:{settings.port}")


async def verify(request: Request) -> Response:
    state = request.app.state
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_PRESENTED:
            return _verdict(
                Verdict(Reason.MALFORMED, f"a credential is at most {MAX_PRESENTED} bytes"), 413
            )
    token = _presented(bytes(body))
    if token is None:
        message = "send the credential's JWT, or JSON holding it (see the README)"
        return _verdict(Verdict(Reason.MALFORMED, message), 400)
    try:
        found = await verification.verify(
            state.database, token, links=links(state.settings), now=state.clock.now()
        )
    except Unavailable:
        return unavailable()
    return _verdict(found, 400 if found.reason is Reason.MALFORMED else 200)


def _verdict(found: Verdict, status: int) -> JSONResponse:
    return JSONResponse(found.to_json(), status_code=status, headers={"Cache-Control": "no-store"})


def _presented(body: bytes) -> str | None:
    """The compact JWT in a request body, however it was wrapped; None when there is none."""
    try:
        text = body.decode().strip()
    except UnicodeDecodeError:
        return None
    if text[:1] in ('"', "{"):
        try:
            found: Any = json.loads(text)
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than Python's
            return None
        if isinstance(found, dict):
            found = found.get("credential", found.get("id"))
        if isinstance(found, str):
            text = found.removeprefix(ENVELOPE)
        else:
            return None
    return text if text.count(".") == 2 and text.isascii() else None


async def issuer(request: Request) -> Response:
    state = request.app.state
    found = await _published(
        publications.profile(state.database, links(state.settings), request.path_params["org"])
    )
    return found if isinstance(found, Response) else _json(found)


async def keys(request: Request) -> Response:
    found = await _published(
        publications.keys(request.app.state.database, request.path_params["org"])
    )
    return found if isinstance(found, Response) else _json(found)


async def status_list(request: Request) -> Response:
    state = request.app.state
    if request.url.path.rsplit("/", 1)[-1] != str(request.path_params["number"]):
        return error_response(
            404, "NOT_FOUND", "a list's number is written without zeros before it"
        )
    found = await _published(
        publications.status_list(
            state.database,
            links(state.settings),
            request.path_params["org"],
            request.path_params["number"],
            secret=state.settings.secret,
            now=state.clock.now(),
        )
    )
    if isinstance(found, Response):
        return found
    return Response(found, media_type=MEDIA_TYPE, headers={"Cache-Control": PUBLISHED})


async def _published(pending: Awaitable[T | None]) -> T | Response:
    """What a publication answered, or the response for nothing there / no database."""
    try:
        found = await pending
    except Unavailable:
        return unavailable()
    if found is None:
        return error_response(404, "NOT_FOUND", "no such organization or status list")
    return found


def _json(found: Any) -> Response:
    return JSONResponse(found, headers={"Cache-Control": PUBLISHED})
