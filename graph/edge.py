"""The HTTP edge: what a request must pass before any GraphQL runs, as ASGI middleware (the way
Starlette's `TrustedHostMiddleware` and `CORSMiddleware` gate requests).

- CSRF: a GET or multipart POST to `/graphql` must carry a header a cross-site form cannot send
  (`Authorization`, `Apollo-Require-Preflight`); else 400 `CSRF_PREFLIGHT_REQUIRED`. A browser
  visiting the page gets GraphiQL, which runs nothing by itself.
- Body size, counted as the bytes arrive — announced or chunked alike: past the limit, 413
  `PAYLOAD_TOO_LARGE`, and nothing more is read.
- Slow bodies, on every route: a body that does not arrive within `body_timeout` — plus a
  second for every `SLOWEST` bytes its `Content-Length` announces, so a large CSV file sent
  over a slow link still gets through — is cut off with 408 `REQUEST_TIMEOUT`. (Slow headers
  never reach an ASGI app: `graph.serving` cuts those off.)
- HTML pages (GraphiQL) are served with a strict Content-Security-Policy that forbids framing.
"""

from __future__ import annotations

import asyncio
import time

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph.errors import error_response
from resolvers.documents import size_text

PREFLIGHTED = ("authorization", "apollo-require-preflight", "x-apollo-operation-name")
SLOWEST = 64 * 1024  # bytes a second: the slowest a large body may arrive


def page_headers(*, inline_styles: bool) -> dict[str, str]:
    """An HTML page's headers: a strict Content-Security-Policy — inline styles only where a
    page needs them (GraphiQL's editors set styles as they lay text out) — and no framing."""
    policy = (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'" if inline_styles else "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    )
    return {
        "Content-Security-Policy": "; ".join(policy),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


GRAPHIQL_HEADERS = [
    (name.lower().encode(), value.encode())
    for name, value in page_headers(inline_styles=True).items()
]


def visiting(method: str, accept: str) -> bool:
    """A browser's visit to the page (a navigation asks for HTML): GraphiQL, never an
    operation run — even a share link's `?query=` only fills its editor."""
    return method == "GET" and "text/html" in accept


class _TooLarge(Exception):
    pass


class _TooSlow(Exception):
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


class Edge:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body: int,
        max_upload: int,
        body_timeout: float,
        max_file: int,
        path: str = "/graphql",
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload
        self.body_timeout = body_timeout
        self.max_file = max_file  # the largest body another route takes: no more time than it
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["path"] != self.path:  # its route bounds its body's size, and says so its way
            await self._on_time(scope, self._counted(receive, headers, None), send)
            return
        multipart = headers.get("content-type", "").startswith("multipart/form-data")
        limit = self.max_upload if multipart else self.max_body
        if self._forgeable(scope, headers, multipart):
            refusal = error_response(
                400,
                "CSRF_PREFLIGHT_REQUIRED",
                "GET and multipart requests need an Authorization or Apollo-Require-Preflight "
                "header",
            )
            await refusal(scope, receive, send)
            return
        if _announced(headers) > limit:
            await self._too_large(limit)(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = _with_page_policy(message)
            await send(message)

        await self._on_time(scope, self._counted(receive, headers, limit), sending, limit)

    async def _on_time(
        self, scope: Scope, receive: Receive, send: Send, limit: int | None = None
    ) -> None:
        """Run the app, answering for a body cut off before any answer began."""
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except (_TooLarge, _TooSlow) as error:
            if started:
                raise
            if isinstance(error, _TooSlow):
                late = f"the body did not arrive within {error.seconds:g} s"
                response = error_response(408, "REQUEST_TIMEOUT", late)
            else:
                assert limit is not None
                response = self._too_large(limit)
            await response(scope, receive, send)

    def _forgeable(self, scope: Scope, headers: Headers, multipart: bool) -> bool:
        """A request a cross-site form or link could send: a GET or multipart POST carrying no
        header that would make a browser ask first (Apollo's CSRF prevention)."""
        method = scope["method"]
        if not (method == "GET" or multipart) or any(name in headers for name in PREFLIGHTED):
            return False
        return not visiting(method, headers.get("accept", ""))

    def _too_large(self, limit: int) -> JSONResponse:
        return error_response(413, "PAYLOAD_TOO_LARGE", f"a request is at most {size_text(limit)}")

    def _counted(self, receive: Receive, headers: Headers, limit: int | None) -> Receive:
        """`receive`, counting body bytes up to `limit` and keeping to the deadline."""
        received = 0
        complete = False
        allowed = min(_announced(headers), self.max_file if limit is None else limit)
        seconds = self.body_timeout + allowed / SLOWEST
        deadline = time.monotonic() + seconds

        async def counted() -> Message:
            nonlocal received, complete
            if complete:  # only a disconnect is left to hear of: no deadline for that
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                raise _TooSlow(seconds) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if limit is not None and received > limit:
                    raise _TooLarge
                complete = not message.get("more_body", False)
            return message

        return counted


def _announced(headers: Headers) -> int:
    try:
        return int(headers.get("content-length", "0"))
    except ValueError:
        return 0


def _with_page_policy(message: Message) -> Message:
    """HTML gets a strict Content-Security-Policy, and may not be framed."""
    raw = message.get("headers", [])
    if not any(k == b"content-type" and v.startswith(b"text/html") for k, v in raw):
        return message
    return {**message, "headers": [*raw, *GRAPHIQL_HEADERS]}
