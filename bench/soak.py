"""A bounded soak on loopback: `python -m bench.soak` (figures in the README).

100 pollers (dashboards and learners, each polling every few seconds with If-None-Match) and a
handful of writers submitting training records run for a minute against `credgraph serve`.
Afterwards every acknowledged submission must be in the database, no request may have failed,
and the server's memory is sampled throughout to show it stays flat.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from bson import ObjectId

from bench.run import DASHBOARD, LEARNER, NOW, seed, served
from graph import ids
from store import embedded
from store.database import connect

SUBMIT = """
mutation($input: SubmitTrainingRecordInput!) {
  submitTrainingRecord(input: $input) { record { id } userErrors { code } }
}"""


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def main(learners: int, pollers: int, writers: int, seconds: float, every: float) -> None:
    server_db = embedded.acquire(Path(tempfile.mkdtemp()) / "soak-db")
    database = f"soak_{uuid.uuid4().hex[:6]}"
    try:
        admin, learner = await seed(server_db.uri, database, learners, 2)
        stats = {"requests": 0, "not_modified": 0, "failures": 0, "writes": 0}
        acknowledged: list[str] = []
        memory: list[float] = []
        async with served(server_db.uri, database, pollers + writers) as (http, server):
            deadline = time.monotonic() + seconds

            async def poller(index: int) -> None:
                as_admin = index % 2 == 0
                body = (
                    {"query": DASHBOARD, "variables": {"asOf": NOW.isoformat()}}
                    if as_admin
                    else {"query": LEARNER}
                )
                headers = {"Authorization": f"Bearer {admin if as_admin else learner}"}
                tag = None
                await asyncio.sleep(random.uniform(0, every))
                while time.monotonic() < deadline:
                    response = await http.post(
                        "/graphql",
                        json=body,
                        headers={**headers, **({"If-None-Match": tag} if tag else {})},
                    )
                    stats["requests"] += 1
                    if response.status_code == 304:
                        stats["not_modified"] += 1
                    elif response.status_code == 200 and "errors" not in response.json():
                        tag = response.headers.get("etag")
                    else:
                        stats["failures"] += 1
                    await asyncio.sleep(every)

            async def writer() -> None:
                headers = {"Authorization": f"Bearer {learner}"}
                while time.monotonic() < deadline:
                    key = uuid.uuid4().hex
                    response = await http.post(
                        "/graphql",
                        json={
                            "query": SUBMIT,
                            "variables": {
                                "input": {
                                    "type": "ADDITIONAL_TRAINING",
                                    "title": f"Soak {key}",
                                    "completedAt": "2026-05-01T00:00:00Z",
                                    "idempotencyKey": key,
                                }
                            },
                        },
                        headers=headers,
                    )
                    stats["requests"] += 1
                    payload = response.json().get("data") or {}
                    record = (payload.get("submitTrainingRecord") or {}).get("record")
                    if response.status_code == 200 and record:
                        acknowledged.append(record["id"])
                        stats["writes"] += 1
                    else:
                        stats["failures"] += 1
                    await asyncio.sleep(1.0)

            async def sampler() -> None:
                while time.monotonic() < deadline:
                    memory.append(rss_mib(server.pid))
                    await asyncio.sleep(5)

            started = time.monotonic()
            await asyncio.gather(
                *(poller(i) for i in range(pollers)), *(writer() for _ in range(writers)), sampler()
            )
            elapsed = time.monotonic() - started

        async with connect(server_db.uri, database=database, create_indexes=False) as db:
            wanted = [ObjectId(ids.decode(gid)[1]) for gid in acknowledged]
            stored = await db.db.records.count_documents({"_id": {"$in": wanted}})
    finally:
        server_db.stop()

    lost = len(acknowledged) - stored
    print(
        f"`python -m bench.soak`, {datetime.now(UTC):%Y-%m-%d}: {pollers} pollers (every "
        f"{every:.0f} s) + {writers} writers, {elapsed:.0f} s, {learners} learners.\n"
        f"requests {stats['requests']} ({stats['requests'] / elapsed:.0f}/s), "
        f"304s {stats['not_modified']}, failures {stats['failures']}; "
        f"submissions acknowledged {len(acknowledged)}, lost {lost}; "
        f"server memory (MiB, every 5 s): {', '.join(f'{m:.0f}' for m in memory)}"
    )
    if stats["failures"] or lost:
        raise SystemExit(1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=100)
    parser.add_argument("--pollers", type=int, default=100)
    parser.add_argument("--writers", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--every", type=float, default=5, help="seconds between a poller's polls")
    args = parser.parse_args()
    asyncio.run(main(args.learners, args.pollers, args.writers, args.seconds, args.every))
