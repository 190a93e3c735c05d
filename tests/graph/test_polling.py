"""Repeated polls: ETags, 304 before execution, and automatic persisted queries."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from tests.helpers import assign, course, credential

LABELS = "{ labels { name } }"
EXPIRES = "{ me { credentials { edges { node { expiresIn { seconds } } } } } }"
EXPIRES_AS_OF = (
    "query($at: DateTime!) { me { credentials { edges { node { expiresIn(asOf: $at) { seconds } }"
    " } } } }"
)
CREATE_LABEL = 'mutation { createLabel(input: {name: "New"}) { label { id } } }'


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def post(http, query, token, variables=None, **headers):
    return await http.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={**auth(token), **headers},
    )


async def test_queries_are_tagged_and_an_unchanged_poll_is_304_without_execution(
    http, org, commands
):
    token = org.token(org.admin)
    first = await post(http, LABELS, token)
    assert first.status_code == 200
    tag = first.headers["etag"]
    assert first.headers["cache-control"] == "private, no-cache"
    assert first.headers["vary"] == "Authorization, Accept"

    commands.names.clear()
    again = await post(http, LABELS, token, **{"If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == tag
    assert commands.names == ["find", "find"], "only the caller and data version were read"


async def test_get_polls_are_tagged_too(http, org):
    token = org.token(org.admin)
    first = await http.get("/graphql", params={"query": LABELS}, headers=auth(token))
    tag = first.headers["etag"]
    again = await http.get(
        "/graphql", params={"query": LABELS}, headers={**auth(token), "If-None-Match": tag}
    )
    assert again.status_code == 304


async def test_a_write_changes_the_tag(http, org):
    token = org.token(org.admin)
    before = (await post(http, LABELS, token)).headers["etag"]
    mutation = await post(http, CREATE_LABEL, token)
    assert "etag" not in mutation.headers
    after = await post(http, LABELS, token, **{"If-None-Match": before})
    assert after.status_code == 200
    assert after.headers["etag"] != before
    assert after.json()["data"]["labels"] == [{"name": "New"}]


async def test_a_learners_write_changes_the_administrators_tag(api, http, org):
    c = await course(api, org, "C")
    cred = await credential(api, org, "A", {"course": c})
    (a,) = await assign(api, org, cred["id"], [org.learner])
    admin = org.token(org.admin)
    query = "query($id: ID!) { node(id: $id) { ... on CredentialAssignment { completedAt } } }"
    before = (await post(http, query, admin, {"id": a["id"]})).headers["etag"]
    got = await post(
        http,
        "mutation($c: ID!) { getCourse(input: {course: $c}) { enrollment { id } } }",
        org.token(org.learner),
        {"c": c},
    )
    assert got.status_code == 200
    after = await post(http, query, admin, {"id": a["id"]}, **{"If-None-Match": before})
    assert after.status_code == 200


async def test_a_write_that_changes_nothing_keeps_the_tag(http, org):
    """The data version advances where the store writes, and only when something changed: a
    mutation that finds nothing to do, or is refused, leaves every poll's answer standing."""
    token = org.token(org.admin)
    before = (await post(http, LABELS, token)).headers["etag"]
    nothing_unread = "mutation { markNotificationsRead(input: {all: true}) { marked } }"
    marked = await post(http, nothing_unread, token)
    assert marked.json()["data"]["markNotificationsRead"] == {"marked": 0}
    assert (await post(http, LABELS, token, **{"If-None-Match": before})).status_code == 304

    created = await post(http, CREATE_LABEL, token)
    assert created.json()["data"]["createLabel"]["label"] is not None
    between = (await post(http, LABELS, token)).headers["etag"]
    assert between != before
    refused = await post(http, CREATE_LABEL, token)  # the same name again
    assert refused.json()["data"]["createLabel"]["label"] is None
    assert (await post(http, LABELS, token, **{"If-None-Match": between})).status_code == 304


