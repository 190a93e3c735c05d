"""Single sign-on's provisioning under concurrency, below HTTP (whose requests arrive too
staggered to race): first sign-ins at once make one user."""

from __future__ import annotations

import asyncio

from resolvers import organizations
from resolvers.sso import Issuers
from store import users
from tests.issuer import LocalIssuer


async def test_concurrent_first_sign_ins_make_one_learner(db, org, clock):
    with LocalIssuer.running() as issuer:
        kid = issuer.add_key("EC")
        await organizations.configure_single_sign_on(
            db,
            org.as_admin,
            issuer=issuer.url,
            audience="app",
            create_users=True,
            now=clock.now(),
        )
        signing_in = Issuers()
        claims = issuer.claims("lee@acmehealth.test", "app", clock.now())
        await signing_in.sign_in(db, issuer.token(kid, claims), issuer.url, now=clock.now())

        token = issuer.token(kid, issuer.claims("new@acmehealth.test", "app", clock.now()))
        signed_in = await asyncio.gather(
            *(signing_in.sign_in(db, token, issuer.url, now=clock.now()) for _ in range(8))
        )
    assert len({user.id for user, _ in signed_in}) == 1
    (made,) = await users.find_by_email(db, email="new@acmehealth.test", org_id=org.id)
    assert (made.role, made.name) == (users.Role.LEARNER, "new@acmehealth.test")
