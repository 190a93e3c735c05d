"""The reference dashboard, `GET /dashboard`: a page the server serves itself that polls
`/graphql` with the token from its URL fragment.

Over HTTP: the page and its assets (same origin only) are served, under a strict
Content-Security-Policy, and are package data. In Debian's Chromium (skipped without it unless
`CREDGRAPH_REQUIRE_BROWSER=1`, as in `test_graphiql_browser`), against a live `serve --demo`:
the counts match the API, a write shows within a polling interval and unchanged polls are 304s
(outages: `test_dashboard_outages`).
"""

from __future__ import annotations

import fnmatch
import time
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.dashboards import (
    EVERY,
    FIGURES,
    MARGIN,
    SUMMARY,
    Demo,
    opened,
    serving_demo,
)
from tests.servers import needs_browser

ROOT = Path(__file__).parents[2]
PAGE = ROOT / "graph" / "static" / "dashboard"


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


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[Demo]:
    yield from serving_demo(tmp_path_factory)


@needs_browser
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


@needs_browser
def test_the_dashboard_shows_a_write_within_an_interval_and_polls_conditionally(demo):
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


@needs_browser
def test_a_new_token_in_the_same_tab_replaces_the_old_and_leaves_the_address_bar(demo):
    from playwright.sync_api import expect

    with opened(demo) as (page, _):
        page.goto(f"{demo.base}/dashboard#token={demo.token}&every=1e9")
        expect(page.get_by_test_id("connection")).to_contain_text("3,600 s")  # an hour at most
        page.goto(f"{demo.base}/dashboard#token=not-a-token")  # same tab, only the fragment
        expect(page.get_by_test_id("connection")).to_contain_text("invalid or expired")
        assert "not-a-token" not in page.url
        assert page.evaluate("sessionStorage.getItem('credgraph.dashboard.token')") is None


@needs_browser
def test_a_read_only_token_runs_the_wallboard(demo):
    """A screen in a corridor needs no administrator's power: a READ token shows the same
    figures and the organization's name, and can change nothing."""
    from playwright.sync_api import expect

    made = demo.data(
        'mutation { createApiToken(input: {name: "Corridor wallboard", scopes: [READ]}) '
        "{ secret userErrors { code } } }"
    )["createApiToken"]
    assert made["userErrors"] == []
    wallboard = made["secret"]
    before = demo.data(SUMMARY)["complianceSummary"]
    with opened(demo) as (page, seen):
        page.goto(f"{demo.base}/dashboard#token={wallboard}&every={EVERY}")
        for name in FIGURES:
            expect(page.get_by_test_id(name)).to_have_text(f"{before[name]:,}")
        expect(page.get_by_test_id("organization")).to_contain_text("Northwind Health")
        assert seen.statuses("start")[0] == 200
    refused = httpx.post(
        demo.server.url,
        json={"query": 'mutation { createLabel(input: {name: "X"}) { userErrors { code } } }'},
        headers={"Authorization": f"Bearer {wallboard}"},
        timeout=30,
    ).json()
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]
