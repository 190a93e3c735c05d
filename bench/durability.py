"""What durability costs the embedded database: `python -m bench.durability`.

The same writes, side by side in one run, against an embedded SecantusDB that syncs every
commit to disk (the default: a `kill -9` loses no acknowledged write) and one that does not
(`CREDGRAPH_EMBEDDED_DURABLE=false`): raw acknowledged inserts through PyMongo, and a mutation
through the in-process app. What a sync costs depends on the disk: `--dir` puts the databases
on the one to measure (default: the temporary directory's). Prints a table; `--out FILE` also
writes it.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import httpx
from pymongo import MongoClient

from bench.common import SECRET
from graph.app import create_app
from graph.settings import Settings
from resolvers import tokens, users
from resolvers.clock import SystemClock
from store import embedded

CREATE = "mutation($name: String!) { createLabel(input: {name: $name}) { userErrors { code } } }"


def raw_inserts(uri: str, count: int) -> list[float]:
    with MongoClient(uri) as client:
        collection = client.bench.writes
        samples = []
        for n in range(count):
            started = time.perf_counter()
            collection.insert_one({"n": n, "padding": "x" * 200})
            samples.append(time.perf_counter() - started)
        return samples


async def mutations(uri: str, data_dir: Path, count: int) -> list[float]:
    settings = Settings(data_dir=data_dir, secret=SECRET, mongodb_uri=uri)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        now = SystemClock().now()
        _, admin = await users.bootstrap(
            app.state.database, org_name="Bench", admin_email="a@b.test", admin_name="A", now=now
        )
        token = tokens.issue(admin, secret=SECRET, ttl=settings.token_ttl, now=now)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            headers = {"Authorization": f"Bearer {token}"}

            async def create(n: int) -> None:
                response = await http.post(
                    "/graphql",
                    json={"query": CREATE, "variables": {"name": f"label {n}"}},
                    headers=headers,
                )
                assert response.json()["data"]["createLabel"]["userErrors"] == []

            return await timed(create, count)


async def timed(call: Callable[[int], Awaitable[None]], count: int) -> list[float]:
    samples = []
    for n in range(count):
        started = time.perf_counter()
        await call(n)
        samples.append(time.perf_counter() - started)
    return samples


def measure(count: int, where: Path | None) -> dict[bool, dict[str, list[float]]]:
    results: dict[bool, dict[str, list[float]]] = {}
    for durable in (True, False):
        data_dir = Path(tempfile.mkdtemp(dir=where))
        server = embedded.acquire(data_dir / "db", durable=durable)
        try:
            results[durable] = {
                "raw insert (PyMongo, acknowledged)": raw_inserts(server.uri, count),
                "`createLabel` mutation (in-process app)": asyncio.run(
                    mutations(server.uri, data_dir, count // 2)
                ),
            }
        finally:
            server.stop()
    return results


def report(results: dict[bool, dict[str, list[float]]], count: int) -> str:
    lines = [
        f"`python -m bench.durability`, {datetime.now(UTC):%Y-%m-%d}, sequential writes "
        f"({count} inserts, {count // 2} mutations), medians; SecantusDB "
        f"{metadata.version('SecantusDB')}.",
        "",
        "| write | durable ms | writes/s | not durable ms | writes/s | durable costs |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name in results[True]:
        durable = statistics.median(results[True][name])
        fast = statistics.median(results[False][name])
        lines.append(
            f"| {name} | {durable * 1000:.2f} | {1 / durable:.0f} | {fast * 1000:.2f} | "
            f"{1 / fast:.0f} | {durable / fast:.1f}x |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--out", type=Path, help="also write the table here")
    parser.add_argument("--dir", type=Path, help="put the databases here (the disk to measure)")
    args = parser.parse_args()
    text = report(measure(args.count, args.dir), args.count)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
