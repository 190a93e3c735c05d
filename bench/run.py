"""credgraph's benchmark: `python -m bench.run` (see the README's Performance section).

Seeds N learners x M credentials in a throw-away SecantusDB and prints, side by side in one run:
database round trips per request for N = 10, 100, 1000; the dashboard query through GraphQL
right after a write (and with its summaries and lists built afresh) against a raw baseline (one
aggregation + json.dumps) and against graphql-core executing the same document over
pre-fetched data; an unchanged poll (304) against a full execution; and 50
concurrent pollers against a real uvicorn on loopback. Prints the table; `--out FILE` also
writes it (the checkout is not written to unless asked).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
from graphql import build_schema, execute, parse
from pymongo import monitoring

from bench.common import SECRET, free_port, median_seconds
from bench.seed import organization
from graph.app import create_app
from graph.settings import Settings
from resolvers import kept, tokens
from resolvers.clock import FrozenClock
from store import assignments, embedded, organizations
from store.assignments import Assignment
from store.database import connect

ROOT = Path(__file__).parent.parent
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
DASHBOARD = """
query Dashboard($asOf: DateTime!) {
  complianceSummary(asOf: $asOf) {
    total notYetAvailable notStarted inProgress completed overdue expired
    expiringSoon dueSoon pendingRecords
  }
  assignments(asOf: $asOf, first: 50) {
    totalCount
    edges { node {
      id status(asOf: $asOf) dueDate validUntil learner { name } credential { name }
    } }
  }
}"""
LEARNER = """
{ me { credentials(first: 100) { totalCount edges { node {
    id status expiresIn { seconds } completedAt validUntil
    credential { name criteriaExpression }
    completion { progress nextSteps { title } }
    tasks { state action requirement { title course { title } } enrollment { status } }
} } } } }"""


class Commands(monitoring.CommandListener):
    """Counts the commands sent: a request's database round trips."""

    def __init__(self) -> None:
        self.count = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.count += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


_fresh = itertools.count()


def fresh(body: dict[str, Any]) -> dict[str, Any]:
    """The same document under a comment never sent before: a key of its own, so it is
    executed rather than answered from a shared or kept answer (`graph.sharing`)."""
    return {**body, "query": f"{body['query']}\n# {next(_fresh)}"}


