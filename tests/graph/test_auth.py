from __future__ import annotations

from datetime import timedelta

import jwt
import pytest

from resolvers import tokens
from store import users
from tests.helpers import gid

ME = "query { me { email role } }"


def code_of(body: dict) -> str:
    (error,) = body["errors"]
    return error["extensions"]["code"]


async def me_with_header(http, header: str | None) -> dict:
    headers = {"Authorization": header} if header is not None else {}
    response = await http.post("/graphql", json={"query": ME}, headers=headers)
    assert response.status_code == 200
    return response.json()


async def test_me_with_a_valid_token_is_the_caller(api, org):
    data = await api.data(ME, token=org.token(org.admin))
    assert data["me"] == {"email": "admin@acmehealth.test", "role": "ADMIN"}


async def test_me_without_token_is_unauthenticated(http, org):
    body = await me_with_header(http, None)
    assert code_of(body) == "UNAUTHENTICATED"
    assert body["data"] is None


@pytest.mark.parametrize(
    "header",
    ["Basic dXNlcjpwYXNz", "Bearer", "Bearer not.a.jwt", "Bearer " + "x" * 300, "token abc"],
)
async def test_malformed_authorization_is_unauthenticated(http, org, header):
    body = await me_with_header(http, header)
    assert code_of(body) == "UNAUTHENTICATED"
    assert "Traceback" not in str(body)


async def test_token_signed_with_another_secret_is_unauthenticated(http, org, clock):
    forged = tokens.issue(
        org.admin, secret="another-secret-" * 4, ttl=timedelta(days=1), now=clock.now()
    )
    body = await me_with_header(http, f"Bearer {forged}")
    assert code_of(body) == "UNAUTHENTICATED"
    assert "signature" in body["errors"][0]["message"]


async def test_unsigned_token_is_rejected(http, org, clock):
    payload = {"iss": "credgraph", "sub": org.admin.id, "org": org.id, "iat": 0, "exp": 4102444800}
    unsigned = jwt.encode(payload, key=None, algorithm="none")
    body = await me_with_header(http, f"Bearer {unsigned}")
    assert code_of(body) == "UNAUTHENTICATED"


async def test_token_without_expiry_is_rejected(http, org, settings):
    payload = {"iss": "credgraph", "sub": org.admin.id, "org": org.id, "iat": 0}
    token = jwt.encode(payload, settings.secret, algorithm="HS256")
    body = await me_with_header(http, f"Bearer {token}")
    assert code_of(body) == "UNAUTHENTICATED"


async def test_token_expires_after_its_lifetime(api, http, org, clock, settings):
    token = org.token(org.learner)
    clock.advance(settings.token_ttl - timedelta(seconds=1))
    assert (await api.data(ME, token=token))["me"]["role"] == "LEARNER"
    clock.advance(timedelta(seconds=1))
    body = await me_with_header(http, f"Bearer {token}")
    assert code_of(body) == "UNAUTHENTICATED"
    assert "expired" in body["errors"][0]["message"]


DEACTIVATE = """mutation($user: ID!) { deactivateUser(input: {user: $user}) {
  user { email deactivatedAt } userErrors { field code } } }"""
REACTIVATE = """mutation($user: ID!) { reactivateUser(input: {user: $user}) {
  user { deactivatedAt } userErrors { field code } } }"""
REVOKE = """mutation($user: ID!) { revokeUserTokens(input: {user: $user}) {
  user { email } userErrors { field code } } }"""


