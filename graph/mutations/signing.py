"""The organization's credential signing key (`resolvers.signing`)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from graph.context import Info
from graph.errors import UserError, attempt
from graph.publishing import links
from resolvers import signing
from store.signing_keys import SigningKey as StoredKey


@strawberry.type(description="One of the organization's keys for signing credentials.")
class SigningKey:
    key_id: str = strawberry.field(
        description="Its `kid`: the RFC 7638 thumbprint that signatures and the JWKS name."
    )
    created_at: datetime
    keys_url: str = strawberry.field(
        description="The organization's public JWKS, where this key and every older one not "
        "revoked stay."
    )
    revoked_at: datetime | None = strawberry.field(
        description="When it was revoked: it left the JWKS, and nothing it signed verifies."
    )


@strawberry.input
class RotateSigningKeyInput:
    reason: str = strawberry.field(description="Why: a routine rotation, a suspected leak …")


@strawberry.type
class RotateSigningKeyPayload:
    signing_key: SigningKey | None = strawberry.field(description="The new current key.")
    user_errors: list[UserError]


@strawberry.input
class RevokeSigningKeyInput:
    key_id: str = strawberry.field(description="The key's `kid`, as its signatures name it.")
    reason: str = strawberry.field(description="Why: a leak, a suspected leak …")


@strawberry.type
class RevokeSigningKeyPayload:
    signing_key: SigningKey | None = strawberry.field(description="The key, revoked.")
    user_errors: list[UserError]


@strawberry.type
class SigningMutations:
    @strawberry.mutation(
        description="Administrators: a new key signs the organization's credentials from now "
        "on; older keys stay published, so what they signed still verifies."
    )
    async def rotate_signing_key(
        self, info: Info, input: RotateSigningKeyInput
    ) -> RotateSigningKeyPayload:
        ctx = info.context
        made, errors = await attempt(
            lambda: signing.rotate(
                ctx.db, ctx.viewer, reason=input.reason, secret=ctx.settings.secret, now=ctx.now
            )
        )
        return RotateSigningKeyPayload(signing_key=_shown(made, info), user_errors=errors)

    @strawberry.mutation(
        description="Administrators: withdraw a key that may have leaked (not the current one: "
        "rotate first). It leaves the JWKS and nothing it signed verifies any more, forged or "
        "genuine; holders of genuine credentials export them again."
    )
    async def revoke_signing_key(
        self, info: Info, input: RevokeSigningKeyInput
    ) -> RevokeSigningKeyPayload:
        ctx = info.context
        revoked, errors = await attempt(
            lambda: signing.revoke(
                ctx.db, ctx.viewer, key_id=input.key_id, reason=input.reason, now=ctx.now
            )
        )
        return RevokeSigningKeyPayload(signing_key=_shown(revoked, info), user_errors=errors)


def _shown(key: StoredKey | None, info: Info) -> SigningKey | None:
    if key is None:
        return None
    url = links(info.context.settings).keys(key.org_id)
    return SigningKey(
        key_id=key.kid, created_at=key.created_at, keys_url=url, revoked_at=key.revoked_at
    )
