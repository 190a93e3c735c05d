"""Request limits: depth, aliases, tokens, cost, page size, body size, introspection."""

from __future__ import annotations


def code(body: dict) -> str:
    return body["errors"][0]["extensions"]["code"]


async def refused(api, query: str, token: str) -> tuple[int, str]:
    """A request the gate refuses: its status and code."""
    response = await api.http.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
    )
    return response.status_code, code(response.json())


def criteria_progress(levels: int) -> str:
    inner = "satisfied progress"
    for _ in range(levels):
        inner = f"satisfied progress children {{ {inner} }}"
    return f"{{ me {{ credentials {{ edges {{ node {{ criteria {{ {inner} }} }} }} }} }} }}"


async def test_eight_levels_of_criteria_fit_within_the_depth_limit(api, org):
    body = await api.call(criteria_progress(8), token=org.token(org.learner))
    assert "errors" not in body


async def test_too_deep_is_refused_before_anything_runs(api, org, commands):
    commands.names.clear()
    status, refusal = await refused(api, criteria_progress(30), org.token(org.learner))
    assert (status, refusal) == (400, "QUERY_TOO_DEEP")
    assert commands.names == [], "not even authentication ran"


async def test_too_many_aliases(api, org):
    query = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(31)) + " }"
    assert await refused(api, query, org.token(org.learner)) == (400, "TOO_MANY_ALIASES")
    fine = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(30)) + " }"
    assert "errors" not in await api.call(fine, token=org.token(org.learner))


async def test_too_many_tokens(api, org):
    query = "{ me { " + " ".join(["id"] * 6000) + " } }"
    assert await refused(api, query, org.token(org.learner)) == (400, "TOO_MANY_TOKENS")


async def test_too_costly(api, org):
    query = (
        "{ me { credentials(first: 100) { edges { node { learner { credentials(first: 100) {"
        " edges { node { tasks { requirement { title } } } } } } } } } } }"
    )
    assert await refused(api, query, org.token(org.admin)) == (400, "QUERY_TOO_COMPLEX")


async def test_page_size_is_capped(api, org):
    body = await api.call(
        "{ me { credentials(first: 101) { totalCount } } }", token=org.token(org.learner)
    )
    assert code(body) == "INVALID_PAGE_SIZE"


async def test_body_size_is_limited(http, org, settings):
    padding = "#" * (settings.max_body + 1)
    response = await http.post(
        "/graphql",
        content=('{"query": "' + padding + '"}').encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {org.token(org.admin)}",
        },
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_introspection_can_be_turned_off(start_app):
    async with start_app(introspection=False) as started:
        http = started.http
        response = await http.post("/graphql", json={"query": "{ __schema { types { name } } }"})
        assert code(response.json()) == "GRAPHQL_VALIDATION_FAILED"
        assert "introspection" in response.json()["errors"][0]["message"].lower()
        typename = await http.post("/graphql", json={"query": "{ __typename }"})
        assert typename.json() == {"data": {"__typename": "Query"}}
