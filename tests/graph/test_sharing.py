"""One execution for many identical polls: a wave of dashboards after a write costs one."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest

from graph.app import STATIC
from resolvers import users
from store.users import Role
from tests.conftest import START
from tests.helpers import assign, course, credential

WALLBOARD = """
query Dashboard {
  complianceSummary { total notStarted overdue }
  assignments(status: OVERDUE, first: 20) { totalCount edges { node { learner { name } } } }
}"""


async def second_admin(db, org):
    return await users.create_user(
        db, org.as_admin, email="ida@acme.test", name="Ida Admin", role=Role.ADMIN,
        now=org.clock.now(),
    )  # fmt: skip


def scans(commands) -> int:
    return commands.targets.count(("find", "assignments"))


async def post(http, token: str, query: str, **headers: str):
    return await http.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}", **headers}
    )


async def test_a_wave_of_identical_polls_after_a_write_costs_one_execution(
    api, http, org, db, commands
):
    cpr = await course(api, org, "CPR")
    cred = await credential(api, org, "CPR", {"course": cpr})
    await assign(api, org, cred["id"], [org.learner])
    ida = await second_admin(db, org)
    tokens = [org.token(org.admin), org.token(ida)] * 10
    first = await asyncio.gather(*(post(http, token, WALLBOARD) for token in tokens))
    tags = {response.headers["etag"] for response in first}
    assert len(tags) == 1, "every administrator of the organization gets the same answer"

    await assign(api, org, cred["id"], [org.other_learner])  # a write: every tag is stale
    commands.targets.clear()
    (stale,) = tags
    wave = await asyncio.gather(
        *(post(http, token, WALLBOARD, **{"If-None-Match": stale}) for token in tokens)
    )
    assert {response.status_code for response in wave} == {200}
    assert {r.json()["data"]["complianceSummary"]["total"] for r in wave} == {2}
    assert scans(commands) == 1, commands.targets

    commands.targets.clear()
    latecomer = await post(http, org.token(ida), WALLBOARD)
    assert latecomer.json() == wave[0].json()
    assert scans(commands) == 0, "kept for the organization until something changes"


async def test_a_kept_answer_is_not_served_past_its_next_change(api, http, org, db, clock):
    cpr = await course(api, org, "CPR")
    cred = await credential(api, org, "CPR", {"course": cpr})
    due = clock.now() + timedelta(seconds=30)
    await assign(api, org, cred["id"], [org.learner], dueDate=due.isoformat())
    ida = await second_admin(db, org)
    before = await post(http, org.token(org.admin), WALLBOARD)
    assert before.json()["data"]["complianceSummary"]["overdue"] == 0
    clock.advance(timedelta(seconds=30))
    after = await post(http, org.token(ida), WALLBOARD)
    assert after.json()["data"]["complianceSummary"]["overdue"] == 1
    assert after.headers["etag"] != before.headers["etag"]


async def test_a_query_that_asks_who_is_asking_is_never_shared(api, http, org, db, commands):
    ida = await second_admin(db, org)
    query = "{ labels { name } me { email } }"
    answers = await asyncio.gather(
        post(http, org.token(org.admin), query), post(http, org.token(ida), query)
    )
    emails = [response.json()["data"]["me"]["email"] for response in answers]
    assert emails == [org.admin.email, "ida@acme.test"]
    assert answers[0].headers["etag"] != answers[1].headers["etag"]


async def test_learners_never_share_an_answer(api, http, org):
    cpr = await course(api, org, "CPR")
    cred = await credential(api, org, "CPR", {"course": cpr})
    await assign(api, org, cred["id"], [org.learner])
    query = "{ credentials(first: 5) { totalCount } }"
    mine, theirs = await asyncio.gather(
        post(http, org.token(org.learner), query), post(http, org.token(org.other_learner), query)
    )
    assert mine.json()["data"]["credentials"]["totalCount"] == 1
    assert theirs.json()["data"]["credentials"]["totalCount"] == 0


@pytest.mark.parametrize(
    ("query", "personal"),
    [
        (WALLBOARD, False),
        ("{ me { email } }", True),
        ("{ labels { name } ... on Query { me { id } } }", True),
        ("query { ...Who } fragment Who on Query { me { id } }", True),
        ('{ node(id: "x") { id } }', True),  # perhaps the caller's own notification
        ("{ assignments { edges { node { id } } } }", False),  # a connection's node is not
        ("{ assignments { edges { node { learner { notifications { totalCount } } } } } }", True),
        ("{ ...L } fragment L on Query { assignments { edges { node { ...L2 } } } }"
         " fragment L2 on CredentialAssignment { learner { ...N } } fragment N on User {"
         " notifications { totalCount } }", True),
    ],
)  # fmt: skip
async def test_what_depends_on_who_asks(app, query, personal):
    view = next(route.endpoint for route in app.routes if route.path == "/graphql")
    assert (await view.gate.prepared(query, None)).personal is personal


async def test_an_answer_that_shows_now_is_not_kept_past_its_second(http, org, db, clock):
    ida = await second_admin(db, org)
    query = "{ complianceSummary { asOf total } }"
    first = await post(http, org.token(org.admin), query)
    clock.advance(timedelta(seconds=2))
    later = await post(http, org.token(ida), query)
    shown = [r.json()["data"]["complianceSummary"]["asOf"] for r in (first, later)]
    assert shown == [START.isoformat(), (START + timedelta(seconds=2)).isoformat()]


async def test_the_reference_dashboards_poll_is_one_every_administrator_shares(app):
    """The page's polled query, as it ships: were it to ask who is asking, fifty dashboards
    would be fifty executions after every write."""
    script = (STATIC / "dashboard" / "dashboard.js").read_text()
    polled = re.search(r"const QUERY = `(.*?)`;", script, re.S)
    assert polled is not None
    query = re.sub(r"\$\{\w+\}", "20", polled[1])
    view = next(route.endpoint for route in app.routes if route.path == "/graphql")
    prepared = await view.gate.prepared(query, "Dashboard")
    assert prepared.error is None
    assert prepared.personal is False
