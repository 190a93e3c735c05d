"""Single sign-on through a real OpenID Connect issuer on loopback (`tests.issuer`): its tokens
sign people in over real HTTP requests to the app, and everything a token can get wrong, or an
issuer can, is refused with `UNAUTHENTICATED`."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta

import httpx
import jwt
import pytest

from resolvers.jwks import LIFETIME, REFRESH_INTERVAL
from resolvers.sso import Issuers
from tests.helpers import gid
from tests.issuer import JWKS, LocalIssuer, silent_issuer
from tests.servers import free_port

ME = "query { me { email name role organization { name } } }"

CONFIGURE = """
mutation($input: ConfigureSingleSignOnInput!) {
  configureSingleSignOn(input: $input) {
    organization { name singleSignOn { issuer audience createUsersOnFirstSignIn } }
    userErrors { field message code }
  }
}"""

REMOVE = """
mutation($issuer: String!) { removeSingleSignOn(input: {issuer: $issuer}) {
  organization { singleSignOn { issuer } } userErrors { field message code }
} }"""

USERS = "query($search: String) { users(search: $search) { totalCount edges { node { role } } } }"


@pytest.fixture
def issuer():
    with LocalIssuer.running() as running:
        yield running


async def configure(api, org, issuer_url: str, audience: str = "credgraph-app", **extra) -> dict:
    fields = {"issuer": issuer_url, "audience": audience, **extra}
    body = await api.data(CONFIGURE, {"input": fields}, token=org.token(org.admin))
    return body["configureSingleSignOn"]


async def me(api, token: str) -> dict:
    """The caller's `me`, or the one error saying why there is none."""
    body = await api.call(ME, token=token)
    if "errors" in body:
        (error,) = body["errors"]
        return {"code": error["extensions"]["code"], "message": error["message"]}
    return body["data"]["me"]


@pytest.fixture
async def kid(api, org, issuer) -> str:
    """The issuer has one RSA key and the organization signs in with it."""
    made = issuer.add_key("RSA")
    assert (await configure(api, org, issuer.url))["userErrors"] == []
    return made


async def test_a_token_of_the_organizations_issuer_signs_its_user_in(api, org, issuer, kid, clock):
    token = issuer.token(kid, issuer.claims("lee@acmehealth.test", "credgraph-app", clock.now()))
    found = await me(api, token)
    assert found == {
        "email": "lee@acmehealth.test",
        "name": "Lee Learner",
        "role": "LEARNER",
        "organization": {"name": "Acme Health"},
    }


async def test_an_es256_token_signs_in_and_the_email_is_normalised(api, org, issuer, kid, clock):
    ec_kid = issuer.add_key("EC")
    claims = issuer.claims("ADMIN@AcmeHealth.test", "credgraph-app", clock.now())
    assert (await me(api, issuer.token(ec_kid, claims)))["role"] == "ADMIN"
    assert (await me(api, issuer.token(kid, claims)))["role"] == "ADMIN"
    assert issuer.requests[JWKS] == 1


async def test_a_key_rotation_is_survived(api, org, issuer, kid, clock):
    def signed(key: str) -> str:
        return issuer.token(key, issuer.claims("lee@acmehealth.test", "credgraph-app", clock.now()))

    assert (await me(api, signed(kid)))["email"] == "lee@acmehealth.test"
    assert issuer.requests[JWKS] == 1

    # The provider publishes a new key and signs with it: one fetch of the key set takes it in.
    new = issuer.add_key("EC")
    clock.advance(REFRESH_INTERVAL)
    old_token, new_token = signed(kid), signed(new)
    assert (await me(api, new_token))["email"] == "lee@acmehealth.test"
    assert (await me(api, old_token))["email"] == "lee@acmehealth.test"
    assert issuer.requests[JWKS] == 2

    # It withdraws the old key: once the kept key set has aged out, the old key's tokens fail.
    issuer.remove_key(kid)
    clock.advance(LIFETIME)
    refused = await me(api, signed(kid))
    assert refused["code"] == "UNAUTHENTICATED"
    assert "no signing key" in refused["message"]
    assert (await me(api, signed(new)))["email"] == "lee@acmehealth.test"
    assert issuer.requests[JWKS] == 3


