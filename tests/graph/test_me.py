from __future__ import annotations

ME = "query { me { id email name role organization { id name } } }"


async def test_me_returns_the_caller(api, org):
    data = await api.data(ME, token=org.token(org.learner))
    assert data["me"]["email"] == "lee@acmehealth.test"
    assert data["me"]["role"] == "LEARNER"
    assert data["me"]["organization"]["name"] == "Acme Health"
