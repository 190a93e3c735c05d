"""The reference dashboard outlasts outages (in Debian's Chromium, as `test_dashboard_page`):
the last answer stays on screen while the server is unavailable — a 503 with `Retry-After`,
whose wait it honours, a refused connection, a real stop and start — and the page comes back."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator

import pytest

from tests.dashboards import EVERY, MARGIN, SUMMARY, Demo, opened, serving_demo
from tests.servers import needs_browser


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[Demo]:
    yield from serving_demo(tmp_path_factory)


@needs_browser
def test_the_dashboard_keeps_its_last_answer_through_outages_and_comes_back(demo):
    from playwright.sync_api import expect

    before = demo.data(SUMMARY)["complianceSummary"]
    with opened(demo) as (page, seen):
        page.goto(f"{demo.base}/dashboard#token={demo.token}&every={EVERY}")
        total = page.get_by_test_id("total")
        expect(total).to_have_text(f"{before['total']:,}")
        connection = page.get_by_test_id("connection")
        expect(connection).to_contain_text("Live")
        rows = page.get_by_test_id("overdueList").locator("tbody tr")
        first_learner = rows.first.locator("td").first.inner_text()  # the longest overdue
        within = (EVERY + MARGIN) * 1000

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
        page.wait_for_timeout(2600)  # the second refusal, no sooner than 2 s after the first
        gaps = [later - earlier for earlier, later in itertools.pairwise(refusals)]
        assert gaps, refusals
        assert min(gaps) >= 1.8, f"Retry-After: 2 not honoured: {gaps}"
        expect(total).to_have_text(f"{before['total']:,}")
        expect(rows.first).to_contain_text(first_learner)
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
        expect(total).to_have_text(f"{before['total']:,}")
        expect(rows.first).to_contain_text(first_learner)
        page.wait_for_timeout(1500)
        demo.restart()
        seen.phase = "back"
        expect(connection).to_contain_text("Live", timeout=30_000)
        expect(total).to_have_text(f"{before['total']:,}")
        assert seen.statuses("back")
        assert set(seen.statuses("back")) <= {200, 304}
