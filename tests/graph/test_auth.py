from __future__ import annotations

from datetime import timedelta

import jwt
import pytest

from resolvers import tokens
from store import users

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


async def test_token_of_disabled_user_stops_working(http, db, org, clock):
    token = org.token(org.learner)
    assert await users.disable(db, org_id=org.id, id=org.learner.id, now=clock.now())
    body = await me_with_header(http, f"Bearer {token}")
    assert code_of(body) == "UNAUTHENTICATED"


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