async def test_a_flood_of_unknown_key_ids_fetches_the_key_set_at_most_once(
    api, org, issuer, kid, clock
):
    claims = issuer.claims("lee@acmehealth.test", "credgraph-app", clock.now())
    assert (await me(api, issuer.token(kid, claims)))["role"] == "LEARNER"
    tokens = [issuer.token(issuer.add_key("EC", publish=False), claims) for _ in range(30)]

    answers = await asyncio.gather(*(me(api, token) for token in tokens))  # within the window
    assert {a["code"] for a in answers} == {"UNAUTHENTICATED"}
    assert issuer.requests[JWKS] == 1

    clock.advance(REFRESH_INTERVAL)  # a new window: the flood makes one fetch between them all
    answers = await asyncio.gather(*(me(api, token) for token in tokens))
    assert {a["code"] for a in answers} == {"UNAUTHENTICATED"}
    assert issuer.requests[JWKS] == 2
    assert (await me(api, issuer.token(kid, claims)))["role"] == "LEARNER"  # still served


async def test_an_expired_token_is_refused_after_a_minute_of_leeway(api, org, issuer, kid, clock):
    claims = issuer.claims("lee@acmehealth.test", "credgraph-app", clock.now())
    token = issuer.token(kid, claims)
    clock.advance(timedelta(hours=1, seconds=59))
    assert (await me(api, token))["role"] == "LEARNER"
    clock.advance(timedelta(seconds=1))
    refused = await me(api, token)
    assert refused["code"] == "UNAUTHENTICATED"
    assert "expired" in refused["message"]


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"nbf": 120}, "not valid yet"),
        ({"iat": 120}, "issued in the future"),
        ({"exp": None}, "exp"),
        ({"email": None}, "email"),
        ({"email_verified": False}, "not verified"),
        ({"aud": "another-app"}, "audience"),
        ({"aud": ["another-app", "and-another"]}, "audience"),
    ],
)
async def test_a_token_with_a_bad_claim_is_refused(api, org, issuer, kid, clock, changes, fragment):
    claims = issuer.claims("lee@acmehealth.test", "credgraph-app", clock.now())
    start = int(clock.now().timestamp())
    for name, value in changes.items():
        if value is None:
            del claims[name]
        else:
            claims[name] = start + value if name in ("nbf", "iat") else value
    refused = await me(api, issuer.token(kid, claims))
    assert refused["code"] == "UNAUTHENTICATED"
    assert fragment in refused["message"]


async def test_a_token_of_another_issuer_is_refused_without_asking_it(api, org, issuer, kid, clock):
    with LocalIssuer.running() as stranger:
        stranger_kid = stranger.add_key("RSA")
        claims = stranger.claims("lee@acmehealth.test", "credgraph-app", clock.now())
        refused = await me(api, stranger.token(stranger_kid, claims))
        assert refused["code"] == "UNAUTHENTICATED"
        assert stranger.requests.total() == 0

        # Claiming to be the organization's issuer, with a key of the same id: the signature.
        stranger.keys[kid] = stranger.keys[stranger_kid]
        claims["iss"] = issuer.url
        refused = await me(api, stranger.token(kid, claims))
        assert refused["code"] == "UNAUTHENTICATED"
        assert "signature" in refused["message"]


async def test_an_issuer_whose_discovery_names_another_is_not_trusted(
    api, org, issuer, clock, caplog
):
    kid = issuer.add_key("RSA")
    configured = issuer.url + "/"  # its discovery document says `issuer.url`: not the same
    await configure(api, org, configured)
    claims = issuer.claims("lee@acmehealth.test", "credgraph-app", clock.now(), iss=configured)
    refused = await me(api, issuer.token(kid, claims))
    assert refused["code"] == "UNAUTHENTICATED"
    assert "could not be fetched" in refused["message"]  # why is the log's, not the caller's
    assert "names another issuer" in caplog.text
    assert "names another issuer" not in refused["message"]
    assert issuer.requests[JWKS] == 0


