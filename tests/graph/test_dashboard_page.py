"""The reference dashboard, `GET /dashboard`: a page the server serves itself that polls
`/graphql` with the token from its URL fragment.

Over HTTP: the page and its assets (same origin only) are served, under a strict
Content-Security-Policy, and are package data. In Debian's Chromium (skipped without it unless
`CREDGRAPH_REQUIRE_BROWSER=1`, as in `test_graphiql_browser`), against a live `serve --demo`:
the counts match the API, a write shows within a polling interval, unchanged polls are 304s, and
the last answer stays on screen while the server is unavailable (a 503 with `Retry-After`, a
refused connection, a real restart).
"""

from __future__ import annotations

import fnmatch
import itertools
import json
import os
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.servers import CHROMIUM, FLAGS, Server

ROOT = Path(__file__).parents[2]
PAGE = ROOT / "graph" / "static" / "dashboard"
FIGURES = (
    "total",
    "notYetAvailable",
    "notStarted",
    "inProgress",
    "completed",
    "overdue",
    "expired",
    "expiringSoon",
    "dueSoon",
    "pendingRecords",
)
WITHIN = "expiringWithin: {amount: 60, unit: DAY}"  # as the page asks
SUMMARY = f"{{ complianceSummary({WITHIN}) {{ {' '.join(FIGURES)} }} }}"
EVERY = 1  # seconds: the page is opened with `&every=1`
MARGIN = 2.5  # seconds a change may take beyond one polling interval
browser = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CREDGRAPH_REQUIRE_BROWSER"),
    reason="no /usr/bin/chromium (apt install chromium); CI requires it",
)


class _References(HTMLParser):
    """What a page loads (scripts, stylesheets, icons), and whatever a CSP would refuse."""

    def __init__(self) -> None:
        super().__init__()
        self.references: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.inline += [name for name in attributes if name.startswith("on") or name == "style"]
        if tag == "script":
            self._in_script = True
            if attributes.get("src") is None:
                self.inline.append("<script> without src")
        for name in ("src", "href"):
            if tag in ("script", "link", "img") and attributes.get(name):
                self.references.append(attributes[name])

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append("an inline script")


async def test_the_page_and_only_same_origin_assets_are_served(http):
    page = await http.get("/dashboard")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer"

    parsed = _References()
    parsed.feed(page.text)
    assert parsed.inline == [], "inline script, handler or style: the CSP would refuse it"
    fetched = [ref for ref in parsed.references if not ref.startswith("data:")]
    assert "/static/dashboard/dashboard.js" in fetched
    assert "/static/dashboard/dashboard.css" in fetched
    for reference in fetched:
        where = urlsplit(reference)
        assert (where.scheme, where.netloc) == ("", ""), f"{reference} is not same-origin"
        assert reference.startswith("/"), reference
        asset = await http.get(reference)
        assert asset.status_code == 200, reference
        kind = "javascript" if reference.endswith(".js") else "css"
        assert kind in asset.headers["content-type"], reference


