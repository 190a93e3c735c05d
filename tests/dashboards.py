"""The reference dashboard's browser tests share these: a live `serve --demo` that a test may
stop and start again, and a Chromium page whose network reaches nothing but the server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from tests.servers import CHROMIUM, FLAGS, Server

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


def serving_demo(tmp_path_factory) -> Iterator[Demo]:
    """A live `serve --demo` for a module's browser tests (module-scoped fixtures call it)."""
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
