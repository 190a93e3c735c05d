"""`/metrics` for Prometheus: requests by route, operation and status (a poll answered 304 is a
`status="304"`), their durations, and what `store.metrics` counts of the database.

Operation names come from clients, so at most `MAX_OPERATIONS` distinct ones get a label of
their own per process; the rest are counted as `other` — a stranger inventing names cannot
grow the server's memory. Under several workers (`PROMETHEUS_MULTIPROC_DIR` set by
`credgraph serve`), every scrape adds up what each worker wrote.
"""

from __future__ import annotations

import hmac
import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.requests import Request
from starlette.responses import Response

from graph.errors import error_response

MAX_OPERATIONS = 200
ROUTES = ("/graphql", "/documents", "/healthz", "/metrics", "/static", "/dashboard")

REQUESTS = Counter(
    "credgraph_requests",
    "HTTP requests answered, by route, GraphQL operation and status.",
    ["route", "operation", "status"],
)
DURATION = Histogram(
    "credgraph_request_duration_seconds",
    "How long requests took, from the first byte received to the last sent.",
    ["route", "operation"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
_operations: set[str] = set()


def observe(path: str, operation: str, status: int, seconds: float) -> None:
    route = next((r for r in ROUTES if path == r or path.startswith(r + "/")), "other")
    if operation not in _operations:
        if len(_operations) >= MAX_OPERATIONS:
            operation = "other"
        else:
            _operations.add(operation)
    REQUESTS.labels(route, operation, str(status)).inc()
    DURATION.labels(route, operation).observe(seconds)


async def endpoint(request: Request) -> Response:
    """The scrape; with `CREDGRAPH_METRICS_TOKEN` set, only for a bearer of it."""
    token = request.app.state.settings.metrics_token
    if token and not hmac.compare_digest(
        request.headers.get("authorization", "").encode(), f"Bearer {token}".encode()
    ):
        challenge = {"WWW-Authenticate": "Bearer"}
        return error_response(401, "UNAUTHENTICATED", "/metrics needs its token", **challenge)
    return Response(generate_latest(_registry()), media_type=CONTENT_TYPE_LATEST)


def _registry() -> CollectorRegistry:
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry
