from __future__ import annotations

from tests.helpers import gid

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


USERS = """
query($search: String, $role: Role, $all: Boolean, $first: Int, $after: String) {
  users(search: $search, role: $role, includeDeactivated: $all, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { email name role } }
  }
}"""
UPDATE = """mutation($input: UpdateUserInput!) { updateUser(input: $input) {
  user { email name role } userErrors { field code } } }"""


def emails(connection: dict) -> list[str]:
    return [edge["node"]["email"] for edge in connection["edges"]]


async def test_administrators_find_people_by_part_of_a_name_or_email(api, org):
    admin = org.token(org.admin)
    everyone = (await api.data(USERS, {}, token=admin))["users"]
    assert everyone["totalCount"] == 3
    assert emails(everyone) == [org.admin.email, org.learner.email, org.other_learner.email]
    found = (await api.data(USERS, {"search": "OLU"}, token=admin))["users"]
    assert emails(found) == [org.other_learner.email]
    assert emails(
        (await api.data(USERS, {"search": "acmehealth.test", "role": "ADMIN"}, token=admin))[
            "users"
        ]
    ) == [org.admin.email]
    assert (await api.data(USERS, {"search": ".*"}, token=admin))["users"]["totalCount"] == 0

    page = (await api.data(USERS, {"first": 2}, token=admin))["users"]
    rest = await api.data(USERS, {"first": 2, "after": page["pageInfo"]["endCursor"]}, token=admin)
    assert emails(page) + emails(rest["users"]) == emails(everyone)
    other_list = await api.call(
        USERS, {"role": "LEARNER", "after": page["pageInfo"]["endCursor"]}, token=admin
    )
    assert other_list["errors"][0]["extensions"]["code"] == "INVALID_CURSOR"

    deactivate = "mutation($u: ID!) { deactivateUser(input: {user: $u}) { userErrors { code } } }"
    await api.data(deactivate, {"u": gid("User", org.other_learner.id)}, token=admin)
    assert (await api.data(USERS, {}, token=admin))["users"]["totalCount"] == 2
    assert (await api.data(USERS, {"all": True}, token=admin))["users"]["totalCount"] == 3
    learner = await api.call(USERS, {}, token=org.token(org.learner))
    assert learner["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_updating_a_user_and_emails_that_only_look_different(api, org):
    admin = org.token(org.admin)
    lee = gid("User", org.learner.id)
    changed = (
        await api.data(
            UPDATE, {"input": {"user": lee, "name": " Lee  Park ", "role": "ADMIN"}}, token=admin
        )
    )["updateUser"]
    assert changed == {
        "user": {"email": org.learner.email, "name": "Lee Park", "role": "ADMIN"},
        "userErrors": [],
    }
    look_alike = "\uff2f\uff2c\uff35@ACMEHEALTH.TEST"  # full-width, upper case: the same
    taken = await api.data(UPDATE, {"input": {"user": lee, "email": look_alike}}, token=admin)
    assert taken["updateUser"]["userErrors"] == [{"field": "email", "code": "EMAIL_TAKEN"}]
    created = await api.data(
        CREATE_USER,
        {"input": {"email": look_alike, "name": "Twin", "role": "LEARNER"}},
        token=admin,
    )
    assert [(e["field"], e["code"]) for e in created["createUser"]["userErrors"]] == [
        ("email", "EMAIL_TAKEN")
    ]
    wide = "\uff2c\uff45\uff45.Park@Acmehealth.test"
    moved = await api.data(UPDATE, {"input": {"user": lee, "email": wide}}, token=admin)
    assert moved["updateUser"]["user"]["email"] == "lee.park@acmehealth.test"

    own = await api.data(
        UPDATE, {"input": {"user": gid("User", org.admin.id), "role": "LEARNER"}}, token=admin
    )
    assert own["updateUser"]["userErrors"] == [{"field": "role", "code": "OWN_ROLE"}]
    nobody = {"input": {"user": gid("User", "0" * 24), "name": "X"}}
    assert (await api.data(UPDATE, nobody, token=admin))["updateUser"]["userErrors"] == [
        {"field": "user", "code": "NOT_FOUND"}
    ]
    refused = await api.call(
        UPDATE, {"input": {"user": lee, "name": "Me"}}, token=org.token(org.other_learner)
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