async def seed(uri: str, database: str, learners: int, credentials: int) -> tuple[str, str]:
    """Seed one organization; tokens for its administrator and one of its learners."""
    async with connect(uri, database=database, seconds=30) as db:
        admin, people = await organization(
            db,
            name=f"Bench{learners}",
            learners=learners,
            credentials_per_learner=credentials,
            now=NOW,
        )
    ttl = Settings(data_dir=Path("."), secret=SECRET).token_ttl
    now = datetime.now(UTC)  # the uvicorn server checks expiry on the real clock
    return (
        tokens.issue(admin, secret=SECRET, ttl=ttl, now=now),
        tokens.issue(people[len(people) // 2], secret=SECRET, ttl=ttl, now=now),
    )


async def in_process(
    uri: str, database: str, admin: str, learner: str, repeat: int
) -> dict[str, Any]:
    """Round trips and timings through the ASGI app, without a network in between."""
    commands = Commands()
    settings = Settings(
        data_dir=Path(tempfile.mkdtemp()), secret=SECRET, mongodb_uri=uri, database=database
    )
    app = create_app(settings, clock=FrozenClock(NOW), listeners=[commands])
    body = {"query": DASHBOARD, "variables": {"asOf": NOW.isoformat()}}
    as_admin = {"Authorization": f"Bearer {admin}"}
    async with app.router.lifespan_context(app):
        await app.state.repair
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:

            async def trips(payload: dict[str, Any], token: str) -> int:
                commands.count = 0
                response = await http.post(
                    "/graphql", json=payload, headers={"Authorization": f"Bearer {token}"}
                )
                assert "errors" not in response.json(), response.text
                return commands.count

            started = time.perf_counter()
            result: dict[str, Any] = {"dashboard_trips": await trips(body, admin)}
            result["cold"] = time.perf_counter() - started  # the organization's cycles read whole
            result["learner_trips"] = await trips({"query": LEARNER}, learner)
            if not repeat:
                return result

            async def full() -> None:
                await http.post("/graphql", json=fresh(body), headers=as_admin)

            async def afresh() -> None:
                kept.forget()  # as when a date passes: every summary and list built again
                await full()

            result["full"] = await after_writes(uri, database, full, repeat)
            result["afresh"] = await median_seconds(afresh, repeat)
            first = await http.post("/graphql", json=body, headers=as_admin)
            unchanged = {**as_admin, "If-None-Match": first.headers["etag"]}

            async def poll() -> None:
                response = await http.post("/graphql", json=body, headers=unchanged)
                assert response.status_code == 304

            result["poll_304"] = await median_seconds(poll, repeat)
            result["answer"] = first.json()["data"]
    return result


async def after_writes(
    uri: str, database: str, execute: Callable[[], Awaitable[None]], repeat: int
) -> float:
    """The median execution right after a write that changed one cycle, as a dashboard's
    next poll meets it: a cycle's derived fields saved and the data version advanced, as the
    API's writes do (untimed), then the execution (timed)."""
    async with connect(uri, database=database, seconds=30) as db:
        found = db.db.assignments.find({}, limit=repeat + 3)
        cycles = [Assignment.from_doc(doc) async for doc in found]
        samples = []
        for was in cycles:
            begun = None if was.started_at else was.start_date
            moved = replace(was, started_at=begun)
            assert await assignments.save(db, cycle=moved, was=was, now=datetime.now(UTC))
            await organizations.touch(db, id=was.org_id)
            started = time.perf_counter()
            await execute()
            samples.append(time.perf_counter() - started)
    return statistics.median(samples[3:])


def _by(field: str, as_of: datetime) -> dict[str, Any]:
    """The field is set and not after `as_of` (in expressions, null sorts before dates)."""
    return {"$and": [{"$ne": [{"$ifNull": [field, None]}, None]}, {"$lte": [field, as_of]}]}


def status_expression(as_of: datetime) -> dict[str, Any]:
    """The baseline's status: the rules of `Timeline.status` as one aggregation expression, so
    the raw floor pays for status in the database as a hand-written query would."""
    done = _by("$completedAt", as_of)
    return {
        "$switch": {
            "branches": [
                {"case": {"$and": [done, _by("$validUntil", as_of)]}, "then": "EXPIRED"},
                {"case": done, "then": "COMPLETED"},
                {"case": {"$gt": ["$startDate", as_of]}, "then": "NOT_YET_AVAILABLE"},
                {"case": {"$lte": ["$dueDate", as_of]}, "then": "OVERDUE"},
                {"case": _by("$startedAt", as_of), "then": "IN_PROGRESS"},
            ],
            "default": "NOT_STARTED",
        }
    }


async def raw_baseline(uri: str, database: str, org_name: str, repeat: int) -> float:
    """The dashboard's answer from one aggregation (plus the review queue's count), dumped,
    with the index a hand-written query would have for its page (credgraph has none such)."""
    async with connect(uri, database=database, seconds=30, create_indexes=False) as db:
        await db.db.assignments.create_index([("orgId", 1), ("dueDate", 1), ("_id", 1)])
        org = await db.db.organizations.find_one({"name": org_name})
        scope = {"orgId": org["_id"]}
        status = status_expression(NOW)
        page = [
            {"$sort": {"dueDate": 1, "_id": 1}},
            {"$limit": 50},
            {
                "$lookup": {
                    "from": "users",
                    "localField": "learnerId",
                    "foreignField": "_id",
                    "as": "learner",
                }
            },
            {
                "$lookup": {
                    "from": "credentials",
                    "localField": "credentialId",
                    "foreignField": "_id",
                    "as": "credential",
                }
            },
            {
                "$project": {
                    "dueDate": 1,
                    "validUntil": 1,
                    "status": status,
                    "learner": {"$first": "$learner.name"},
                    "credential": {"$first": "$credential.name"},
                }
            },
        ]
        pipeline = [
            {"$match": scope},
            {
                "$facet": {
                    "summary": [{"$group": {"_id": status, "n": {"$sum": 1}}}],
                    "total": [{"$count": "n"}],
                    "page": page,
                }
            },
        ]

        async def answer() -> str:
            (facets,) = await (await db.db.assignments.aggregate(pipeline)).to_list()
            pending = await db.db.records.count_documents({**scope, "status": "PENDING"})
            return json.dumps({**facets, "pending": pending}, default=str)

        return await median_seconds(answer, repeat)


def executor_floor(answer: dict[str, Any], repeat: int) -> float:
    """graphql-core executing the dashboard document over the already-fetched answer."""
    schema = build_schema((ROOT / "schema.graphql").read_text())
    document = parse(DASHBOARD)
    variables = {"asOf": NOW.isoformat()}
    samples = []
    for _ in range(repeat + 3):
        started = time.perf_counter()
        result = execute(schema, document, root_value=answer, variable_values=variables)
        samples.append(time.perf_counter() - started)
        assert not result.errors, result.errors
    return statistics.median(samples[3:])


async def hammer(
    http: httpx.AsyncClient,
    body: Callable[[], dict[str, Any]],
    headers: dict[str, str],
    pollers: int,
    seconds: float,
) -> dict[str, float]:
    """`pollers` clients posting `body()` back to back for `seconds`: throughput, latency."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def poller() -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            response = await http.post("/graphql", json=body(), headers=headers)
            latencies.append(time.perf_counter() - started)
            errors += response.status_code not in (200, 304)

    began = time.perf_counter()
    await asyncio.gather(*(poller() for _ in range(pollers)))
    elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
    }


def peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


@asynccontextmanager
async def served(
    uri: str, database: str, connections: int
) -> AsyncIterator[tuple[httpx.AsyncClient, asyncio.subprocess.Process]]:
    """`credgraph serve` (a real uvicorn) on a loopback port, and a client for it."""
    port = free_port()
    env = {
        **os.environ,
        "CREDGRAPH_SECRET": SECRET,
        "CREDGRAPH_DATA_DIR": tempfile.mkdtemp(),
    }
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "graph",
        "serve",
        "--port",
        str(port),
        "--mongodb-uri",
        uri.replace("/?", f"/{database}?"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    limits = httpx.Limits(max_connections=connections)
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=120, limits=limits
        ) as http:
            for _ in range(300):
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/healthz")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("credgraph serve never became healthy")
            yield http, server
    finally:
        server.send_signal(signal.SIGTERM)
        await asyncio.wait_for(server.wait(), 30)


async def under_load(
    uri: str, database: str, admin: str, pollers: int, seconds: float
) -> dict[str, Any]:
    """Concurrent pollers against a real server: full executions, then conditional polls."""
    body = {"query": DASHBOARD, "variables": {"asOf": NOW.isoformat()}}
    headers = {"Authorization": f"Bearer {admin}"}
    async with served(uri, database, pollers) as (http, server):
        tag = (await http.post("/graphql", json=body, headers=headers)).headers["etag"]
        conditional = {**headers, "If-None-Match": tag}
        return {
            "full": await hammer(http, lambda: fresh(body), headers, pollers, seconds),
            "conditional": await hammer(http, lambda: body, conditional, pollers, seconds),
            "peak_rss_mib": peak_rss_kib(server.pid) / 1024,
        }


def row(*cells: object) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def report(
    sizes: list[int],
    credentials: int,
    trips: dict[int, dict[str, Any]],
    timings: dict[str, float],
    load: dict[str, Any],
    pollers: int,
    seconds: float,
) -> str:
    largest = max(sizes)
    full = timings["full"]
    lines = [
        f"`python -m bench.run`, {datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} cores, "
        f"SecantusDB {version('SecantusDB')}.",
        "",
        row("database round trips per request", *(f"N = {n}" for n in sizes)),
        row("---", *("---" for _ in sizes)),
        row("dashboard (summary + 50 assignments)", *(trips[n]["dashboard_trips"] for n in sizes)),
        row("learner (`me.credentials` with tasks)", *(trips[n]["learner_trips"] for n in sizes)),
        "",
        row(
            f"dashboard at N = {largest} ({largest * credentials} assignments), median",
            "ms",
            "ratio",
        ),
        row("---", "---", "---"),
        row(
            "GraphQL endpoint, full execution after a write (in process)",
            f"{full * 1000:.2f}",
            "1",
        ),
        row(
            "the same, summaries and lists built afresh (as when a date passes)",
            f"{timings['afresh'] * 1000:.2f}",
            f"{timings['afresh'] / full:.1f}x",
        ),
        row(
            "the same, first of the process (the organization's cycles read whole, once)",
            f"{timings['cold'] * 1000:.2f}",
            f"{timings['cold'] / full:.1f}x",
        ),
        row(
            "raw baseline: one aggregation + json.dumps",
            f"{timings['raw'] * 1000:.2f}",
            f"GraphQL is {full / timings['raw']:.2f}x",
        ),
        row(
            "graphql-core over pre-fetched data (executor floor)",
            f"{timings['floor'] * 1000:.2f}",
            f"GraphQL is {full / timings['floor']:.1f}x",
        ),
        row(
            "unchanged poll answered 304 (in process)",
            f"{timings['poll_304'] * 1000:.2f}",
            f"{full / timings['poll_304']:.1f}x cheaper",
        ),
        "",
        row(
            f"{pollers} concurrent pollers, {seconds:.0f} s, real uvicorn on loopback",
            "requests/s",
            "p50 ms",
            "p99 ms",
            "errors",
        ),
        row("---", "---", "---", "---", "---"),
    ]
    for mode, label in (
        ("full", "full executions (each a new document)"),
        ("conditional", "If-None-Match (304s)"),
    ):
        r = load[mode]
        lines.append(
            row(
                label,
                f"{r['rps']:.0f}",
                f"{r['p50_ms']:.1f}",
                f"{r['p99_ms']:.1f}",
                f"{r['errors']} of {r['requests']}",
            )
        )
    lines += ["", f"Server peak memory (VmHWM): {load['peak_rss_mib']:.0f} MiB."]
    return "\n".join(lines)


async def main(
    sizes: list[int], credentials: int, repeat: int, pollers: int, seconds: float
) -> str:
    server = embedded.acquire(Path(tempfile.mkdtemp()) / "bench-db")
    try:
        trips: dict[int, dict[str, Any]] = {}
        for n in sorted(sizes):
            database = f"bench_{n}_{uuid.uuid4().hex[:6]}"
            started = time.perf_counter()
            admin, learner = await seed(server.uri, database, n, credentials)
            seeded = time.perf_counter() - started
            largest = n == max(sizes)
            trips[n] = await in_process(server.uri, database, admin, learner, repeat * largest)
            print(
                f"N={n}: seeded in {seeded:.1f}s; round trips: dashboard "
                f"{trips[n]['dashboard_trips']}, learner {trips[n]['learner_trips']}",
                flush=True,
            )
        measured = trips[max(sizes)]
        timings = {
            "full": measured["full"],
            "afresh": measured["afresh"],
            "cold": measured["cold"],
            "poll_304": measured["poll_304"],
            "raw": await raw_baseline(server.uri, database, f"Bench{max(sizes)}", repeat),
            "floor": executor_floor(measured["answer"], repeat),
        }
        load = await under_load(server.uri, database, admin, pollers, seconds)
    finally:
        server.stop()
    return report(sizes, credentials, trips, timings, load, pollers, seconds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--credentials", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--pollers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--out", type=Path, help="also write the table here")
    args = parser.parse_args()
    text = asyncio.run(main(args.sizes, args.credentials, args.repeat, args.pollers, args.seconds))
    print("\n" + text)
    if args.out is not None:
        args.out.write_text(text + "\n")
