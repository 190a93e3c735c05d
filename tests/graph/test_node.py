from __future__ import annotations

import base64

import pytest

from graph import ids

NODE = """
query Node($id: ID!) {
  node(id: $id) {
    id
    __typename
    ... on User { email name role organization { name } }
    ... on Organization { name }
  }
}
"""
ME = "query { me { id organization { id } } }"


def error_code(body: dict) -> str:
    return body["errors"][0]["extensions"]["code"]


async def test_node_resolves_my_own_id(api, org):
    token = org.token(org.learner)
    me = (await api.data(ME, token=token))["me"]
    node = (await api.data(NODE, {"id": me["id"]}, token=token))["node"]
    assert node["__typename"] == "User"
    assert node["id"] == me["id"]
    assert node["email"] == org.learner.email


async def test_node_resolves_my_organization(api, org):
    token = org.token(org.learner)
    org_id = (await api.data(ME, token=token))["me"]["organization"]["id"]
    node = (await api.data(NODE, {"id": org_id}, token=token))["node"]
    assert node == {"id": org_id, "__typename": "Organization", "name": "Acme Health"}


async def test_ids_are_opaque_and_typed(api, org):
    me = (await api.data(ME, token=org.token(org.admin)))["me"]
    assert org.admin.id not in me["id"]
    assert ids.decode(me["id"]) == ("User", org.admin.id)


@pytest.mark.parametrize(
    "bad_id",
    [
        "",
        "not-an-id",
        "%%%",
        base64.urlsafe_b64encode(b"User:123").decode(),
        base64.urlsafe_b64encode(b"no colon here").decode(),
        base64.urlsafe_b64encode(b"\xff\xfe:abc").decode(),
    ],
)
async def test_malformed_id_is_invalid_id(api, org, bad_id):
    body = await api.call(NODE, {"id": bad_id}, token=org.token(org.admin))
    assert error_code(body) == "INVALID_ID"
    assert body["data"] == {"node": None}


async def test_unknown_type_is_not_found(api, org):
    gid = ids.encode("Spaceship", org.admin.id)
    body = await api.call(NODE, {"id": gid}, token=org.token(org.admin))
    assert error_code(body) == "NOT_FOUND"


async def test_foreign_organization_is_not_found_and_reveals_nothing(api, org, foreign_org):
    for gid in (
        ids.encode("User", foreign_org.admin.id),
        ids.encode("Organization", foreign_org.id),
    ):
        body = await api.call(NODE, {"id": gid}, token=org.token(org.admin))
        assert error_code(body) == "NOT_FOUND"
        assert body["data"] == {"node": None}
        assert "Other Clinic" not in str(body)
        assert foreign_org.admin.email not in str(body)


async def test_learner_cannot_see_another_learner(api, org):
    body = await api.call(
        NODE, {"id": ids.encode("User", org.other_learner.id)}, token=org.token(org.learner)
    )
    assert error_code(body) == "NOT_FOUND"
    assert org.other_learner.email not in str(body)


async def test_learner_sees_administrators_and_admin_sees_learners(api, org):
    admin = ids.encode("User", org.admin.id)
    seen = (await api.data(NODE, {"id": admin}, token=org.token(org.learner)))["node"]
    assert seen["role"] == "ADMIN"
    learner = ids.encode("User", org.other_learner.id)
    seen = (await api.data(NODE, {"id": learner}, token=org.token(org.admin)))["node"]
    assert seen["email"] == org.other_learner.email


async def test_node_needs_a_token(api, org):
    body = await api.call(NODE, {"id": ids.encode("User", org.admin.id)})
    assert error_code(body) == "UNAUTHENTICATED"