def test_the_page_is_package_data():
    """`pip install .` ships every file of the page (package data, as GraphiQL's assets)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["graph"]
    files = [path.relative_to(ROOT / "graph").as_posix() for path in PAGE.iterdir()]
    assert {"static/dashboard/dashboard.html", "static/dashboard/dashboard.js"} <= set(files)
    for name in files:
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), name


# ---- in Chromium ---------------------------------------------------------------------------


@dataclass
class Demo:
    """A live `credgraph serve --demo` that a test may stop and start again on its port."""

    data_dir: Path
    server: Server
    token: str
    port: str = field(init=False)

    def __post_init__(self) -> None:
        self.port = str(urlsplit(self.server.base).port)

    @property
    def base(self) -> str:
        return self.server.base

    def restart(self) -> None:
        self.server = Server(self.data_dir, port=self.port)
        self.server.wait_until_healthy()

    def data(self, query: str, variables: dict | None = None) -> dict:
        response = httpx.post(
            self.server.url,
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )
        body = response.json()
        assert "errors" not in body, body
        return body["data"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[Demo]:
    data_dir = tmp_path_factory.mktemp("dashboard")
    server = Server(data_dir, "--demo", "--demo-staff", "24")
    server.wait_until_healthy()
    token = server.wait_for(server.stdout, "token:").split("token:", 1)[1].strip()
    running = Demo(data_dir, server, token)
    yield running
    if running.server.process.poll() is None:
        running.server.stop()


@dataclass
class Seen:
    """What the page did: its `/graphql` answers (with a phase label), and what it must not."""

    polls: list[tuple[str, int]] = field(default_factory=list)
    phase: str = "start"
    elsewhere: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def statuses(self, phase: str) -> list[int]:
        return [status for label, status in self.polls if label == phase]


@contextmanager
def opened(demo: Demo) -> Iterator[tuple[object, Seen]]:
    """A Chromium page whose network reaches nothing but the server."""
    from playwright.sync_api import sync_playwright

    own = urlsplit(demo.base).netloc
    seen = Seen()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = chromium.new_page(locale="en-US", viewport={"width": 1600, "height": 1000})

        def route(request_route) -> None:
            if urlsplit(request_route.request.url).netloc in (own, ""):
                request_route.continue_()
            else:
                seen.elsewhere.append(request_route.request.url)
                request_route.abort()

        def answered(response) -> None:  # the polls, not the one-off ask for the name
            if '"operationName":"Dashboard"' in (response.request.post_data or ""):
                seen.polls.append((seen.phase, response.status))

        def console(message) -> None:
            if "Content Security Policy" in message.text:
                seen.refused.append(message.text)

        page.route("**/*", route)
        page.on("response", answered)
        page.on("console", console)
        try:
            yield page, seen
        finally:
            chromium.close()
    assert seen.elsewhere == [], "the page asked for something beyond the server"
    assert seen.refused == [], "the page broke its own Content-Security-Policy"


@browser
def test_without_a_valid_token_the_page_says_how_to_get_one(demo):
    from playwright.sync_api import expect

    with opened(demo) as (page, seen):
        page.goto(f"{demo.base}/dashboard")
        signin = page.get_by_test_id("signin")
        expect(signin).to_be_visible()
        expect(signin).to_contain_text("credgraph token EMAIL")
        expect(page.get_by_test_id("board")).to_be_hidden()
        page.wait_for_timeout(500)
        assert seen.polls == [], "a page without a token asked /graphql"

        page.goto("about:blank")
        page.goto(f"{demo.base}/dashboard#token=not-a-token")
        connection = page.get_by_test_id("connection")
        expect(connection).to_contain_text("invalid or expired")
        expect(signin).to_be_visible()
        assert "not-a-token" not in page.url


@browser
def test_the_dashboard_shows_writes_polls_conditionally_and_outlasts_outages(demo):
    from playwright.sync_api import expect

    before = demo.data(SUMMARY)["complianceSummary"]
    with opened(demo) as (page, seen):
        page.goto(f"{demo.base}/dashboard#token={demo.token}&every={EVERY}")
        total = page.get_by_test_id("total")
        for name in FIGURES:
            expect(page.get_by_test_id(name)).to_have_text(f"{before[name]:,}")
        expect(page.get_by_test_id("organization")).to_contain_text("Northwind Health")
        assert demo.token not in page.url
        assert "token=" not in page.url
        rows = page.get_by_test_id("overdueList").locator("tbody tr")
        expect(rows).to_have_count(min(20, before["overdue"]))
        connection = page.get_by_test_id("connection")
        expect(connection).to_contain_text("Live")

        # Unchanged: every poll after the first answer is a 304, and nothing is redrawn.
        page.wait_for_timeout((2 * EVERY + 0.5) * 1000)
        first, *unchanged = seen.statuses("start")
        assert first == 200
        assert len(unchanged) >= 2
        assert set(unchanged) == {304}, seen.polls
        board = page.get_by_test_id("board")
        expect(board).to_have_attribute("data-renders", "1")
        changed_at = page.get_by_test_id("lastChanged").get_attribute("datetime")

        # A write: a new learner, overdue on a credential, shows within one interval.
        seen.phase = "write"
        newcomer = "Nia Newcomer"
        now = datetime.now(UTC)
        credentials = demo.data("{ credentials { edges { node { id name } } } }")["credentials"]
        (credential,) = [
            edge["node"]["id"]
            for edge in credentials["edges"]
            if edge["node"]["name"] == "CPR Certification"
        ]
        created = demo.data(
            "mutation($input: CreateUserInput!) { createUser(input: $input) "
            "{ user { id } userErrors { message } } }",
            {"input": {"email": "nia.newcomer@northwind.example", "name": newcomer}},
        )["createUser"]
        assert created["userErrors"] == []
        assigned = demo.data(
            "mutation($input: AssignCredentialInput!) { assignCredential(input: $input) "
            "{ userErrors { message } } }",
            {
                "input": {
                    "credential": credential,
                    "learners": [created["user"]["id"]],
                    "startDate": (now - timedelta(days=400)).isoformat(),
                    "dueDate": (now - timedelta(days=300)).isoformat(),
                }
            },
        )["assignCredential"]
        assert assigned["userErrors"] == []
        written = time.monotonic()
        after = demo.data(SUMMARY)["complianceSummary"]
        assert (after["total"], after["overdue"]) == (before["total"] + 1, before["overdue"] + 1)

        within = (EVERY + MARGIN) * 1000
        expect(total).to_have_text(f"{after['total']:,}", timeout=within)
        assert time.monotonic() - written <= EVERY + MARGIN
        expect(page.get_by_test_id("overdue")).to_have_text(f"{after['overdue']:,}")
        expect(rows.first).to_contain_text(newcomer)  # the longest overdue comes first
        expect(board).to_have_attribute("data-renders", "2")
        assert page.get_by_test_id("lastChanged").get_attribute("datetime") != changed_at
        assert 200 in seen.statuses("write")

        # The server answers 503 with Retry-After: the last answer stays, the status says so,
        # and the page waits as long as it was told.
        seen.phase = "503"
        refusals: list[float] = []

        def unavailable(request_route) -> None:
            refusals.append(time.monotonic())
            request_route.fulfill(
                status=503,
                headers={"Retry-After": "2", "Content-Type": "application/json"},
                body=json.dumps(
                    {"errors": [{"message": "down", "extensions": {"code": "SERVICE_UNAVAILABLE"}}]}
                ),
            )

        page.route("**/graphql", unavailable)
        expect(connection).to_contain_text("unavailable", timeout=within)
        expect(connection).to_contain_text("retrying in 2 s")
        page.wait_for_timeout(4500)
        gaps = [later - earlier for earlier, later in itertools.pairwise(refusals)]
        assert gaps, refusals
        assert min(gaps) >= 1.8, f"Retry-After: 2 not honoured: {gaps}"
        expect(total).to_have_text(f"{after['total']:,}")
        expect(rows.first).to_contain_text(newcomer)
        page.unroute("**/graphql", unavailable)
        expect(connection).to_contain_text("Live", timeout=(2 + MARGIN) * 1000)
        expect(connection).not_to_contain_text("unavailable")

        # The connection is refused (a network error), then the server really stops and
        # starts again: the answer stays on screen throughout, and the page comes back.
        seen.phase = "down"

        def refused(request_route) -> None:
            request_route.abort("connectionrefused")

        page.route("**/graphql", refused)
        expect(connection).to_contain_text("unavailable", timeout=within)
        expect(connection).to_contain_text("network error")
        page.unroute("**/graphql", refused)
        expect(connection).to_contain_text("Live", timeout=(4 + MARGIN) * 1000)

        demo.server.stop()
        expect(connection).to_contain_text("unavailable", timeout=within)
        expect(total).to_have_text(f"{after['total']:,}")
        expect(rows.first).to_contain_text(newcomer)
        page.wait_for_timeout(1500)
        demo.restart()
        seen.phase = "back"
        expect(connection).to_contain_text("Live", timeout=30_000)
        expect(total).to_have_text(f"{after['total']:,}")
        assert seen.statuses("back")
        assert set(seen.statuses("back")) <= {200, 304}


@browser
def test_a_new_token_in_the_same_tab_replaces_the_old_and_leaves_the_address_bar(demo):
    from playwright.sync_api import expect

    with opened(demo) as (page, _):
        page.goto(f"{demo.base}/dashboard#token={demo.token}&every=1e9")
        expect(page.get_by_test_id("connection")).to_contain_text("3,600 s")  # an hour at most
        page.goto(f"{demo.base}/dashboard#token=not-a-token")  # same tab, only the fragment
        expect(page.get_by_test_id("connection")).to_contain_text("invalid or expired")
        assert "not-a-token" not in page.url
        assert page.evaluate("sessionStorage.getItem('credgraph.dashboard.token')") is None