async def test_a_clock_dependent_tag_moves_with_time(api, http, org, clock):
    c = await course(api, org, "C")
    cred = await credential(api, org, "A", {"course": c})
    await assign(api, org, cred["id"], [org.learner])
    token = org.token(org.learner)
    first = await post(http, EXPIRES, token)
    tag = first.headers["etag"]
    assert (await post(http, EXPIRES, token, **{"If-None-Match": tag})).status_code == 304
    clock.advance(timedelta(seconds=1))
    moved = await post(http, EXPIRES, token, **{"If-None-Match": tag})
    assert moved.status_code == 200
    seconds = moved.json()["data"]["me"]["credentials"]["edges"][0]["node"]["expiresIn"]["seconds"]
    first_seconds = first.json()["data"]["me"]["credentials"]["edges"][0]["node"]["expiresIn"][
        "seconds"
    ]
    assert seconds == first_seconds - 1


async def test_a_tag_whose_moment_is_moved_on_is_no_tag_of_ours(api, http, org, clock):
    """The moment a tag is good until is inside its hash: editing it to a later one (to keep
    a 304 coming) makes a tag the server never gave."""
    c = await course(api, org, "C")
    cred = await credential(api, org, "A", {"course": c})
    await assign(api, org, cred["id"], [org.learner])
    token = org.token(org.learner)
    tag = (await post(http, EXPIRES, token)).headers["etag"]
    signed, moment = tag.strip('"').split(".")
    later = f'"{signed}.{int(moment, 16) + 10**9:x}"'  # a thousand seconds more
    clock.advance(timedelta(seconds=1))
    assert (await post(http, EXPIRES, token, **{"If-None-Match": later})).status_code == 200


async def test_an_explicit_as_of_keeps_the_tag_stable(api, http, org, clock):
    c = await course(api, org, "C")
    cred = await credential(api, org, "A", {"course": c})
    await assign(api, org, cred["id"], [org.learner])
    token = org.token(org.learner)
    variables = {"at": "2026-04-01T00:00:00Z"}
    tag = (await post(http, EXPIRES_AS_OF, token, variables)).headers["etag"]
    clock.advance(timedelta(hours=5))
    again = await post(
        http, EXPIRES_AS_OF, org.token(org.learner), variables, **{"If-None-Match": tag}
    )
    assert again.status_code == 304


async def test_another_users_tag_never_matches(http, org):
    tag = (await post(http, LABELS, org.token(org.admin))).headers["etag"]
    other = await post(http, LABELS, org.token(org.learner), **{"If-None-Match": tag})
    assert other.status_code == 200
    assert other.headers["etag"] != tag


async def test_responses_with_errors_are_never_tagged(http, org):
    response = await post(http, '{ node(id: "garbage") { id } }', org.token(org.admin))
    assert response.json()["errors"]
    assert "etag" not in response.headers


async def test_automatic_persisted_queries(http, org):
    token = org.token(org.admin)
    digest = hashlib.sha256(LABELS.encode()).hexdigest()
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    unknown = await http.post("/graphql", json={"extensions": extensions}, headers=auth(token))
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    registered = await http.post(
        "/graphql", json={"query": LABELS, "extensions": extensions}, headers=auth(token)
    )
    assert registered.json() == {"data": {"labels": []}}
    by_hash = await http.post("/graphql", json={"extensions": extensions}, headers=auth(token))
    assert by_hash.json() == {"data": {"labels": []}}
    by_get = await http.get(
        "/graphql", params={"extensions": json.dumps(extensions)}, headers=auth(token)
    )
    assert by_get.json() == {"data": {"labels": []}}
    assert by_get.headers["etag"] == by_hash.headers["etag"]
    wrong = {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}
    mismatch = await http.post(
        "/graphql", json={"query": LABELS, "extensions": wrong}, headers=auth(token)
    )
    assert mismatch.status_code == 400