async def test_unsigned_and_confused_algorithms_are_refused(api, org, issuer, kid, clock):
    ec_kid = issuer.add_key("EC")
    claims = issuer.claims("lee@acmehealth.test", "credgraph-app", clock.now())
    forged = {
        "none": jwt.encode(claims, None, algorithm="none", headers={"kid": kid}),
        "HS256 keyed with the public key": issuer.hs256_with_public_key(kid, claims),
        "RS256 header, EC key": issuer.signed_as("RS256", ec_kid, claims),
        "ES256 header, RSA key": issuer.signed_as("ES256", kid, claims),
    }
    clock.advance(REFRESH_INTERVAL)
    for what, token in forged.items():
        refused = await me(api, token)
        assert refused["code"] == "UNAUTHENTICATED", what
    assert (await me(api, issuer.token(ec_kid, claims)))["role"] == "LEARNER"


async def test_organizations_sharing_an_issuer_are_told_apart_by_audience(
    api, org, foreign_org, issuer, kid, clock
):
    assert (await configure(api, foreign_org, issuer.url, "clinic-app"))["userErrors"] == []
    now = clock.now()

    def signed(email: str, audience: str | list[str]) -> str:
        return issuer.token(kid, issuer.claims(email, audience, now))

    acme = await me(api, signed("lee@acmehealth.test", "credgraph-app"))
    assert acme["organization"] == {"name": "Acme Health"}
    clinic = await me(api, signed("lee@otherclinic.test", "clinic-app"))
    assert clinic["organization"] == {"name": "Other Clinic"}
    # Acme's token with a clinic user's email, the clinic's with Acme's: no one's.
    assert (await me(api, signed("lee@otherclinic.test", "credgraph-app")))["code"] == (
        "UNAUTHENTICATED"
    )
    assert (await me(api, signed("lee@acmehealth.test", "clinic-app")))["code"] == (
        "UNAUTHENTICATED"
    )
    both = await me(api, signed("lee@acmehealth.test", ["credgraph-app", "clinic-app"]))
    assert both["code"] == "UNAUTHENTICATED"

    taken = await configure(api, foreign_org, issuer.url, "credgraph-app")
    assert [e["code"] for e in taken["userErrors"]] == ["SINGLE_SIGN_ON_TAKEN"]


async def test_a_deactivated_user_is_refused(api, org, issuer, kid, clock):
    token = issuer.token(kid, issuer.claims("lee@acmehealth.test", "credgraph-app", clock.now()))
    deactivate = "mutation($u: ID!) { deactivateUser(input: {user: $u}) { userErrors { code } } }"
    await api.data(deactivate, {"u": gid("User", org.learner.id)}, token=org.token(org.admin))
    refused = await me(api, token)
    assert refused["code"] == "UNAUTHENTICATED"
    assert "deactivated" in refused["message"]


async def test_an_unknown_email_is_refused_unless_the_organization_provisions(
    api, org, issuer, kid, clock
):
    claims = issuer.claims("new@acmehealth.test", "credgraph-app", clock.now(), name="Nia New")
    refused = await me(api, issuer.token(kid, claims))
    assert refused["code"] == "UNAUTHENTICATED"
    assert "no user here" in refused["message"]

    await configure(api, org, issuer.url, createUsersOnFirstSignIn=True)
    for _ in range(2):  # made on the first sign-in, found on the next
        signed_in = await me(api, issuer.token(kid, claims))
        assert (signed_in["email"], signed_in["name"], signed_in["role"]) == (
            "new@acmehealth.test",
            "Nia New",
            "LEARNER",
        )
    found = await api.data(USERS, {"search": "new@"}, token=org.token(org.admin))
    assert found["users"]["totalCount"] == 1

    nameless = issuer.claims("Quiet@AcmeHealth.test", "credgraph-app", clock.now())
    assert (await me(api, issuer.token(kid, nameless)))["name"] == "quiet@acmehealth.test"


