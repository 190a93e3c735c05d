"""A credential from definition to completion and renewal, through HTTP, to the second."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tests.conftest import START
from tests.helpers import (
    GET_COURSE,
    MY_CREDENTIALS,
    assign,
    assignment,
    course,
    credential,
    take_course,
)

DAY = timedelta(days=1)


def iso(moment) -> str:
    return moment.isoformat()


async def four_course_credential(api, org, *, name: str = "Four Courses", **extra):
    """Courses are named uniquely per organization: each set after its credential."""
    prefix = "" if name == "Four Courses" else f"{name}: "
    c = [await course(api, org, f"{prefix}Course {i}") for i in range(1, 5)]
    criteria = {
        "any": [
            {"all": [{"course": c[0]}, {"course": c[1]}]},
            {"all": [{"course": c[2]}, {"course": c[3]}]},
        ]
    }
    return c, await credential(api, org, name, criteria, **extra)


async def test_assignment_dates_status_and_time_left(api, org):
    _, cred = await four_course_credential(api, org)
    (a,) = await assign(api, org, cred["id"], [org.learner])
    assert a["startDate"] == iso(START)
    assert a["dueDate"] == iso(START + 90 * DAY)
    assert a["status"] == "NOT_STARTED"
    assert a["canStart"] is True
    assert a["expiresIn"] == {
        "seconds": 90 * 86_400,
        "iso8601": "P90D",
        "humanized": "90 days",
    }
    assert a["completedAt"] is None
    assert a["validUntil"] is None
    assert a["cycle"] == 1
    assert a["previous"] is None
    assert a["completion"]["totalRequirements"] == 4
    assert [s["title"] for s in a["completion"]["nextSteps"]] == ["Course 1", "Course 2"]
    assert [t["action"] for t in a["tasks"]] == ["GET_COURSE"] * 4
    assert [t["state"] for t in a["tasks"]] == ["NOT_STARTED"] * 4


async def test_expires_in_is_exact_at_any_moment(api, org, clock):
    _, cred = await four_course_credential(api, org)
    (a,) = await assign(api, org, cred["id"], [org.learner])
    token = org.token(org.learner)
    later = START + 89 * DAY + timedelta(hours=22, minutes=59, seconds=59)
    seen = await assignment(api, token, a["id"], as_of=iso(later))
    assert seen["expiresAsOf"]["seconds"] == 3_601
    assert seen["asOf"] == "NOT_STARTED"
    overdue = await assignment(api, token, a["id"], as_of=iso(START + 91 * DAY))
    assert overdue["asOf"] == "OVERDUE"
    assert overdue["expiresAsOf"]["seconds"] == 0
    clock.advance(30 * DAY + timedelta(seconds=1))
    now = await assignment(api, org.token(org.learner), a["id"])
    assert now["expiresIn"]["seconds"] == 60 * 86_400 - 1
    assert now["expiresIn"]["humanized"] == "59 days, 23 hours"


async def test_completing_a_branch_completes_the_credential(api, org, clock):
    c, cred = await four_course_credential(api, org)
    (a,) = await assign(api, org, cred["id"], [org.learner])
    token = org.token(org.learner)

    clock.advance(DAY)
    await take_course(api, token, c[2], assignment=a["id"])
    halfway = await assignment(api, token, a["id"])
    assert halfway["status"] == "IN_PROGRESS"
    assert halfway["completion"]["progress"] == 0.5
    assert [s["title"] for s in halfway["completion"]["nextSteps"]] == ["Course 4"]
    states = {t["requirement"]["title"]: (t["state"], t["action"]) for t in halfway["tasks"]}
    assert states["Course 3"] == ("COMPLETE", "NONE")
    assert states["Course 4"] == ("NOT_STARTED", "GET_COURSE")

    clock.advance(DAY)
    finished_at = clock.now()
    await take_course(api, token, c[3], assignment=a["id"])
    done = await assignment(api, token, a["id"])
    assert done["status"] == "COMPLETED"
    assert done["completedAt"] == iso(finished_at)
    assert done["validFrom"] == iso(finished_at)
    assert done["validUntil"] == iso(finished_at.replace(year=finished_at.year + 2))
    assert done["expiresIn"]["seconds"] == int(
        (finished_at.replace(year=finished_at.year + 2) - finished_at).total_seconds()
    )
    assert done["completion"]["satisfied"] is True
    assert done["completion"]["nextSteps"] == []

    # completedAt never moves when more evidence arrives; validity follows the best of it
    clock.advance(DAY)
    await take_course(api, token, c[0], assignment=a["id"])
    await take_course(api, token, c[1], assignment=a["id"])
    again = await assignment(api, token, a["id"])
    assert again["completedAt"] == iso(finished_at)
    assert again["validFrom"] == iso(finished_at + DAY)
    lapses = finished_at + DAY
    assert again["validUntil"] == iso(lapses.replace(year=lapses.year + 2))
    expired = await assignment(api, token, a["id"], as_of=iso(finished_at + 732 * DAY))
    assert expired["asOf"] == "EXPIRED"


async def test_renewal_cycle_opens_before_the_credential_lapses(api, org, clock):
    c, cred = await four_course_credential(api, org, reassignOnCompletion=True)
    (a,) = await assign(api, org, cred["id"], [org.learner])
    token = org.token(org.learner)
    clock.advance(DAY)
    await take_course(api, token, c[0])
    await take_course(api, token, c[1])
    done = await assignment(api, token, a["id"])
    valid_until = START + DAY
    valid_until = valid_until.replace(year=valid_until.year + 2)
    assert done["validUntil"] == iso(valid_until)

    page = (await api.data(MY_CREDENTIALS, {}, token=token))["me"]["credentials"]
    assert page["totalCount"] == 2
    renewal = next(e["node"] for e in page["edges"] if e["node"]["cycle"] == 2)
    assert renewal["previous"] == {"id": a["id"], "cycle": 1}
    assert renewal["startDate"] == iso(valid_until - 90 * DAY)
    assert renewal["dueDate"] == iso(valid_until)
    assert renewal["status"] == "NOT_YET_AVAILABLE"
    assert renewal["canStart"] is False
    # the first cycle's completions predate the renewal's window: nothing is done yet
    assert renewal["completion"]["completedRequirements"] == 0

    blocked = (
        await api.data(
            GET_COURSE, {"input": {"course": c[0], "assignment": renewal["id"]}}, token=token
        )
    )["getCourse"]
    assert blocked["enrollment"] is None
    assert blocked["userErrors"][0]["code"] == "NOT_STARTED_YET"

    clock.current = valid_until - 80 * DAY
    token = org.token(org.learner)
    await take_course(api, token, c[2], assignment=renewal["id"])
    await take_course(api, token, c[3], assignment=renewal["id"])
    renewed = await assignment(api, token, renewal["id"])
    assert renewed["status"] == "COMPLETED"
    assert renewed["validFrom"] == iso(clock.now())
    page = (await api.data(MY_CREDENTIALS, {}, token=token))["me"]["credentials"]
    assert sorted(e["node"]["cycle"] for e in page["edges"]) == [1, 2, 3]


async def test_fresh_evidence_before_assignment_counts_for_a_first_cycle(api, org, clock):
    c, cred = await four_course_credential(api, org)
    token = org.token(org.learner)
    await take_course(api, token, c[0])
    await take_course(api, token, c[1])
    clock.advance(100 * DAY)
    (a,) = await assign(api, org, cred["id"], [org.learner])
    assert a["status"] == "COMPLETED"
    assert a["validFrom"] == iso(START)
    assert a["completedAt"] == iso(clock.now())


async def test_stale_evidence_does_not_count(api, org, clock):
    c, cred = await four_course_credential(api, org, validFor={"amount": 1, "unit": "YEAR"})
    token = org.token(org.learner)
    await take_course(api, token, c[0])
    await take_course(api, token, c[1])
    clock.advance(400 * DAY)
    token = org.token(org.learner)
    (a,) = await assign(api, org, cred["id"], [org.learner])
    assert a["status"] == "NOT_STARTED"
    assert a["completion"]["completedRequirements"] == 0
    # getCourse hands out a new instance rather than the stale completed one
    got = (
        await api.data(GET_COURSE, {"input": {"course": c[0], "assignment": a["id"]}}, token=token)
    )["getCourse"]
    assert got["enrollment"]["status"] == "NOT_STARTED"


async def test_future_start_blocks_every_learner_action(api, org):
    c, cred = await four_course_credential(api, org)
    start = START + 10 * DAY
    (a,) = await assign(api, org, cred["id"], [org.learner], startDate=iso(start))
    assert a["status"] == "NOT_YET_AVAILABLE"
    assert a["canStart"] is False
    assert a["dueDate"] == iso(start + 90 * DAY)
    assert a["expiresIn"]["seconds"] == 100 * 86_400
    payload = (
        await api.data(
            GET_COURSE,
            {"input": {"course": c[0], "assignment": a["id"]}},
            token=org.token(org.learner),
        )
    )["getCourse"]
    assert payload["userErrors"][0]["code"] == "NOT_STARTED_YET"
    assert payload["enrollment"] is None


async def test_back_filled_start_dates_follow(api, org):
    _, cred = await four_course_credential(api, org)
    start = START - 100 * DAY
    (a,) = await assign(api, org, cred["id"], [org.learner], startDate=iso(start))
    assert a["dueDate"] == iso(start + 90 * DAY)
    assert a["status"] == "OVERDUE"
    assert a["expiresIn"]["seconds"] == 0


async def test_explicit_due_date_wins(api, org):
    _, cred = await four_course_credential(api, org)
    due = START + 7 * DAY
    (a,) = await assign(api, org, cred["id"], [org.learner], dueDate=iso(due))
    assert a["dueDate"] == iso(due)
    assert a["expiresIn"]["humanized"] == "7 days"


async def test_assigning_again_does_not_duplicate_an_open_cycle(api, org):
    _, cred = await four_course_credential(api, org)
    first = await assign(api, org, cred["id"], [org.learner, org.other_learner])
    again = await assign(api, org, cred["id"], [org.other_learner, org.learner])
    assert [a["id"] for a in again] == [first[1]["id"], first[0]["id"]]
    page = (await api.data(MY_CREDENTIALS, {}, token=org.token(org.learner)))["me"]["credentials"]
    assert page["totalCount"] == 1


async def test_my_credentials_filter_by_status_and_page(api, org, clock):
    creds = [(await four_course_credential(api, org, name=f"Set {i}"))[1] for i in range(3)]
    await assign(api, org, creds[0]["id"], [org.learner])
    await assign(api, org, creds[1]["id"], [org.learner], startDate=iso(START + 5 * DAY))
    await assign(api, org, creds[2]["id"], [org.learner], startDate=iso(START - 95 * DAY))
    token = org.token(org.learner)

    async def titles(**variables):
        page = (await api.data(MY_CREDENTIALS, variables, token=token))["me"]["credentials"]
        return page["totalCount"], [e["node"]["status"] for e in page["edges"]]

    assert await titles() == (3, ["OVERDUE", "NOT_STARTED", "NOT_YET_AVAILABLE"])
    assert await titles(status="OVERDUE") == (1, ["OVERDUE"])
    assert await titles(status="NOT_YET_AVAILABLE") == (1, ["NOT_YET_AVAILABLE"])
    later = iso(START + 6 * DAY)
    assert await titles(status="NOT_YET_AVAILABLE", asOf=later) == (0, [])
    # the filter judges at asOf; each node's own `status` is still "now"
    expected = (2, ["NOT_STARTED", "NOT_YET_AVAILABLE"])
    assert await titles(status="NOT_STARTED", asOf=later) == expected

    first = (await api.data(MY_CREDENTIALS, {"first": 2}, token=token))["me"]["credentials"]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = (
        await api.data(
            MY_CREDENTIALS, {"first": 2, "after": first["pageInfo"]["endCursor"]}, token=token
        )
    )["me"]["credentials"]
    assert rest["pageInfo"]["hasNextPage"] is False
    seen = [e["node"]["id"] for e in first["edges"] + rest["edges"]]
    assert len(set(seen)) == 3


async def test_learning_path_requirement(api, org, clock):
    parts = [await course(api, org, f"Module {i}") for i in range(3)]
    path = await course(api, org, "Safety Path", kind="LEARNING_PATH", courses=parts)
    cred = await credential(api, org, "Safety", {"learningPath": path})
    (a,) = await assign(api, org, cred["id"], [org.learner])
    token = org.token(org.learner)
    got = (
        await api.data(GET_COURSE, {"input": {"course": path, "assignment": a["id"]}}, token=token)
    )["getCourse"]
    assert got["enrollment"]["course"]["title"] == "Safety Path"
    for part in parts[:2]:
        await take_course(api, token, part, assignment=a["id"])
    partway = await assignment(api, token, a["id"])
    assert partway["completion"]["progress"] == 2 / 3
    assert partway["tasks"][0]["action"] == "LAUNCH"
    clock.advance(DAY)
    await take_course(api, token, parts[2], assignment=a["id"])
    done = await assignment(api, token, a["id"])
    assert done["status"] == "COMPLETED"
    assert done["validFrom"] == iso(clock.now())


async def test_concurrent_assignments_make_one_cycle_each(api, org, db):
    _, cred = await four_course_credential(api, org)
    results = await asyncio.gather(
        *(assign(api, org, cred["id"], [org.learner, org.other_learner]) for _ in range(5))
    )
    assert len({tuple(a["id"] for a in r) for r in results}) == 1
    assert await db.db.assignments.count_documents({}) == 2
    assert await db.db.notifications.count_documents({"kind": "CREDENTIAL_ASSIGNED"}) == 2
