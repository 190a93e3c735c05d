"""Answers at the margins: what the edge of each rule gives, decided and pinned."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from graph.gate import CACHE_BYTES, LARGEST_CACHED
from tests.conftest import START
from tests.helpers import CREATE_COURSE, assign, course, credential, gid, take_course

STATUS = "{ me { credentials { edges { node { status } } } } }"
STATUS_AT = "query($t: DateTime) { me { credentials { edges { node { status(asOf: $t) } } } } }"
STATUS_NULL = "{ me { credentials { edges { node { status(asOf: null) } } } } }"


def auth(token: str, **more: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **more}


async def test_before_the_start_no_button_would_refuse(api, org):
    c = await course(api, org, "C")
    cred = await credential(api, org, "C", {"course": c})
    starts = (START + timedelta(days=3)).isoformat()
    (a,) = await assign(api, org, cred["id"], [org.learner], startDate=starts)
    assert a["canStart"] is False
    assert [t["action"] for t in a["tasks"]] == ["NONE"]


async def test_a_page_of_nothing_is_refused(api, org):
    body = await api.call(
        "{ me { credentials(first: 0) { totalCount } } }", token=org.token(org.learner)
    )
    assert body["errors"][0]["extensions"]["code"] == "INVALID_PAGE_SIZE"


async def test_any_tag_is_no_proof_of_an_answer(http, org):
    learner = org.token(org.learner)
    forbidden = await http.post(
        "/graphql",
        json={"query": "{ complianceSummary { total } }"},
        headers=auth(learner, **{"If-None-Match": "*"}),
    )
    assert forbidden.status_code == 200
    assert forbidden.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    fine = await http.post(
        "/graphql", json={"query": "{ me { id } }"}, headers=auth(learner, **{"If-None-Match": "*"})
    )
    assert fine.status_code == 200


async def test_an_unpinned_moment_keeps_its_answer_until_the_next_change_and_no_longer(
    api, http, org, clock
):
    c = await course(api, org, "C")
    cred = await credential(api, org, "C", {"course": c})
    due = clock.now() + timedelta(seconds=10)
    await assign(api, org, cred["id"], [org.learner], dueDate=due.isoformat())
    token = org.token(org.learner)
    cases = [
        (STATUS, {}),
        (STATUS_NULL, {}),
        (STATUS_AT, {}),  # the variable omitted: now
        (STATUS_AT, {"t": None}),
    ]

    async def polled(tags: list[str]) -> list[int]:
        statuses = []
        for (query, variables), tag in zip(cases, tags, strict=True):
            again = await http.post(
                "/graphql",
                json={"query": query, "variables": variables},
                headers=auth(token, **{"If-None-Match": tag}),
            )
            statuses.append(again.status_code)
        return statuses

    tags = []
    for query, variables in cases:
        response = await http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=auth(token)
        )
        assert response.json()["data"]["me"]["credentials"]["edges"][0]["node"]["status"] == (
            "NOT_STARTED"
        )
        tags.append(response.headers["etag"])
    clock.advance(timedelta(seconds=9))
    assert await polled(tags) == [304] * 4, "nothing changes before the due date"
    clock.advance(timedelta(seconds=1))
    assert await polled(tags) == [200] * 4, "at the due date the learner is overdue"

    pinned = {"t": START.isoformat()}
    first = await http.post(
        "/graphql", json={"query": STATUS_AT, "variables": pinned}, headers=auth(token)
    )
    clock.advance(timedelta(seconds=5))
    later = await http.post(
        "/graphql",
        json={"query": STATUS_AT, "variables": pinned},
        headers=auth(token, **{"If-None-Match": first.headers["etag"]}),
    )
    assert later.status_code == 304, "a pinned moment keeps its answer"


TASKS = (
    "{ me { credentials { edges { node { canStart completion { progress satisfied } "
    "tasks { state action } } } } } }"
)


async def test_a_learners_tasks_keep_their_answer_until_evidence_lapses_and_no_longer(
    api, http, org, clock
):
    """Tasks and completion are judged now, yet change by themselves only when a proof
    lapses (or the start date comes): polls are 304 until then, not just for a second."""
    first, second = await course(api, org, "First"), await course(api, org, "Second")
    cred = await credential(
        api, org, "Both", {"all": [{"course": first}, {"course": second}]},
        completeWithin={"amount": 5, "unit": "YEAR"}, validFor={"amount": 1, "unit": "YEAR"},
    )  # fmt: skip
    starts = clock.now() + timedelta(days=2)
    await assign(api, org, cred["id"], [org.learner], startDate=starts.isoformat())

    async def poll(tag: str | None = None):
        token = org.token(org.learner)  # issued now: tokens expire
        headers = auth(token, **({"If-None-Match": tag} if tag else {}))
        return await http.post("/graphql", json={"query": TASKS}, headers=headers)

    before = await poll()
    clock.advance(timedelta(days=2) - timedelta(seconds=1))
    assert (await poll(before.headers["etag"])).status_code == 304
    clock.advance(timedelta(seconds=1))
    started = await poll(before.headers["etag"])
    assert started.status_code == 200, "the start date came: the tasks can be done"

    await take_course(api, org.token(org.learner), first)
    done = await poll()
    node = done.json()["data"]["me"]["credentials"]["edges"][0]["node"]
    assert node["completion"] == {"progress": 0.5, "satisfied": False}
    a_year = clock.now().replace(year=clock.now().year + 1) - clock.now()
    clock.advance(a_year - timedelta(seconds=1))
    assert (await poll(done.headers["etag"])).status_code == 304, "the first course still counts"
    clock.advance(timedelta(seconds=1))
    lapsed = await poll(done.headers["etag"])
    assert lapsed.status_code == 200, "a year on, the first course lapsed"
    node = lapsed.json()["data"]["me"]["credentials"]["edges"][0]["node"]
    assert node["completion"] == {"progress": 0.0, "satisfied": False}


async def test_every_list_input_has_a_maximum(api, org):
    mark = """
    mutation($ids: [ID!]) {
      markNotificationsRead(input: {ids: $ids}) { marked userErrors { field code } }
    }"""
    ids = [gid("Notification", f"{i:024x}") for i in range(501)]
    payload = (await api.data(mark, {"ids": ids}, token=org.token(org.learner)))[
        "markNotificationsRead"
    ]
    assert payload["userErrors"] == [{"field": "ids", "code": "TOO_MANY"}]


async def test_a_course_title_is_taken_once_in_any_letter_case(api, org):
    await course(api, org, "CPR Online")
    payload = (
        await api.data(
            CREATE_COURSE, {"input": {"title": "cpr online"}}, token=org.token(org.admin)
        )
    )["createCourse"]
    assert payload["course"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [("title", "TITLE_TAKEN")]


async def test_strangers_cannot_fill_the_caches(app, http, org):
    """Forty distinct documents of nearly a megabyte, sent anonymously: none is kept, nor
    registered as a persisted query."""
    view = next(route.endpoint for route in app.routes if route.path == "/graphql")
    for i in range(40):
        query = "{ __typename " + f"# {i}" + " " * 900_000 + "}"
        digest = hashlib.sha256(query.encode()).hexdigest()
        response = await http.post(
            "/graphql",
            json={
                "query": query,
                "extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}},
            },
        )
        assert response.status_code == 200
    assert view.gate.cached_bytes <= CACHE_BYTES
    assert all(len(query) <= LARGEST_CACHED for query, _ in view.gate.cache)
    assert view.persisted.documents == {}


async def test_a_large_document_is_parsed_once(app, api, org):
    """Too large to be cached, it is still parsed and measured once: the gate's work is what
    execution uses."""
    view = next(route.endpoint for route in app.routes if route.path == "/graphql")
    prepared = view.gate._prepare
    calls: list[str] = []

    def counted(query: str, operation_name: str | None):
        calls.append(query)
        return prepared(query, operation_name)

    view.gate._prepare = counted
    query = "{ me { id } }" + "#" * (LARGEST_CACHED + 1)
    assert "me" in await api.data(query, token=org.token(org.learner))
    assert len(calls) == 1
