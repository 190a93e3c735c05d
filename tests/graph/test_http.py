from __future__ import annotations

import pytest

from resolvers import users as user_resolvers

ME = "{ me { email } }"
CREATE = 'mutation { createUser(input: {email: "g@acme.test", name: "G"}) { user { id } } }'


def bearer(org) -> dict[str, str]:
    return {"Authorization": f"Bearer {org.token(org.admin)}"}


async def test_browser_gets_graphiql_served_by_the_server_itself(http):
    response = await http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "https://" not in response.text.replace("http://www.w3.org/2000/svg", "")
    for asset in ("graphiql.min.js", "react.production.min.js", "credgraph.js"):
        assert f"/static/graphiql/{asset}" in response.text
        served = await http.get(f"/static/graphiql/{asset}")
        assert served.status_code == 200
        assert "javascript" in served.headers["content-type"]
    script = (await http.get("/static/graphiql/credgraph.js")).text
    assert "isHeadersEditorEnabled: true" in script
    assert "Authorization" in script


async def test_a_share_link_opens_graphiql_in_a_browser_and_runs_nothing(http, db):
    before = await db.db.users.count_documents({})
    link = await http.get(
        "/graphql", params={"query": CREATE}, headers={"Accept": "text/html,*/*;q=0.8"}
    )
    assert link.status_code == 200
    assert link.headers["content-type"].startswith("text/html")
    assert await db.db.users.count_documents({}) == before


async def test_root_redirects_to_graphql(http):
    response = await http.get("/")
    assert response.status_code in (302, 307)
    assert response.headers["location"] == "/graphql"


async def test_query_over_get(http, org):
    response = await http.get("/graphql", params={"query": ME}, headers=bearer(org))
    assert response.status_code == 200
    assert response.json() == {"data": {"me": {"email": org.admin.email}}}


async def test_mutation_over_get_is_refused_and_changes_nothing(http, db, org):
    before = await db.db.users.count_documents({})
    response = await http.get("/graphql", params={"query": CREATE}, headers=bearer(org))
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    assert await db.db.users.count_documents({}) == before


async def test_mutation_over_post_works(http, org):
    response = await http.post("/graphql", json={"query": CREATE}, headers=bearer(org))
    assert response.status_code == 200
    assert response.json()["data"]["createUser"]["user"]["id"]


async def test_malformed_json_is_a_json_400(http):
    response = await http.post(
        "/graphql", content=b'{"query": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_other_methods_are_refused(http):
    response = await http.put("/graphql", json={"query": ME})
    assert response.status_code == 405


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ me { email ", "GRAPHQL_PARSE_FAILED"),
        ("{ me { shoeSize } }", "GRAPHQL_VALIDATION_FAILED"),
    ],
)
async def test_bad_documents_have_codes(http, org, query, code):
    response = await http.post("/graphql", json={"query": query}, headers=bearer(org))
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == code


async def test_wrongly_typed_variable_is_bad_user_input(http, org):
    response = await http.post(
        "/graphql",
        json={"query": "query($id: ID!) { node(id: $id) { id } }", "variables": {"id": None}},
        headers=bearer(org),
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_unexpected_failure_is_masked_without_a_trace(http, org, monkeypatch, caplog):
    async def explode(*args, **kwargs):
        raise RuntimeError("secret internals: /etc/passwd")

    monkeypatch.setattr(user_resolvers, "create_user", explode)
    response = await http.post("/graphql", json={"query": CREATE}, headers=bearer(org))
    body = response.json()
    assert body["errors"][0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert body["errors"][0]["message"] == "internal server error"
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
    assert "secret internals" in caplog.text


async def test_every_error_has_a_code(http, org):
    """Each of these fails, anonymously, at a different stage: each error says which, by code."""
    expected = {
        "{ me { email ": "GRAPHQL_PARSE_FAILED",
        "{ nope }": "GRAPHQL_VALIDATION_FAILED",
        "{ me { email } }": "UNAUTHENTICATED",
        CREATE: "UNAUTHENTICATED",
    }
    for query, code in expected.items():
        errors = (await http.post("/graphql", json={"query": query})).json()["errors"]
        assert [error["extensions"]["code"] for error in errors] == [code], query


GRAPHQL_RESPONSE = "application/graphql-response+json"


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{ me { email ", None, "GRAPHQL_PARSE_FAILED"),
        ("{ me { shoeSize } }", None, "GRAPHQL_VALIDATION_FAILED"),
        ("query($id: ID!) { node(id: $id) { id } }", {"id": None}, "BAD_USER_INPUT"),
    ],
)
async def test_the_newer_media_type_says_never_executed_with_a_400(
    http, org, query, variables, code
):
    response = await http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={**bearer(org), "Accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == code


async def test_the_newer_media_type_answers_executed_requests_with_200(http, org):
    for headers in ({}, bearer(org)):  # a field error (not signed in) is still an execution
        response = await http.post(
            "/graphql", json={"query": ME}, headers={**headers, "Accept": GRAPHQL_RESPONSE}
        )
        assert response.status_code == 200
        assert response.headers["content-type"] == GRAPHQL_RESPONSE
        assert "data" in response.json()


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE}", "application/json"),
        (f"application/json;q=0.5, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=0", "application/json"),
        ("text/plain", "application/json"),
    ],
)
async def test_the_media_type_is_negotiated(http, org, accept, expected):
    headers = {**bearer(org), **({"Accept": accept} if accept else {})}
    response = await http.post("/graphql", json={"query": "{ me { shoe } }"}, headers=headers)
    assert response.headers["content-type"] == expected
    assert response.status_code == (200 if expected == "application/json" else 400)


async def test_a_poll_is_tagged_per_media_type(http, org):
    tags = set()
    for accept in ("application/json", GRAPHQL_RESPONSE):
        response = await http.post(
            "/graphql", json={"query": ME}, headers={**bearer(org), "Accept": accept}
        )
        assert "Accept" in response.headers["vary"]
        tags.add(response.headers["etag"])
    assert len(tags) == 2
