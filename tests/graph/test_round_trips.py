"""N+1 is a bug: a query's database round trips do not grow with the items it returns."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

from graph import ids
from resolvers import api_tokens, groups, users
from store.api_tokens import Scope
from store.users import Role
from tests.helpers import (
    DASHBOARD,
    DEEP,
    assign,
    assign_more,
    catalogue,
    course,
    credential,
    person,
)


async def round_trips(api, org, commands) -> tuple[int, dict]:
    commands.names.clear()
    commands.targets.clear()
    data = await api.data(DEEP, token=org.token(org.learner))
    return len(commands.names), data


async def test_deep_learner_query_round_trips_do_not_grow(api, org, commands):
    criteria = await catalogue(api, org)
    await assign_more(api, org, criteria, 1)
    one, data = await round_trips(api, org, commands)
    assert data["me"]["credentials"]["totalCount"] == 1
    with_one = set(commands.targets)

    await assign_more(api, org, criteria, 49)
    fifty, data = await round_trips(api, org, commands)
    assert data["me"]["credentials"]["totalCount"] == 50
    tasks = [t for e in data["me"]["credentials"]["edges"] for t in e["node"]["tasks"]]
    assert len(tasks) == 150
    assert {t["requirement"]["title"] for t in tasks} == {"CPR", "BLS", "Path"}
    assert set(commands.targets) == with_one, (with_one, commands.targets)
    assert max(one, fifty) <= 13, commands.targets


async def test_the_counts(api, org, commands):
    """Pin the commands so a new query per request shows up in review.

    The caller with its organization's data version; the learner's cycles in scope (paged and
    counted from that one read, since status decides both); credentials; the learner's
    enrollments and records; the learner; courses (for evaluation, then each nesting level of
    `course { courses }`, which may share a batch with evaluation's); labels; the page of
    enrollments and its count.
    """
    criteria = await catalogue(api, org)
    await assign_more(api, org, criteria, 3)
    await round_trips(api, org, commands)
    seen = Counter(commands.targets)
    assert seen.pop(("find", "courses")) in (2, 3), commands.targets
    assert seen == {
        ("find", "users"): 2,
        ("find", "organizations"): 1,
        ("find", "assignments"): 1,
        ("find", "credentials"): 1,
        ("find", "enrollments"): 2,
        ("aggregate", "enrollments"): 1,
        ("find", "records"): 1,
        ("find", "labels"): 1,
    }, commands.targets


async def test_a_dashboard_over_more_cycles_than_a_first_batch_costs_the_same(
    api, org, db, commands
):
    """An organization's cycles are read whole, in one reply, not 101 then more."""
    cpr = await course(api, org, "CPR")
    cred = await credential(api, org, "CPR", {"course": cpr})
    await assign(api, org, cred["id"], [org.learner, org.other_learner])
    commands.names.clear()
    few = await api.data(DASHBOARD, token=org.token(org.admin))
    with_few = list(commands.names)

    people = [
        await users.create_user(
            db,
            org.as_admin,
            email=f"p{i}@acme.test",
            name=f"P{i}",
            role=Role.LEARNER,
            now=org.clock.now(),
        )
        for i in range(120)
    ]
    await assign(api, org, cred["id"], people)
    commands.names.clear()
    many = await api.data(DASHBOARD, token=org.token(org.admin))
    assert few["complianceSummary"]["total"] == 2
    assert many["complianceSummary"]["total"] == many["assignments"]["totalCount"] == 122
    assert commands.names == with_few


async def test_many_learners_cycles_are_read_at_once(api, org, db, commands):
    """Each listed learner's own credentials: one read for all of them, not one each."""
    cpr = await course(api, org, "CPR")
    cred = await credential(api, org, "CPR", {"course": cpr})
    people = [
        await users.create_user(
            db, org.as_admin, email=f"m{i}@acme.test", name=f"M{i}", role=Role.LEARNER,
            now=org.clock.now(),
        )
        for i in range(5)
    ]  # fmt: skip
    await assign(api, org, cred["id"], people)
    query = """{ assignments(first: 10) { edges { node {
        learner { credentials { totalCount } } } } } }"""
    commands.targets.clear()
    data = await api.data(query, token=org.token(org.admin))
    edges = data["assignments"]["edges"]
    assert [e["node"]["learner"]["credentials"]["totalCount"] for e in edges] == [1] * 5
    assert commands.targets.count(("find", "assignments")) == 2  # the organization, the learners


async def test_a_managers_and_a_wallboards_dashboard_cost_an_administrators(api, org, db, commands):
    """Who calls changes how the caller is read, not what the answer costs: a manager's
    dashboard adds the read of the groups they manage, a READ token's reads the token (and
    notes its use, at most once a minute) instead of the user; neither grows with the members."""
    cpr = await course(api, org, "CPR")
    cred = await credential(api, org, "CPR", {"course": cpr})
    staff = [
        await users.create_user(
            db, org.as_admin, email=f"w{i}@acme.test", name=f"W{i}", role=Role.LEARNER,
            now=org.clock.now(),
        )
        for i in range(30)
    ]  # fmt: skip
    await assign(api, org, cred["id"], [org.learner, org.other_learner, *staff])
    manager = await users.create_user(
        db, org.as_admin, email="mo@acme.test", name="Mo", role=Role.MANAGER, now=org.clock.now()
    )
    await groups.create_group(
        db, org.as_admin, name="Ward", member_ids=[org.learner.id] + [p.id for p in staff],
        manager_ids=[manager.id], now=org.clock.now(),
    )  # fmt: skip
    _, wallboard = await api_tokens.create_api_token(
        db, org.as_admin, name="Wallboard", scopes=[Scope.READ], expires_at=None,
        now=org.clock.now(),
    )  # fmt: skip

    async def cost(token: str) -> tuple[Counter, dict]:
        commands.targets.clear()
        data = await api.data(DASHBOARD, token=token)
        return Counter(commands.targets), data

    admins, seen = await cost(org.token(org.admin))
    assert seen["complianceSummary"]["total"] == 32
    managers, seen = await cost(org.token(manager))
    assert seen["complianceSummary"]["total"] == 31
    assert managers - admins == Counter({("find", "groups"): 1})
    assert admins - managers == Counter()
    readers, seen = await cost(wallboard)
    assert seen["complianceSummary"]["total"] == 32
    assert readers - admins == Counter({("find", "apiTokens"): 1, ("update", "apiTokens"): 1})
    assert admins - readers == Counter({("find", "users"): 1})


OUTBOUND = {"feed", "feedOutbox", "feedSequencers", "auditEvents"}


async def test_a_mutations_events_cost_the_same_few_round_trips_however_many(
    api, db, org, commands
):
    """Copying a mutation's letters out and numbering its feed events: one insert into each
    box, then the sequencer's lease, its read of the outbox, the feed's last number (noted by
    the sequencer, never found by sorting the feed), the append, the clean-up and letting go —
    for one learner assigned or for six, however long the feed."""
    c = await course(api, org, "Course")
    costs = []
    more = [await person(api, db, org, f"l{n}@acmehealth.test", "LEARNER") for n in range(5)]
    more_ids = [SimpleNamespace(id=ids.decode(made)[1]) for made, _ in more]
    for learners in ([org.learner], [org.other_learner, *more_ids]):
        cred = await credential(api, org, f"For {len(learners)}", {"course": c})
        commands.targets.clear()
        await assign(api, org, cred["id"], learners)
        costs.append(Counter(t for t in commands.targets if t[1] in OUTBOUND))
    assert (
        costs[0]
        == costs[1]
        == {
            ("insert", "auditEvents"): 1,
            ("insert", "feedOutbox"): 1,
            ("update", "feedSequencers"): 1,
            ("find", "feedOutbox"): 1,
            ("find", "feedSequencers"): 1,  # the last number it noted,
            ("aggregate", "feed"): 1,  # and any appended since
            ("insert", "feed"): 1,
            ("delete", "feedOutbox"): 1,
            ("findAndModify", "feedSequencers"): 1,
        }
    ), costs
