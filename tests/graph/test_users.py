from __future__ import annotations

CREATE_USER = """
mutation Create($input: CreateUserInput!) {
  createUser(input: $input) {
    user { id email name role organization { name } }
    userErrors { field message code }
  }
}
"""


async def count_users(db) -> int:
    return await db.db.users.count_documents({})


async def test_admin_creates_a_learner(api, org):
    payload = (
        await api.data(
            CREATE_USER,
            {"input": {"email": "  New.Person@Acme.TEST ", "name": " New   Person "}},
            token=org.token(org.admin),
        )
    )["createUser"]
    assert payload["userErrors"] == []
    assert payload["user"]["email"] == "new.person@acme.test"
    assert payload["user"]["name"] == "New Person"
    assert payload["user"]["role"] == "LEARNER"
    assert payload["user"]["organization"]["name"] == "Acme Health"


async def test_admin_creates_an_administrator(api, org):
    payload = (
        await api.data(
            CREATE_USER,
            {"input": {"email": "boss@acme.test", "name": "Boss", "role": "ADMIN"}},
            token=org.token(org.admin),
        )
    )["createUser"]
    assert payload["user"]["role"] == "ADMIN"


async def test_learner_may_not_create_users(api, db, org):
    before = await count_users(db)
    body = await api.call(
        CREATE_USER,
        {"input": {"email": "x@acme.test", "name": "X"}},
        token=org.token(org.learner),
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await count_users(db) == before


async def test_duplicate_email_is_a_user_error_and_stores_nothing(api, db, org):
    before = await count_users(db)
    payload = (
        await api.data(
            CREATE_USER,
            {"input": {"email": org.learner.email.upper(), "name": "Twin"}},
            token=org.token(org.admin),
        )
    )["createUser"]
    assert payload["user"] is None
    assert payload["userErrors"] == [
        {
            "field": "email",
            "message": f"{org.learner.email} already belongs to a user here",
            "code": "EMAIL_TAKEN",
        }
    ]
    assert await count_users(db) == before


async def test_same_email_may_exist_in_another_organization(api, org, foreign_org):
    payload = (
        await api.data(
            CREATE_USER,
            {"input": {"email": foreign_org.learner.email, "name": "Namesake"}},
            token=org.token(org.admin),
        )
    )["createUser"]
    assert payload["userErrors"] == []


async def test_invalid_fields_are_user_errors(api, db, org):
    before = await count_users(db)
    cases = [
        ({"email": "not-an-email", "name": "X"}, "email", "INVALID_EMAIL"),
        ({"email": "", "name": "X"}, "email", "REQUIRED"),
        ({"email": "a@b.test", "name": "   "}, "name", "REQUIRED"),
        ({"email": "a@b.test", "name": "n" * 201}, "name", "TOO_LONG"),
        ({"email": "a" * 250 + "@b.test", "name": "X"}, "email", "TOO_LONG"),
    ]
    for fields, field, code in cases:
        payload = (await api.data(CREATE_USER, {"input": fields}, token=org.token(org.admin)))[
            "createUser"
        ]
        assert payload["user"] is None
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(field, code)]
    assert await count_users(db) == before


async def test_unknown_role_is_rejected_before_execution(api, org):
    body = await api.call(
        CREATE_USER,
        {"input": {"email": "a@b.test", "name": "X", "role": "OWNER"}},
        token=org.token(org.admin),
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