async def test_a_deactivated_users_token_stops_at_once_and_their_history_stays(
    api, http, org, clock
):
    token, admin = org.token(org.learner), org.token(org.admin)
    learner = {"user": gid("User", org.learner.id)}
    done = (await api.data(DEACTIVATE, learner, token=admin))["deactivateUser"]
    assert done == {
        "user": {"email": org.learner.email, "deactivatedAt": clock.now().isoformat()},
        "userErrors": [],
    }
    body = await me_with_header(http, f"Bearer {token}")
    assert code_of(body) == "UNAUTHENTICATED"
    assert "deactivated" in body["errors"][0]["message"]
    node = "query($user: ID!) { node(id: $user) { ... on User { email deactivatedAt } } }"
    assert (await api.data(node, learner, token=admin))["node"]["deactivatedAt"]

    again = (await api.data(REACTIVATE, learner, token=admin))["reactivateUser"]
    assert again == {"user": {"deactivatedAt": None}, "userErrors": []}
    assert "errors" not in await me_with_header(http, f"Bearer {token}")


async def test_deactivation_is_for_administrators_and_never_of_oneself(api, org):
    admin, learner = org.token(org.admin), org.token(org.learner)
    own = await api.data(DEACTIVATE, {"user": gid("User", org.admin.id)}, token=admin)
    assert own["deactivateUser"]["userErrors"] == [
        {"field": "user", "code": "CANNOT_DEACTIVATE_SELF"}
    ]
    nobody = {"user": gid("User", "0" * 24)}
    missing = (await api.data(DEACTIVATE, nobody, token=admin))["deactivateUser"]
    assert missing["userErrors"] == [{"field": "user", "code": "NOT_FOUND"}]
    other = {"user": gid("User", org.other_learner.id)}
    for document in (DEACTIVATE, REACTIVATE):
        body = await api.call(document, other, token=learner)
        assert code_of(body) == "FORBIDDEN"
    assert "errors" not in await me_with_header(http=api.http, header=f"Bearer {admin}")


async def test_revoking_tokens_signs_a_user_out_everywhere(api, http, db, org, settings, clock):
    first, second = org.token(org.learner), org.token(org.learner)
    mine = {"user": gid("User", org.learner.id)}
    theirs = {"user": gid("User", org.other_learner.id)}
    assert code_of(await api.call(REVOKE, theirs, token=first)) == "FORBIDDEN"
    revoked = (await api.data(REVOKE, mine, token=first))["revokeUserTokens"]
    assert revoked == {"user": {"email": org.learner.email}, "userErrors": []}
    for token in (first, second):
        body = await me_with_header(http, f"Bearer {token}")
        assert code_of(body) == "UNAUTHENTICATED"
        assert "revoked" in body["errors"][0]["message"]
    current = await users.get(db, org_id=org.id, id=org.learner.id)
    fresh = tokens.issue(current, secret=settings.secret, ttl=settings.token_ttl, now=clock.now())
    assert "errors" not in await me_with_header(http, f"Bearer {fresh}")

    other = org.token(org.other_learner)
    assert (await api.data(REVOKE, theirs, token=org.token(org.admin)))["revokeUserTokens"][
        "userErrors"
    ] == []
    assert code_of(await me_with_header(http, f"Bearer {other}")) == "UNAUTHENTICATED"


async def test_token_of_deleted_user_stops_working(http, db, org):
    token = org.token(org.learner)
    await db.db.users.delete_one({"email": org.learner.email})
    body = await me_with_header(http, f"Bearer {token}")
    assert code_of(body) == "UNAUTHENTICATED"


async def test_token_claiming_another_organization_finds_nobody(
    http, org, foreign_org, settings, clock
):
    payload = {
        "iss": "credgraph",
        "sub": org.admin.id,
        "org": foreign_org.id,
        "iat": int(clock.now().timestamp()),
        "exp": int(clock.now().timestamp()) + 3600,
    }
    token = jwt.encode(payload, settings.secret, algorithm="HS256")
    body = await me_with_header(http, f"Bearer {token}")
    assert code_of(body) == "UNAUTHENTICATED"


async def test_introspection_needs_no_token(api):
    data = await api.data("{ __schema { queryType { name } } }")
    assert data["__schema"]["queryType"]["name"] == "Query"
