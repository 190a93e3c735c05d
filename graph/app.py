"""The ASGI application — `/graphql` (GraphiQL for a browser), `/dashboard`, `/documents/…`,
`/healthz`, `/metrics`, the pages' `/static` files, and what verifiers of credentials use
(`/verify`, `/issuers/…`, `/status/…`) — with the database opened in the lifespan."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import threading
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from pymongo import monitoring
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from graph import imports as import_routes
from graph import logs, metrics, publishing
from graph.admission import Admission
from graph.documents import document
from graph.edge import Edge, page_headers
from graph.errors import error_response
from graph.exports import assignments_csv
from graph.schema import build
from graph.settings import Settings
from graph.types.feed import FeedEvent
from graph.view import GraphQLView
from resolvers import extensions, imports, reminders, webhooks, writes
from resolvers.assignments import reconcile
from resolvers.clock import Clock, SystemClock
from resolvers.records import redeliver
from resolvers.sso import Issuers
from store.database import Database, open_database
from store.errors import StoreError, Unavailable

log = logging.getLogger("credgraph")
HEALTH_TIMEOUT = 1.0
STATIC = Path(__file__).parent / "static"  # GraphiQL's and the dashboard's, from the package
FORM_OVERHEAD = 1024 * 1024  # a multipart body: the document plus its form fields
CORS_MAX_AGE = 86_400  # browsers cap it (Chrome: 2 h), but pollers need not preflight each poll
DASHBOARD = (STATIC / "dashboard" / "dashboard.html").read_bytes()
DASHBOARD_HEADERS = {**page_headers(inline_styles=False), "Cache-Control": "no-cache"}


async def healthz(request: Request) -> Response:
    """200 when the database answers a ping within a second, else 503. Anyone may ask, so the
    answer says only that; why the database is unavailable goes to the log."""
    try:
        await request.app.state.database.ping(seconds=HEALTH_TIMEOUT)
    except Unavailable as error:
        log.warning("health check: %s", error)
        return JSONResponse({"status": "unavailable", "database": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


async def _reconcile(database: Database, clock: Clock, runs: imports.Runs) -> None:
    """Finish what a crash may have interrupted (see `resolvers.assignments.reconcile`), and
    resume the imports a stopped process gave up."""
    try:
        copied = await writes.repair(database)
        told = await redeliver(database, now=clock.now())
        await extensions.reapply(database, now=clock.now())
        learners = await reconcile(database, now=clock.now())
        resumed = await runs.resume()
    except StoreError as error:
        log.warning("could not reconcile at start-up: %s", error)
    else:
        log.info(
            "start-up repair: %d letters copied, %d decisions told, %d learners reconciled, "
            "%d imports resumed",
            copied, told, learners, resumed,
        )  # fmt: skip


async def _no_route(request: Request, error: Exception) -> Response:
    """No such address, or not that method: answered as every other refusal is, in JSON."""
    assert isinstance(error, HTTPException)
    code = "NOT_FOUND" if error.status_code == 404 else "METHOD_NOT_ALLOWED"
    return error_response(error.status_code, code, error.detail, **(error.headers or {}))


async def home(request: Request) -> Response:
    return RedirectResponse("/graphql")


async def dashboard(request: Request) -> Response:
    """The reference compliance dashboard (`graph/static/dashboard`): it takes its token from
    the URL fragment (`/dashboard#token=…`, never sent here) and polls `/graphql`."""
    return HTMLResponse(DASHBOARD, headers=DASHBOARD_HEADERS)


def from_environment() -> Starlette:
    """The ASGI factory for any server: `uvicorn --factory graph.app:from_environment` (each
    worker reads the same environment `credgraph serve` documents)."""
    settings = Settings.load(os.environ)
    logs.configure(json_lines=settings.json_logs)
    if parent := os.environ.get(SUPERVISOR):
        _leave_with(int(parent))
    app = create_app(settings)
    # What start-up built (modules, the schema, the gate) lives as long as the process; frozen,
    # the cyclic collector stops walking it on every collection a request's garbage triggers.
    gc.freeze()
    return app


SUPERVISOR = "CREDGRAPH_SUPERVISOR_PID"  # set by `credgraph serve` for its workers


def _leave_with(parent: int) -> None:
    """A worker whose `credgraph serve` has died stops too (gracefully, leaving the embedded
    database to whoever still uses it) rather than serve on as an orphan."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        log.warning("credgraph serve (pid %s) is gone; this worker stops", parent)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    listeners: Sequence[monitoring._EventListener] = (),
    extensions: Sequence[Any] = (),
) -> Starlette:
    """An app for `settings`; nothing touches the database until the lifespan starts."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_database(
            settings.mongodb_uri,
            data_dir=settings.data_dir,
            database=settings.database,
            seconds=settings.db_timeout,
            listeners=listeners,
            durable=settings.embedded_durable,
            supervised=True,
        ) as database:
            app.state.database = database
            clock = app.state.clock
            runs = app.state.imports = imports.Runs(database, clock)
            app.state.repair = asyncio.create_task(_reconcile(database, clock, runs))
            loops = [
                writes.run(database, every=writes.REPAIR_EVERY),
                runs.watch(writes.REPAIR_EVERY),
            ]
            if settings.reminder_every > 0:
                loops.append(reminders.run(database, clock, every=settings.reminder_every))
            if settings.webhook_every > 0:
                loops.append(
                    webhooks.run(
                        database, clock, every=settings.webhook_every, render=FeedEvent.payload
                    )
                )
            running = [asyncio.create_task(loop) for loop in loops]
            try:
                yield
            finally:
                app.state.repair.cancel()
                for task in running:
                    task.cancel()
                await runs.stop()

    middleware = [
        Middleware(logs.RequestLog),
        Middleware(
            Edge,
            max_body=settings.max_body,
            max_upload=settings.max_document + FORM_OVERHEAD,
            body_timeout=settings.body_timeout,
            max_file=imports.MAX_FILE,
        ),
        Middleware(publishing.AnyOrigin),
    ]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=[
                    "Authorization",
                    "Content-Type",
                    "If-None-Match",
                    "Apollo-Require-Preflight",
                    "X-Apollo-Operation-Name",
                ],
                expose_headers=["ETag"],
                max_age=CORS_MAX_AGE,
            )
        )
    app = Starlette(
        middleware=middleware,
        routes=[
            Route("/", home),
            Route("/dashboard", dashboard),
            Route("/healthz", healthz),
            Route("/metrics", metrics.endpoint),
            Route(
                "/graphql",
                GraphQLView(
                    build(
                        settings.limits,
                        introspection=settings.introspection,
                        max_length=settings.max_body,
                        extensions=extensions,
                    ),
                    admission=Admission(
                        concurrent=settings.max_concurrent,
                        waiting=settings.max_waiting,
                        patience=settings.db_timeout,
                    ),
                    multipart_uploads_enabled=True,
                ),
                methods=["GET", "POST"],
            ),
            Route("/documents/{record_id}", document, name="document"),
            Route("/verify", publishing.verify, methods=["POST"]),
            Route("/issuers/{org}", publishing.issuer),
            Route("/issuers/{org}/jwks", publishing.keys),
            Route("/status/{org}/{number:int}", publishing.status_list),
            Route("/exports/assignments.csv", assignments_csv, name="assignments_csv"),
            Route("/imports", import_routes.upload, methods=["POST"], name="imports"),
            Route("/imports/{import_id}", import_routes.progress, name="import"),
            Mount("/static", GZipMiddleware(StaticFiles(directory=STATIC)), name="static"),
        ],
        lifespan=lifespan,
        exception_handlers={404: _no_route, 405: _no_route},
    )
    app.state.settings = settings
    app.state.clock = clock or SystemClock()
    app.state.issuers = Issuers()  # single sign-on's keys, cached for the app's lifetime
    return app
