"""Logs: one JSON object per line for collectors, plain lines for a person at a terminal.

Every request leaves one line — its id (the client's `X-Request-Id`, else a new one, echoed
back), method, path, status, duration, and for GraphQL the operation and the caller's
organization — written by `RequestLog`, ASGI middleware around the whole app, which also
counts it for `/metrics`.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph import metrics

log = logging.getLogger("credgraph")
requests = logging.getLogger("credgraph.request")
REQUEST_ID = re.compile(r"[\w.-]{1,64}")
FIELDS = ("request_id", "method", "path", "status", "duration_ms", "operation", "organization")


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({key: getattr(record, key) for key in FIELDS if hasattr(record, key)})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class PlainLines(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(message)s", datefmt="%H:%M:%S")


def configure(*, json_lines: bool) -> None:
    """Route credgraph's and uvicorn's logs to stderr in one format (idempotent)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines() if json_lines else PlainLines())
    for name in ("credgraph", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = [handler] if name != "uvicorn.error" else []
        logger.setLevel(logging.INFO)
        logger.propagate = name == "uvicorn.error"
    logging.getLogger("uvicorn.access").disabled = True  # RequestLog says more


def note(scope: Scope, **facts: str) -> None:
    """Tell the request's log line something only the app knows (operation, organization)."""
    scope.setdefault("state", {}).setdefault("log", {}).update(facts)


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get("x-request-id", "")
        request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append("X-Request-Id", request_id)
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            facts = scope.get("state", {}).get("log", {})
            seconds = time.perf_counter() - started
            metrics.observe(scope["path"], facts.get("operation", ""), status, seconds)
            duration = round(seconds * 1000, 2)
            requests.info(
                "%s %s %s %.2f ms%s",
                scope["method"],
                scope["path"],
                status,
                duration,
                f" {facts['operation']}" if facts.get("operation") else "",
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": duration,
                    **facts,
                },
            )