async def test_an_issuer_that_is_down_is_unauthenticated_at_once(api, org, clock):
    down = f"http://127.0.0.1:{free_port()}"
    await configure(api, org, down)
    with LocalIssuer.running() as impostor:  # signs as the down issuer would
        kid = impostor.add_key("RSA")
        token = impostor.token(
            kid,
            impostor.claims("lee@acmehealth.test", "credgraph-app", clock.now()) | {"iss": down},
        )
    started = time.monotonic()
    refused = await me(api, token)
    assert refused["code"] == "UNAUTHENTICATED"
    assert "could not be fetched" in refused["message"]
    assert time.monotonic() - started < 2


async def test_a_silent_issuer_keeps_no_one_waiting_for_long(api, app, org, clock):
    app.state.issuers = Issuers(timeout=0.5)
    with silent_issuer() as silent, LocalIssuer.running() as impostor:
        await configure(api, org, silent)
        kid = impostor.add_key("RSA")
        claims = impostor.claims("lee@acmehealth.test", "credgraph-app", clock.now())
        token = impostor.token(kid, claims | {"iss": silent})
        started = time.monotonic()
        waiting, own = await asyncio.gather(me(api, token), me(api, org.token(org.learner)))
        assert own["role"] == "LEARNER"
        assert waiting["code"] == "UNAUTHENTICATED"
        assert "could not be fetched" in waiting["message"]
        assert time.monotonic() - started < 3
        started = time.monotonic()  # and it is not asked again at once
        assert (await me(api, token))["code"] == "UNAUTHENTICATED"
        assert time.monotonic() - started < 0.4


async def test_administrators_configure_and_remove_single_sign_on(api, org, issuer, kid, clock):
    shown = "{ me { organization { singleSignOn { issuer audience createUsersOnFirstSignIn } } } }"
    admin_sees = await api.data(shown, token=org.token(org.admin))
    assert admin_sees["me"]["organization"]["singleSignOn"] == {
        "issuer": issuer.url,
        "audience": "credgraph-app",
        "createUsersOnFirstSignIn": False,
    }
    learner_sees = await api.data(shown, token=org.token(org.learner))
    assert learner_sees["me"]["organization"]["singleSignOn"] is None
    forbidden = await api.call(REMOVE, {"issuer": issuer.url}, token=org.token(org.learner))
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    token = issuer.token(kid, issuer.claims("lee@acmehealth.test", "credgraph-app", clock.now()))
    assert (await me(api, token))["role"] == "LEARNER"
    admin = org.token(org.admin)
    other = await api.data(REMOVE, {"issuer": "https://other.test"}, token=admin)
    assert [e["code"] for e in other["removeSingleSignOn"]["userErrors"]] == ["NOT_FOUND"]
    assert (await me(api, token))["role"] == "LEARNER"
    removed = (await api.data(REMOVE, {"issuer": issuer.url}, token=admin))["removeSingleSignOn"]
    assert removed == {"organization": {"singleSignOn": None}, "userErrors": []}
    assert (await me(api, token))["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"issuer": "http://idp.example.com"}, "INVALID_ISSUER", "issuer"),
        ({"issuer": "ftp://127.0.0.1/idp"}, "INVALID_ISSUER", "issuer"),
        ({"issuer": "https://idp.example.com/?tenant=1"}, "INVALID_ISSUER", "issuer"),
        ({"issuer": "https://user:pw@idp.example.com"}, "INVALID_ISSUER", "issuer"),
        ({"issuer": "credgraph"}, "INVALID_ISSUER", "issuer"),
        ({"issuer": "  "}, "REQUIRED", "issuer"),
        ({"issuer": "https://idp.example.com/" + "x" * 500}, "TOO_LONG", "issuer"),
        ({"audience": ""}, "REQUIRED", "audience"),
        ({"audience": "x" * 501}, "TOO_LONG", "audience"),
    ],
)
async def test_bad_single_sign_on_input_is_refused(api, org, fields, code, field):
    payload = await configure(api, org, "https://idp.example.com", **fields)
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [(code, field)]
    shown = "{ me { organization { singleSignOn { issuer } } } }"
    assert (await api.data(shown, token=org.token(org.admin)))["me"]["organization"] == {
        "singleSignOn": None
    }


