"""A verifier's page on another origin, in Debian's Chromium, against a live `serve --demo`
(skipped without the browser unless `CREDGRAPH_REQUIRE_BROWSER=1`).

The public routes say CORS `*` (`graph.publishing.AnyOrigin`); only a browser shows that a page
elsewhere can really use them: a JSON `POST /verify` is not a simple request, so Chromium asks
first (a preflight) and reads the answer only if both the preflight and the answer allow it. The
same page calling `/graphql` is refused, since `CREDGRAPH_CORS_ORIGINS` names no origin.

The page is served by a bare HTTP server on another loopback port (`localhost` against the
API's `127.0.0.1`): Playwright's request interception would answer preflights itself.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from resolvers.signing import MEDIA_TYPE
from tests.dashboards import Demo, serving_demo
from tests.servers import CHROMIUM, FLAGS, JWT, needs_browser

pytestmark = needs_browser
BADGE = """{ assignments(status: COMPLETED, first: 1) {
  edges { node { verifiableCredential { jwt credential } } } } }"""
CALLS = """async ({api, jwt, issuer, statusList}) => {
  const called = async (path, init) => {
    try {
      const response = await fetch(api + path, init);
      const text = await response.text();
      return {status: response.status, type: response.headers.get("Content-Type"), text};
    } catch (error) {
      return {refused: String(error)};
    }
  };
  const json = {"Content-Type": "application/json"};
  return {
    verify: await called("/verify", {
      method: "POST", headers: json, body: JSON.stringify({credential: jwt}),
    }),
    jwks: await called("/issuers/" + issuer + "/jwks"),
    statusList: await called(statusList.slice(api.length)),
    graphql: await called("/graphql", {
      method: "POST", headers: json, body: JSON.stringify({query: "{ __typename }"}),
    }),
  };
}"""


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>A verifier</title>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[Demo]:
    yield from serving_demo(tmp_path_factory)


@pytest.fixture(scope="module")
def elsewhere() -> Iterator[str]:
    """The verifier's own origin."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_page_on_another_origin_verifies_and_reads_the_keys_and_list_but_not_the_api(
    demo, elsewhere
):
    from playwright.sync_api import sync_playwright

    node = demo.data(BADGE)["assignments"]["edges"][0]["node"]["verifiableCredential"]
    credential = node["credential"]
    given = {
        "api": demo.base,
        "jwt": node["jwt"],
        "issuer": credential["issuer"]["id"].rsplit("/", 1)[1],
        "statusList": credential["credentialStatus"]["statusListCredential"],
    }
    assert given["statusList"].startswith(demo.base)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = chromium.new_page()
        page.goto(elsewhere)
        seen = page.evaluate(CALLS, given)
        chromium.close()
    assert seen["verify"]["status"] == 200, seen["verify"]
    assert json.loads(seen["verify"]["text"])["valid"] is True, seen["verify"]
    assert seen["jwks"]["status"] == 200
    assert [key["kty"] for key in json.loads(seen["jwks"]["text"])["keys"]] == ["OKP"]
    assert (seen["statusList"]["status"], seen["statusList"]["type"]) == (200, MEDIA_TYPE)
    assert JWT.fullmatch(seen["statusList"]["text"])
    assert "refused" in seen["graphql"], seen["graphql"]  # the API's CORS names no origin
