"""Editing a live credential: a preview of what an edit would do to the open cycles, on a
population, and the edit applied to them — or not."""

from __future__ import annotations

from resolvers import users
from store.users import Role
from tests.helpers import assign, course, credential, ok, take_course

PREVIEW = """
query($input: UpdateCredentialInput!) {
  previewCredentialUpdate(input: $input) {
    openCycles
    changes { assignment { id } statusBefore statusAfter progressBefore progressAfter }
  }
}"""
UPDATE = """
mutation($input: UpdateCredentialInput!) {
  updateCredential(input: $input) { credential { version } userErrors { field code } }
}"""
STATUSES = """
query($id: ID!) { credential(id: $id) { assignments(first: 50) { edges { node {
  id status learner { email }
} } } } }"""


async def population(api, db, org):
    """Eight learners on a credential asking for course A: one has completed it; two have done
    course B, which the edit will accept instead; the rest nothing."""
    a = await course(api, org, "A")
    b = await course(api, org, "B")
    people = [org.learner, org.other_learner] + [
        await users.create_user(
            db, org.as_admin, email=f"p{i}@acmehealth.test", name=f"P{i}", role=Role.LEARNER,
            now=org.clock.now(),
        )
        for i in range(6)
    ]  # fmt: skip
    cred = await credential(api, org, "Safety", {"course": a})
    cycles = await assign(api, org, cred["id"], people)
    await take_course(api, org.token(people[0]), a, assignment=cycles[0]["id"])
    for person in people[1:3]:
        await take_course(api, org.token(person), b)
    return cred, cycles, a, b


async def statuses(api, org, cred) -> dict[str, str]:
    found = await api.data(STATUSES, {"id": cred["id"]}, token=org.token(org.admin))
    return {
        e["node"]["id"]: e["node"]["status"] for e in found["credential"]["assignments"]["edges"]
    }


async def test_a_preview_names_the_cycles_an_edit_would_change_and_changes_nothing(api, db, org):
    cred, cycles, a, b = await population(api, db, org)
    before = await statuses(api, org, cred)
    edit = {"id": cred["id"], "criteria": {"any": [{"course": a}, {"course": b}]}}
    preview = (await api.data(PREVIEW, {"input": edit}, token=org.token(org.admin)))[
        "previewCredentialUpdate"
    ]
    assert preview["openCycles"] == 7
    changed = {c["assignment"]["id"]: c for c in preview["changes"]}
    assert set(changed) == {cycles[1]["id"], cycles[2]["id"]}
    for change in changed.values():
        assert change["statusBefore"] == "NOT_STARTED"
        assert change["statusAfter"] == "COMPLETED"
        assert (change["progressBefore"], change["progressAfter"]) == (0.0, 1.0)
    assert await statuses(api, org, cred) == before
    version = await api.data(
        "query($id: ID!) { credential(id: $id) { version } }", {"id": cred["id"]},
        token=org.token(org.admin),
    )  # fmt: skip
    assert version["credential"]["version"] == 1
    nothing = {"id": cred["id"], "name": "Safety first"}  # no new version: no cycle changes
    unchanged = await api.data(PREVIEW, {"input": nothing}, token=org.token(org.admin))
    assert unchanged["previewCredentialUpdate"] == {"openCycles": 7, "changes": []}


async def test_an_edit_applied_to_open_cycles_completes_those_it_now_fits(api, db, org):
    cred, cycles, a, b = await population(api, db, org)
    edit = {"id": cred["id"], "criteria": {"any": [{"course": a}, {"course": b}]},
            "applyToOpenCycles": True}  # fmt: skip
    done = await ok(api, UPDATE, {"input": edit}, org.token(org.admin), "updateCredential")
    assert done["credential"]["version"] == 2
    after = await statuses(api, org, cred)
    completed = {id for id, status in after.items() if status == "COMPLETED"}
    assert completed == {cycles[0]["id"], cycles[1]["id"], cycles[2]["id"]}


async def test_an_edit_not_applied_leaves_open_cycles_on_their_version(api, db, org):
    cred, _, a, b = await population(api, db, org)
    before = await statuses(api, org, cred)
    edit = {"id": cred["id"], "criteria": {"any": [{"course": a}, {"course": b}]}}
    await ok(api, UPDATE, {"input": edit}, org.token(org.admin), "updateCredential")
    assert await statuses(api, org, cred) == before


async def test_only_administrators_preview(api, org):
    c = await course(api, org, "A")
    cred = await credential(api, org, "Safety", {"course": c})
    body = await api.call(PREVIEW, {"input": {"id": cred["id"], "name": "x"}},
                          token=org.token(org.learner))  # fmt: skip
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
