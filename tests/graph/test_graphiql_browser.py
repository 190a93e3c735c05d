"""GraphiQL in a real browser, with the network closed to everything but the server.

Debian's Chromium, driven by Playwright (its own browser download cannot work here). Without
`/usr/bin/chromium` the test is skipped — unless `CREDGRAPH_REQUIRE_BROWSER=1` (CI installs
Chromium and sets it), which makes a missing browser a failure.
"""

from __future__ import annotations

import json
from urllib.parse import quote, urlsplit

import pytest

from tests.servers import CHROMIUM, FLAGS, Server, credgraph, needs_browser

pytestmark = needs_browser


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("browser")
    server = Server(data_dir)
    server.wait_until_healthy()
    boot = credgraph(
        "bootstrap",
        "--org",
        "Browser Clinic",
        "--admin-email",
        "ada@browser.test",
        data_dir=data_dir,
    )
    assert boot.returncode == 0, boot.stderr
    yield server, boot.stdout.strip()
    server.stop()


def test_graphiql_works_offline_signs_in_runs_a_query_and_forgets_the_token(served):
    from playwright.sync_api import sync_playwright

    server, token = served
    own = urlsplit(server.base).netloc
    headers = json.dumps({"Authorization": f"Bearer {token}"})
    link = f"{server.url}?query={quote('{ me { email role } }')}&headers={quote(headers)}"
    elsewhere: list[str] = []
    refused: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = browser.new_page()

        def route(request_route):
            if urlsplit(request_route.request.url).netloc in (own, ""):
                request_route.continue_()
            else:
                elsewhere.append(request_route.request.url)
                request_route.abort()

        page.route("**/*", route)
        page.on(
            "console",
            lambda message: (
                refused.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        page.goto(link)
        page.wait_for_selector(".graphiql-execute-button", timeout=20_000)
        assert "headers=" not in page.url, "the token left the address bar"
        assert "query=" in page.url
        page.click(".graphiql-execute-button")
        answer = page.locator(".result-window").filter(has_text="ada@browser.test")
        answer.wait_for(timeout=20_000)  # a locator: the page's CSP forbids evaluated strings
        result = page.inner_text(".result-window")
        browser.close()
    assert '"role": "ADMIN"' in result
    assert elsewhere == [], "the page asked for something beyond the server"
    assert refused == [], "the page broke its own Content-Security-Policy"
