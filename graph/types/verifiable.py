"""A completed cycle exported as a verifiable credential (`resolvers.open_badges`)."""

from __future__ import annotations

from typing import Self, cast

import strawberry
from strawberry.scalars import JSON

from resolvers.open_badges import Exported
from resolvers.signing import MEDIA_TYPE


@strawberry.type(
    description="An Open Badges 3.0 credential (a W3C Verifiable Credential 2.0) for a "
    "completed cycle, signed by the organization: hand `jwt` to a wallet or a verifier, who "
    "checks it at `POST /verify` or against the organization's published keys and status list."
)
class VerifiableCredential:
    jwt: str = strawberry.field(
        description="The credential secured as a VC-JOSE-COSE JWT (EdDSA over Ed25519): its "
        "payload is `credential`, its header's `kid` names the signing key."
    )
    media_type: str = strawberry.field(description="`application/vc+jwt`: how to serve `jwt`.")
    credential: JSON = strawberry.field(
        description="The credential the JWT holds, as JSON: issuer, learner (by a salted hash "
        "of their email), achievement, validity, evidence and revocation status entry."
    )
    key_id: str = strawberry.field(
        description="The `kid` of the organization's key that signed it (its JWKS lists it)."
    )

    @classmethod
    def of(cls, exported: Exported) -> Self:
        return cls(
            jwt=exported.jwt,
            media_type=MEDIA_TYPE,
            credential=cast(JSON, exported.credential),
            key_id=exported.key_id,
        )
