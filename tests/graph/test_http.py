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
    assert response.status_code in (400, 405)
    assert response.json()["errors"][0]["extensions"]["code"] in (
        "BAD_REQUEST",
        "METHOD_NOT_ALLOWED",
    )
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
    documents = ["{ me { email ", "{ nope }", "{ me { email } }", CREATE]
    for query in documents:
        response = await http.post("/graphql", json={"query": query})
        for error in response.json().get("errors", []):
            assert error["extensions"]["code"]
