"""Getting, launching and completing courses as a learner."""

from __future__ import annotations

from tests.helpers import GET_COURSE, LAUNCH, REPORT, assign, course, credential, gid, take_course

MY_ENROLLMENTS = (
    "{ me { enrollments { totalCount edges { node { id status course { title } } } } } }"
)


async def payload(api, document, variables, token, field):
    return (await api.data(document, variables, token=token))[field]


async def test_get_course_returns_the_existing_instance(api, org):
    c = await course(api, org, "CPR Online")
    token = org.token(org.learner)
    first = await payload(api, GET_COURSE, {"input": {"course": c}}, token, "getCourse")
    again = await payload(api, GET_COURSE, {"input": {"course": c}}, token, "getCourse")
    assert first["enrollment"]["id"] == again["enrollment"]["id"]
    assert first["enrollment"]["status"] == "NOT_STARTED"
    listed = (await api.data(MY_ENROLLMENTS, token=token))["me"]["enrollments"]
    assert listed["totalCount"] == 1


async def test_launch_and_report_progress(api, org, clock):
    c = await course(api, org, "CPR Online")
    token = org.token(org.learner)
    got = await payload(api, GET_COURSE, {"input": {"course": c}}, token, "getCourse")
    enrollment = got["enrollment"]["id"]
    launched = await payload(
        api, LAUNCH, {"input": {"enrollment": enrollment}}, token, "launchCourse"
    )
    assert launched["enrollment"]["status"] == "IN_PROGRESS"
    assert launched["enrollment"]["launchedAt"] == clock.now().isoformat()
    half = await payload(
        api,
        REPORT,
        {"input": {"enrollment": enrollment, "progress": 0.5}},
        org.player,
        "reportCourseProgress",
    )
    assert half["enrollment"]["progress"] == 0.5
    done = await payload(
        api,
        REPORT,
        {"input": {"enrollment": enrollment, "progress": 1, "completed": True}},
        org.player,
        "reportCourseProgress",
    )
    assert done["enrollment"]["status"] == "COMPLETED"
    assert done["enrollment"]["completedAt"] == clock.now().isoformat()
    late = await payload(
        api,
        REPORT,
        {"input": {"enrollment": enrollment, "progress": 0.2}},
        org.player,
        "reportCourseProgress",
    )
    assert [e["code"] for e in late["userErrors"]] == ["ALREADY_COMPLETED"]
    # the completed instance is still "the course in your account"
    again = await payload(api, GET_COURSE, {"input": {"course": c}}, token, "getCourse")
    assert again["enrollment"]["id"] == enrollment


async def test_progress_out_of_range(api, org):
    c = await course(api, org, "C")
    token = org.token(org.learner)
    got = await payload(api, GET_COURSE, {"input": {"course": c}}, token, "getCourse")
    bad = await payload(
        api,
        REPORT,
        {"input": {"enrollment": got["enrollment"]["id"], "progress": 1.5}},
        org.player,
        "reportCourseProgress",
    )
    assert bad["userErrors"] == [
        {"field": "progress", "message": "progress is between 0 and 1", "code": "OUT_OF_RANGE"}
    ]


async def test_a_learner_cannot_touch_another_learners_enrollment(api, org):
    c = await course(api, org, "C")
    theirs = await payload(
        api, GET_COURSE, {"input": {"course": c}}, org.token(org.other_learner), "getCourse"
    )
    enrollment = theirs["enrollment"]["id"]
    token = org.token(org.learner)
    launch = {"input": {"enrollment": enrollment}}
    result = await payload(api, LAUNCH, launch, token, "launchCourse")
    assert result["enrollment"] is None
    assert [e["code"] for e in result["userErrors"]] == ["NOT_FOUND"]
    variables = {"input": {"enrollment": enrollment, "progress": 1, "completed": True}}
    refused = await api.call(REPORT, variables, token=token)  # no learner reports, here
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    body = await api.call(
        "query($id: ID!) { node(id: $id) { id } }", {"id": enrollment}, token=token
    )
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_getting_a_course_for_someone_elses_assignment_is_not_found(api, org):
    c = await course(api, org, "C")
    cred = await credential(api, org, "A", {"course": c})
    (a,) = await assign(api, org, cred["id"], [org.other_learner])
    result = await payload(
        api,
        GET_COURSE,
        {"input": {"course": c, "assignment": a["id"]}},
        org.token(org.learner),
        "getCourse",
    )
    assert [e["code"] for e in result["userErrors"]] == ["NOT_FOUND"]


async def test_a_course_outside_the_credential_is_refused_for_it(api, org):
    c, other = await course(api, org, "C"), await course(api, org, "Other")
    cred = await credential(api, org, "A", {"course": c})
    (a,) = await assign(api, org, cred["id"], [org.learner])
    result = await payload(
        api,
        GET_COURSE,
        {"input": {"course": other, "assignment": a["id"]}},
        org.token(org.learner),
        "getCourse",
    )
    assert [e["code"] for e in result["userErrors"]] == ["NOT_IN_CREDENTIAL"]


async def test_learning_paths_progress_through_their_courses(api, org):
    parts = [await course(api, org, f"Part {i}") for i in range(2)]
    path = await course(api, org, "Path", kind="LEARNING_PATH", courses=parts)
    token = org.token(org.learner)
    got = await payload(api, GET_COURSE, {"input": {"course": path}}, token, "getCourse")
    path_enrollment = got["enrollment"]["id"]
    refused = await payload(
        api,
        REPORT,
        {"input": {"enrollment": path_enrollment, "progress": 1, "completed": True}},
        org.player,
        "reportCourseProgress",
    )
    assert [e["code"] for e in refused["userErrors"]] == ["PATH_COMPLETES_THROUGH_COURSES"]
    listed = (await api.data(MY_ENROLLMENTS, token=token))["me"]["enrollments"]
    assert listed["totalCount"] == 3
    for part in parts:
        await take_course(api, token, part)
    node = await api.data(
        "query($id: ID!) { node(id: $id) { ... on Enrollment { status progress } } }",
        {"id": path_enrollment},
        token=token,
    )
    assert node["node"] == {"status": "COMPLETED", "progress": 1.0}


async def test_unknown_course(api, org):
    result = await payload(
        api,
        GET_COURSE,
        {"input": {"course": gid("Course", "0" * 24)}},
        org.token(org.learner),
        "getCourse",
    )
    assert result["userErrors"] == [
        {"field": "course", "message": "no such course", "code": "UNKNOWN_COURSE"}
    ]
