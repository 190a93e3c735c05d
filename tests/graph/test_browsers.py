"""What browsers may do: CSRF prevention for simple requests, and the CORS allow-list."""

from __future__ import annotations

ME = "{ me { email } }"


async def test_a_get_query_without_a_preflighted_header_is_refused(http):
    response = await http.get("/graphql", params={"query": ME})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "CSRF_PREFLIGHT_REQUIRED"


async def test_apollo_require_preflight_is_enough(http):
    response = await http.get(
        "/graphql", params={"query": "{ __typename }"}, headers={"Apollo-Require-Preflight": "true"}
    )
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_a_multipart_post_without_a_preflighted_header_is_refused(http, db):
    response = await http.post(
        "/graphql",
        data={"operations": '{"query": "{ __typename }"}', "map": "{}"},
        files={"unused": ("x.pdf", b"%PDF-1.4", "application/pdf")},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "CSRF_PREFLIGHT_REQUIRED"
    assert await db.db["documents.files"].count_documents({}) == 0


async def test_a_browser_visit_still_gets_graphiql(http):
    response = await http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200


async def test_cors_allow_list_and_cached_preflight(start_app):
    async with start_app(cors_origins=("https://dash.example",)) as started:
        http = started.http
        preflight = {
            "Origin": "https://dash.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, if-none-match",
        }
        allowed = await http.options("/graphql", headers=preflight)
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://dash.example"
        assert int(allowed.headers["access-control-max-age"]) >= 600
        refused = await http.options(
            "/graphql", headers={**preflight, "Origin": "https://evil.example"}
        )
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
        simple = await http.post(
            "/graphql",
            json={"query": "{ __typename }"},
            headers={"Origin": "https://dash.example"},
        )
        assert simple.headers["access-control-allow-origin"] == "https://dash.example"
        assert "etag" in simple.headers["access-control-expose-headers"].lower()
