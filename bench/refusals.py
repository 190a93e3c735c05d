"""What refusing a hostile request costs, next to a normal one: `python -m bench.refusals`.

Each hostile request of issue 10 is sent to the in-process app (a throw-away SecantusDB behind
it) and its median time set beside a signed-in `{ me { id name } }`: a refusal should cost no
more than a normal request, since a stranger can send as many as they like. Prints a table;
`--out FILE` also writes it (the checkout is not written to unless asked).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.common import SECRET, median_seconds
from graph.app import create_app
from graph.settings import Settings
from resolvers import tokens, users
from resolvers.clock import SystemClock
from store import embedded


def fragment_bomb(levels: int) -> str:
    fragments = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    return "{ ...F0 } " + " ".join(fragments) + f" fragment F{levels} on Query {{ __typename }}"


def hostile(max_body: int) -> dict[str, Callable[[int], dict[str, Any]]]:
    """Each request, as httpx.post keyword arguments for its n-th sending. GraphQL documents
    differ each time (a comment), so no cache answers them: what a stranger would send."""
    as_json = {"Content-Type": "application/json"}
    deep = "{ me " + "{ credentials { edges { node { learner " * 10 + "{ id }"
    deep += " } } } }" * 10 + " }"
    aliases = "{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }"
    costly = (
        "{ assignments(first: 100) { edges { node { learner { credentials(first: 100)"
        " { edges { node { tasks { state } } } } } } } } }"
    )
    unknown = {"persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(b"x").hexdigest()}}

    def document(query: str) -> Callable[[int], dict[str, Any]]:
        return lambda n: {"json": {"query": f"{query} # {n}"}}

    return {
        "fragment bomb, 2^40 paths (1 KB)": document(fragment_bomb(40)),
        "6,000 tokens": document("{ " + "a " * 6_000 + "}"),
        "nested 41 levels": document(deep),
        "31 aliases": document(aliases),
        "cost over 100,000": document(costly),
        "body over the limit (announced)": lambda n: {
            "content": b"{" + b" " * (max_body + 1) + b"}",
            "headers": as_json,
        },
        "malformed JSON": lambda n: {"content": b'{"query": ', "headers": as_json},
        "JSON that is not an object": lambda n: {"content": b"[1, 2, 3]", "headers": as_json},
        "multipart without a preflight header (CSRF)": lambda n: {
            "files": {"0": ("a.pdf", b"%PDF-", "application/pdf")},
            "data": {"operations": "{}", "map": "{}"},
        },
        "unknown persisted query": lambda n: {"json": {"extensions": unknown}},
    }


def sender(
    http: httpx.AsyncClient, make: Callable[[int], dict[str, Any]]
) -> Callable[[], Awaitable[Any]]:
    """Sends the request anew each time it is called (its n-th form)."""
    sent = itertools.count(1)

    async def send() -> None:
        await http.post("/graphql", **make(next(sent)))

    return send


async def measure(repeat: int) -> list[tuple[str, int, float]]:
    data_dir = Path(tempfile.mkdtemp())
    server = embedded.acquire(data_dir / "db")
    try:
        settings = Settings(data_dir=data_dir, secret=SECRET, mongodb_uri=server.uri)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            now = SystemClock().now()
            _, admin = await users.bootstrap(
                app.state.database,
                org_name="Refusals",
                admin_email="a@refusals.test",
                admin_name="A",
                now=now,
            )
            token = tokens.issue(admin, secret=SECRET, ttl=settings.token_ttl, now=now)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
                rows = []
                signed = {"Authorization": f"Bearer {token}"}
                requests = {
                    "normal `me` (signed in)": lambda n: {
                        "json": {"query": "{ me { id name } }"},
                        "headers": signed,
                    },
                    **hostile(settings.max_body),
                }
                for name, make in requests.items():
                    status = (await http.post("/graphql", **make(0))).status_code
                    rows.append((name, status, await median_seconds(sender(http, make), repeat)))
                return rows
    finally:
        server.stop()


def report(rows: list[tuple[str, int, float]], repeat: int) -> str:
    normal = rows[0][2]
    lines = [
        f"`python -m bench.refusals`, {datetime.now(UTC):%Y-%m-%d}, median of {repeat}, "
        "in process; every GraphQL document new (no cache).",
        "",
        "| request | status | ms | vs a normal request |",
        "| --- | --- | --- | --- |",
    ]
    for name, status, seconds in rows:
        lines.append(f"| {name} | {status} | {seconds * 1000:.2f} | {seconds / normal:.2f}x |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--out", type=Path, help="also write the table here")
    args = parser.parse_args()
    text = report(asyncio.run(measure(args.repeat)), args.repeat)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