async def test_an_https_issuer_and_a_local_one_are_accepted(api, org):
    for url in ("https://login.example.com/tenant-1/v2.0", "http://localhost:8080/realms/x"):
        payload = await configure(api, org, url, audience=str(uuid.uuid4()))
        assert payload["organization"]["singleSignOn"]["issuer"] == url


async def test_the_documents_route_accepts_a_single_sign_on_token(http, org, issuer, kid, clock):
    token = issuer.token(kid, issuer.claims("lee@acmehealth.test", "credgraph-app", clock.now()))
    missing = gid("TrainingRecord", "0" * 24)
    signed_in = await http.get(
        f"/documents/{missing}", headers={"Authorization": f"Bearer {token}"}
    )
    assert signed_in.status_code == 404
    clock.advance(timedelta(hours=2))
    expired = await http.get(f"/documents/{missing}", headers={"Authorization": f"Bearer {token}"})
    assert expired.status_code == 401


async def test_a_slow_provider_does_not_take_the_servers_slots(api, org, clock, start_app):
    """Requests waiting for an organization's provider wait outside the server's admission:
    with two slots, a flood of tokens of a silent issuer leaves another organization's (or
    anyone's) request its slot, where it would otherwise be refused 503 after waiting."""
    async with start_app(max_concurrent=2, max_waiting=20, db_timeout=1.0) as started:
        started.app.state.issuers = Issuers(timeout=2.0)
        with silent_issuer() as silent, LocalIssuer.running() as impostor:
            await configure(api, org, silent)
            kid = impostor.add_key("RSA")
            claims = impostor.claims("lee@acmehealth.test", "credgraph-app", clock.now())
            token = impostor.token(kid, claims | {"iss": silent})

            async def ask(bearer: str) -> httpx.Response:
                return await started.http.post(
                    "/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {bearer}"}
                )

            flood = [asyncio.create_task(ask(token)) for _ in range(6)]
            await asyncio.sleep(0.2)
            own = await ask(org.token(org.learner))
            assert own.status_code == 200, own.text
            assert own.json()["data"]["me"]["role"] == "LEARNER"
            for answered in await asyncio.gather(*flood):
                assert answered.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    "issuer",
    [
        "https://169.254.169.254/",
        "https://10.0.0.1/idp",
        "https://[fe80::1]/idp",
        "https://192.168.1.10",
        "https://exa mple.com",
        "https://example.com\n/x",
        "https://example.com\u0000",
    ],
)
async def test_an_issuer_on_a_private_network_or_garbled_is_refused(api, org, issuer):
    payload = await configure(api, org, issuer)
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("INVALID_ISSUER", "issuer")
    ]


async def test_signing_in_costs_two_reads_beside_a_credgraph_tokens(
    api, org, issuer, kid, clock, commands
):
    """The organization by its issuer (its data version with it) and the user by email; the
    keys, once fetched, are held. A credgraph token's caller costs two reads as well."""
    token = issuer.token(kid, issuer.claims("lee@acmehealth.test", "credgraph-app", clock.now()))
    await me(api, token)  # the keys fetched
    query = "{ me { email } }"
    for bearer in (token, org.token(org.learner)):
        commands.targets.clear()
        await api.data(query, token=bearer)
        assert len(commands.targets) == 2, commands.targets
